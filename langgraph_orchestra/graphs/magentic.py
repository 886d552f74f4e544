"""`create_magentic`: a manager plans, steers each round with ledgers, and answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

from langgraph_orchestra.agents import Agent, check_team
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.context import ContextPolicy, follow_up_context, resolve_context
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.graphs._common import (
    check_flag,
    check_max_revisions,
    check_termination,
    check_validators,
    check_whole,
    finish_graph,
    governed,
    new_builder,
)
from langgraph_orchestra.names import MANAGER, START_RUN
from langgraph_orchestra.nodes.completion import Action
from langgraph_orchestra.nodes.finalize import FinalizeNode
from langgraph_orchestra.nodes.ledgers import (
    PLAN,
    REVIEW_PLAN,
    Manager,
    PlanNode,
    PlanReviewNode,
    ProgressNode,
    since_reset,
)
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.nodes.wiring import add_agents
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.redaction import Redact
from langgraph_orchestra.resilience import ModelLike, resilient_model
from langgraph_orchestra.state.schemas import MagenticState, check_state_schema
from langgraph_orchestra.tracing import ModelPrice, merge_prices

__all__ = ["create_magentic"]

PATTERN = "magentic"


def create_magentic(
    agents: Sequence[Agent],
    *,
    manager_model: ModelLike,
    max_rounds: int = 20,
    max_stalls: int = 3,
    max_resets: int = 2,
    plan_review: bool = False,
    termination: Condition | None = None,
    final_answer: bool = True,
    context: ContextPolicy = "last",
    validators: Mapping[str, Validator | Sequence[Validator]] | None = None,
    max_revisions: int = 3,
    validate_human: bool = True,
    max_retries: int = 3,
    state_schema: type[Any] | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
    prompts: Prompts = DEFAULT_PROMPTS,
    redact: Redact = None,
    redact_agents: bool = False,
    on_end: Sequence[Action] | None = None,
) -> StateGraph[Any, Any, Any, Any]:
    """Build a magentic team: a manager with a task ledger and a progress ledger.

    The manager first writes the task ledger (facts given, to look up, to derive,
    educated guesses, a plan). Every round it writes a progress ledger (satisfied? in a
    loop? progress? who acts next, with what instruction?) and gives the floor: the
    instruction enters the transcript as the manager's message and is what the agent
    answers. No progress or a loop counts a stall; at `max_stalls` the manager replans
    with the full history, then resets the agents' context (they see the task and what
    comes after); `max_resets` bounds the resets. The run ends when the request is
    satisfied, or at a bound (`max_rounds`, `stalled`, `termination`) with the best
    partial answer: the manager's final synthesis from what exists (`final_answer`),
    or the latest real output. Ledgers re-asked when invalid; a progress ledger that
    stays invalid counts as a stall and the manager replans instead of crashing. The
    manager's calls count in `usage` as `manager`; ledgers, replans, resets and the
    synthesis are audit records and `custom` stream events.

    Args:
        agents: The participants.
        manager_model: The manager's chat model (or a `"provider:model"` string, or a
            `Resilient` model with fallbacks and a circuit breaker).
        max_rounds: The hard bound on agent turns.
        max_stalls: Stalled rounds in a row before the manager replans and resets.
        max_resets: Resets allowed before the run ends as `stalled`.
        plan_review: Interrupt with the plan (`PlanReviewRequest`) for a person to
            approve, edit or reject it (the manager replans, up to `max_revisions`).
        termination: A condition that ends the run.
        final_answer: Whether the manager writes the final answer (else the latest
            agent output is `final`).
        context: Default context policy for agents that set none (`"last"`: the task
            and the manager's instruction).
        validators: Output checks per agent name.
        max_revisions: Plan rejections (and output revisions at gates) allowed.
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, a supplied output); `False` trusts the reviewers.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `MagenticState`.
        prices: Extra model prices for cost accounting.
        prompts: Prompt templates (`magentic_*`).
        redact: Clears personal data and secrets from what leaves the run: audit
            details and exception records (`"default"`, a `Redactor(...)` or a callable
            `str -> str`; see `redaction`).
        redact_agents: Agents, managers and selectors read the transcript redacted too.
        on_end: Completion actions `state -> None` (sync or async), run once when a run
            ends, whatever its stop reason (see `nodes.completion`).

    Returns:
        The uncompiled graph.

    Raises:
        TeamConfigError: On an invalid team or argument, before any model call.

    Example:
        ```python
        team = create_magentic(
            [Agent("researcher", "Finds facts", model=m1),
             Agent("analyst", "Works numbers out", model=m2)],
            manager_model=m3, max_rounds=12,
        ).compile()
        result = team.invoke({"messages": [("user", "Estimate the EV market in Spain")]})
        ```
    """
    team = check_team(agents, pattern=PATTERN)
    names = [a.name for a in team]
    if manager_model is None:
        raise TeamConfigError("magentic needs manager_model: the chat model that leads the team")
    check_whole(max_rounds, "max_rounds", minimum=1)
    check_whole(max_stalls, "max_stalls", minimum=1)
    check_whole(max_resets, "max_resets", minimum=0)
    for flag, value in (("plan_review", plan_review), ("final_answer", final_answer)):
        if not isinstance(value, bool):
            raise TeamConfigError(f"{flag} must be True or False, got {value!r}")
    checks = check_validators(validators, names)
    check_max_revisions(max_revisions)
    check_flag(validate_human, "validate_human")
    check_whole(max_retries, "max_retries", minimum=0)
    condition = check_termination(termination, pattern=PATTERN)
    schema = check_state_schema(state_schema, MagenticState, pattern=PATTERN)
    view = resolve_context(context, owner=PATTERN)
    price_table = merge_prices(prices)
    stop = Termination(condition, max_rounds=max_rounds, speakers=names)
    manager = Manager(
        resilient_model(manager_model, owner="magentic manager_model"),
        team={a.name: a.description for a in team},
        view=resolve_context("full", owner=PATTERN),
        pattern=PATTERN,
        prices=price_table,
        prompts=prompts,
    )

    routes = [
        Route(
            prompts=prompts,
            agent=agent,
            node=agent.name,
            next=MANAGER,
            view=since_reset(resolve_context(agent.context) if agent.context else view),
            follow_up=follow_up_context(agent.context if agent.context is not None else context),
        )
        for agent in team
    ]
    entries = {r.agent.name: r.entry for r in routes}
    after_plan = REVIEW_PLAN if plan_review else MANAGER
    builder = new_builder(schema, agents=team, pattern=PATTERN)
    builder.add_node(
        START_RUN,
        PlanNode(manager, begins=True, after=after_plan),
        metadata={"pattern": PATTERN, "agent": MANAGER},
        destinations=(after_plan, END),
    )
    if plan_review:
        builder.add_node(
            PLAN,
            PlanNode(manager, begins=False, after=REVIEW_PLAN),
            metadata={"pattern": PATTERN, "agent": MANAGER},
            destinations=(REVIEW_PLAN, END),
        )
        builder.add_node(
            REVIEW_PLAN,
            PlanReviewNode(max_revisions=max_revisions, termination=stop),
            metadata={"pattern": PATTERN, "agent": MANAGER},
            destinations=(MANAGER, PLAN, END),
        )
    builder.add_node(
        MANAGER,
        ProgressNode(
            manager,
            entries=entries,
            termination=stop,
            max_stalls=max_stalls,
            max_resets=max_resets,
            final_answer=final_answer,
        ),
        metadata={"pattern": PATTERN, "agent": MANAGER},
        destinations=(*entries.values(), MANAGER, END),
    )
    add_agents(
        builder,
        routes,
        pattern=PATTERN,
        prices=price_table,
        prompts=prompts,
        max_revisions=max_revisions,
        validators=checks,
        validate_human=validate_human,
        max_retries=max_retries,
    )
    builder.add_edge(START, START_RUN)
    return finish_graph(
        builder,
        pattern=PATTERN,
        redact=redact,
        redact_agents=redact_agents,
        on_end=on_end,
        finalize=FinalizeNode(names) if governed(team) else None,
    )
