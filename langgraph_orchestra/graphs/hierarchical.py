"""`create_hierarchical`: a manager delegates tasks to workers (or whole teams) and answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

from langgraph_orchestra.agents import Agent, check_team
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.context import follow_up_context, resolve_context
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.graphs._common import (
    check_flag,
    check_max_revisions,
    check_termination,
    check_validators,
    check_whole,
    finish_graph,
    new_builder,
)
from langgraph_orchestra.names import FANOUT, MANAGER, START_RUN
from langgraph_orchestra.nodes.completion import Action
from langgraph_orchestra.nodes.delegation import (
    JOIN,
    DelegatingManager,
    DelegationJoin,
    delegated_view,
)
from langgraph_orchestra.nodes.fanout import FanOutNode, hold_turn
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.nodes.wiring import add_agents
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.redaction import Redact
from langgraph_orchestra.resilience import ModelLike, resilient_model
from langgraph_orchestra.state.schemas import HierarchicalState, check_state_schema
from langgraph_orchestra.tracing import ModelPrice, merge_prices

__all__ = ["create_hierarchical"]

PATTERN = "hierarchical"


def _delegated(state: Mapping[str, Any]) -> list[str]:
    return list(state.get("delegations") or ())


def create_hierarchical(
    workers: Sequence[Agent],
    *,
    manager_model: ModelLike,
    brief: str | None = None,
    instructions: str | None = None,
    max_rounds: int = 10,
    review: bool = True,
    termination: Condition | None = None,
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
    """Build a hierarchical team: a manager delegates with tools; workers run in parallel.

    The manager's model has one `delegate_to_<worker>` tool per worker, each taking a
    task. A worker sees only its task and the team's `brief` (context isolation); its
    answer comes back as that tool call's result. Several delegations in one manager
    message run concurrently, and every one of them reaches the manager (one task per
    worker per message: a second one, or an unknown worker, gets an error result at
    once). The manager reviews the results and may delegate again (`review=True`,
    bounded by `max_rounds` manager rounds), or answers without delegating: that answer
    is `final`. A worker may be a whole team: `Agent("research", runnable=team.compile())`
    (its interrupts reach the top and resume from there; its usage is counted as
    `research/<member>`). The manager's calls count in `usage` as `manager`.

    Args:
        workers: The workers (agents or compiled teams wrapped as agents).
        manager_model: The manager's chat model (or a `"provider:model"` string, or a
            `Resilient` model with fallbacks and a circuit breaker).
        brief: Shared context every worker sees before its task.
        instructions: The manager's system prompt (default: `prompts.manager` with the
            team's list).
        max_rounds: Delegation rounds the manager may make.
        review: Whether the manager may delegate again after seeing results (else it
            answers after the first round).
        termination: A condition that ends the run.
        validators: Output checks per worker name.
        max_revisions: Revisions a human reviewer may ask per output (approval gates).
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, a supplied output); `False` trusts the reviewers.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `HierarchicalState`.
        prices: Extra model prices for cost accounting.
        prompts: Prompt templates (`manager`, `delegate_tool`, `brief`).
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
        team = create_hierarchical(
            [Agent("researcher", "Finds sources", model=m1),
             Agent("writer", "Writes sections", model=m2)],
            manager_model=m3, brief="Audience: CFOs; keep it short.",
        ).compile()
        ```
    """
    team = check_team(workers, pattern=PATTERN)
    names = [a.name for a in team]
    if manager_model is None:
        raise TeamConfigError(
            "hierarchical needs manager_model: the chat model that delegates and answers"
        )
    check_whole(max_rounds, "max_rounds", minimum=1)
    if not isinstance(review, bool):
        raise TeamConfigError(f"review must be True or False, got {review!r}")
    if brief is not None and not isinstance(brief, str):
        raise TeamConfigError(f"brief must be a string, got {type(brief).__name__}")
    checks = check_validators(validators, names)
    check_max_revisions(max_revisions)
    check_flag(validate_human, "validate_human")
    check_whole(max_retries, "max_retries", minimum=0)
    condition = check_termination(termination, pattern=PATTERN)
    schema = check_state_schema(state_schema, HierarchicalState, pattern=PATTERN)
    price_table = merge_prices(prices)
    stop = Termination(condition, max_rounds=max_rounds, speakers=[MANAGER, *names])
    model = resilient_model(manager_model, owner="hierarchical manager_model")
    view = delegated_view(brief, prompts)

    routes = [
        Route(
            prompts=prompts,
            agent=agent,
            node=agent.name,
            next=JOIN,
            stop=JOIN,
            # A worker's own context= replaces the task view (it is asked for explicitly).
            view=resolve_context(agent.context) if agent.context is not None else view,
            follow_up=follow_up_context(agent.context if agent.context is not None else "last"),
            results=True,
            write=None if agent.approves_after else hold_turn,
        )
        for agent in team
    ]
    builder = new_builder(schema, agents=team, pattern=PATTERN, one_owner=True)
    for begins in (True, False):
        builder.add_node(
            START_RUN if begins else MANAGER,
            DelegatingManager(
                model,
                team,
                termination=stop,
                review=review,
                pattern=PATTERN,
                prices=price_table,
                instructions=instructions,
                prompts=prompts,
                begins=begins,
            ),
            metadata={"pattern": PATTERN, "agent": MANAGER},
            destinations=(FANOUT, MANAGER, END),
        )
    builder.add_node(
        FANOUT,
        FanOutNode(
            routes,
            max_concurrency=None,
            first=True,
            select=_delegated,
            join=JOIN,
            pattern=PATTERN,
            prices=price_table,
        ),
        metadata={"pattern": PATTERN},
        destinations=(*(r.entry for r in routes), JOIN),
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
    builder.add_node(
        JOIN,
        DelegationJoin(stop),
        defer=True,
        metadata={"pattern": PATTERN},
        destinations=(MANAGER, END),
    )
    builder.add_edge(START, START_RUN)
    return finish_graph(
        builder, pattern=PATTERN, redact=redact, redact_agents=redact_agents, on_end=on_end
    )
