"""`create_handoff`: agents pass control to each other with transfer tools."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph

from langgraph_orchestra.agents import Agent, AgentRunner, check_team
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
from langgraph_orchestra.names import HANDOFF, START_RUN
from langgraph_orchestra.nodes.completion import Action
from langgraph_orchestra.nodes.finalize import FinalizeNode
from langgraph_orchestra.nodes.handoff import HandoffNode, HandoffTools, Router, handoff_view
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.nodes.wiring import add_agents
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.redaction import Redact
from langgraph_orchestra.state.schemas import HandoffState, check_state_schema
from langgraph_orchestra.tracing import ModelPrice, merge_prices

__all__ = ["create_handoff"]

PATTERN = "handoff"

_ON_LIMIT = ("escalate", "end")


def _check_handoffs(
    handoffs: Literal["all"] | Mapping[str, Sequence[str]], names: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    if handoffs == "all":
        return {n: tuple(m for m in names if m != n) for n in names}
    if not isinstance(handoffs, Mapping):
        raise TeamConfigError(
            f"handoffs must be 'all' or a mapping {{agent: [targets]}}, got {handoffs!r}"
        )
    allowed: dict[str, tuple[str, ...]] = dict.fromkeys(names, ())
    for source, targets in handoffs.items():
        if source not in names:
            raise TeamConfigError(
                f"Unknown agent '{source}' in handoffs; known agents: {list(names)}"
            )
        if isinstance(targets, str) or not isinstance(targets, Sequence):
            raise TeamConfigError(
                f"handoffs['{source}'] must be a list of agent names, got {targets!r}"
            )
        for target in targets:
            if target not in names:
                others = [n for n in names if n != source]
                raise TeamConfigError(
                    f"Unknown handoff target '{target}' for agent '{source}'; known agents: "
                    f"{others}"
                )
            if target == source:
                raise TeamConfigError(f"Agent '{source}' cannot hand off to itself")
        allowed[source] = tuple(targets)
    return allowed


def _escalating(escalate_to_human: bool | Sequence[str], names: Sequence[str]) -> set[str]:
    if isinstance(escalate_to_human, bool):
        return set(names) if escalate_to_human else set()
    chosen = set(escalate_to_human)
    unknown = sorted(chosen - set(names))
    if unknown:
        raise TeamConfigError(
            f"escalate_to_human names unknown agents {unknown}; known agents: {list(names)}"
        )
    return chosen


def create_handoff(
    agents: Sequence[Agent],
    *,
    entry: str,
    handoffs: Literal["all"] | Mapping[str, Sequence[str]] = "all",
    max_handoffs: int = 8,
    max_ping_pong: int = 2,
    on_limit: Literal["escalate", "end"] = "escalate",
    interactive: bool = False,
    router: Router | None = None,
    escalate_to_human: bool | Sequence[str] = False,
    termination: Condition | None = None,
    context: ContextPolicy = "full",
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
    """Build a handoff team: one agent is in control and transfers it with tools.

    Each model agent gets a `transfer_to_<agent>` tool per declared target (the
    target's `description` in the tool's description, its `handoff_input` as the
    arguments). A transfer ends the agent's turn and gives control to the target; an
    answer without a transfer ends the run (or, `interactive`, waits for the user's next
    message). The agent in control is `state["active_agent"]`: the next run on the thread
    starts with it. Every tool call gets exactly one result, whatever the model does: a
    transfer to an undeclared agent, a second transfer in one message or an invalid
    payload is refused with an error result naming what is allowed, and audited.

    Bounds: `max_handoffs` transfers per run, and at most `max_ping_pong` round trips
    between the same pair in a row. At a bound, `on_limit="escalate"` interrupts with a
    `HandoffLimitRequest` (continue with an agent, answer the user, or end), and
    `on_limit="end"` ends the run as `handoff_limit` with the latest real answer.
    `termination` applies too.

    Args:
        agents: The agents.
        entry: The agent in control at a thread's first run.
        handoffs: Who may transfer to whom: `"all"` or `{"triage": ["billing"], ...}`
            (an agent missing from the mapping transfers to no one).
        max_handoffs: Transfers allowed per run.
        max_ping_pong: Round trips allowed in a row between the same two agents.
        on_limit: `"escalate"` (a person decides) or `"end"`.
        interactive: Wait for the user's next message (a `UserTurnRequest`, resumed
            with `{"content": "..."}`) instead of ending when an agent answers.
        router: Instead of transfer tools, a function `state -> agent | None` deciding
            after each turn (for agents that are not models); it must choose a declared
            target.
        escalate_to_human: Give agents (`True`: all model agents, or a list of names)
            an `escalate_to_human` tool: it interrupts with a `HumanHelpRequest` and
            the person's answer is the tool's result.
        termination: A condition that ends the run.
        context: Default context policy for agents that set none.
        validators: Output checks per agent name.
        max_revisions: Revisions a human reviewer may ask per output (approval gates).
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, a supplied output); `False` trusts the reviewers.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `HandoffState`.
        prices: Extra model prices for cost accounting.
        prompts: Prompt templates (transfer tools, acknowledgements, refusals).
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
        team = create_handoff(
            [Agent("triage", "Routes the customer", model=m1),
             Agent("billing", "Refunds and invoices", model=m2,
                   tools=[issue_refund], approve_tools=["issue_refund"])],
            entry="triage",
            handoffs={"triage": ["billing"], "billing": ["triage"]},
        ).compile(checkpointer=saver)
        ```
    """
    team = check_team(agents, pattern=PATTERN)
    names = [a.name for a in team]
    if entry not in names:
        raise TeamConfigError(f"Unknown entry agent '{entry}'; known agents: {names}")
    allowed = _check_handoffs(handoffs, names)
    check_whole(max_handoffs, "max_handoffs", minimum=1)
    check_whole(max_ping_pong, "max_ping_pong", minimum=1)
    if on_limit not in _ON_LIMIT:
        raise TeamConfigError(f"on_limit={on_limit!r}: allowed {list(_ON_LIMIT)}")
    if not isinstance(interactive, bool):
        raise TeamConfigError(f"interactive must be True or False, got {interactive!r}")
    if router is not None and not callable(router):
        raise TeamConfigError(f"router must be a callable state -> agent | None, got {router!r}")
    escalating = _escalating(escalate_to_human, names)
    by_name = {a.name: a for a in team}
    if router is None:
        for name in names:
            agent = by_name[name]
            if agent.model is None and (allowed[name] or name in escalating):
                raise TeamConfigError(
                    f"Agent '{name}' is not a model, so it cannot call transfer tools: give "
                    "create_handoff a router= (state -> agent | None), or declare no "
                    f"handoffs for '{name}'"
                )
    checks = check_validators(validators, names)
    check_max_revisions(max_revisions)
    check_flag(validate_human, "validate_human")
    check_whole(max_retries, "max_retries", minimum=0)
    condition = check_termination(termination, pattern=PATTERN)
    schema = check_state_schema(state_schema, HandoffState, pattern=PATTERN)
    view = resolve_context(context, owner=PATTERN)
    price_table = merge_prices(prices)
    stop = Termination(condition, speakers=names)

    routes = [
        Route(
            prompts=prompts,
            agent=agent,
            node=agent.name,
            next=HANDOFF,
            follow_up=follow_up_context(agent.context if agent.context is not None else context),
            view=handoff_view(
                resolve_context(agent.context) if agent.context is not None else view, prompts
            ),
        )
        for agent in team
    ]
    entries = {r.agent.name: r.entry for r in routes}
    builder = new_builder(schema, agents=team, pattern=PATTERN, outputs=False)
    for begins in (True, False):
        builder.add_node(
            START_RUN if begins else HANDOFF,
            HandoffNode(
                entries=entries,
                entry=entry,
                allowed=allowed,
                termination=stop,
                max_handoffs=max_handoffs,
                max_ping_pong=max_ping_pong,
                on_limit=on_limit,
                interactive=interactive,
                router=router,
                begins=begins,
            ),
            metadata={"pattern": PATTERN},
            destinations=(*entries.values(), END),
        )
    runners: dict[str, AgentRunner] = {}
    for agent in team:
        targets = [by_name[t] for t in allowed[agent.name]] if router is None else []
        if agent.model is not None and (targets or agent.name in escalating):
            tools = HandoffTools(agent, targets, escalate=agent.name in escalating, prompts=prompts)
            # Agents whose only tools are transfers are called directly, without a subgraph.
            direct = None if agent.name in escalating else tools
            runners[agent.name] = AgentRunner(
                agent, prices=price_table, middleware=[tools], answers=direct
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
        runners=runners,
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
