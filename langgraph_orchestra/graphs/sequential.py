"""`create_sequential`: a pipeline where each agent works on what the previous produced."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.graph import START, StateGraph

from langgraph_orchestra.agents import Agent, check_team
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.context import ContextPolicy, follow_up_context, resolve_context
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
from langgraph_orchestra.names import FINALIZE, authorize_node
from langgraph_orchestra.nodes.completion import Action
from langgraph_orchestra.nodes.finalize import FinalizeNode
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.nodes.wiring import add_agents
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.redaction import Redact
from langgraph_orchestra.state.schemas import SequentialState, check_state_schema
from langgraph_orchestra.tracing import ModelPrice, merge_prices

__all__ = ["create_sequential"]

PATTERN = "sequential"


def create_sequential(
    agents: Sequence[Agent],
    *,
    context: ContextPolicy = "last",
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
    """Build a pipeline `a -> b -> c`: each agent answers the previous agent's output.

    Each agent sees the transcript through its `context` policy (default `"last"`: the
    task and the previous step's output). Validators run on an agent's output before
    the next step; a refused output is a failure handled by the agent's `on_error`.
    Approval gates sit where the agents ask for them. The run ends with `final` = the
    last accepted output (or the last real output when it stops early) and `stop_reason`.

    Args:
        agents: The steps, in order.
        context: Default context policy for agents that set none.
        termination: A condition asked before each step (after the previous one): when
            it fires the run ends with the latest output as `final` and the condition's
            reason as `stop_reason`.
        validators: Output checks per agent name: a callable `str -> object` or a
            sequence of them (see `Validator`).
        max_revisions: How many times a reviewer may send an output back before a
            rejection stops the run.
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, an escalation's `supply`): a refusal keeps the interrupt open and
            says why. `False` trusts the reviewers.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `SequentialState` (TypedDict or pydantic).
        prices: Extra model prices for cost accounting, by model name.
        prompts: Prompt templates.
        redact: Clears personal data and secrets from what leaves the run: audit
            details and exception records (`"default"`, a `Redactor(...)` or a callable
            `str -> str`; see `redaction`).
        redact_agents: Agents, managers and selectors read the transcript redacted too.
        on_end: Completion actions `state -> None` (sync or async), run once when a run
            ends, whatever its stop reason (see `nodes.completion`).

    Returns:
        The uncompiled graph; compile it with your checkpointer.

    Raises:
        TeamConfigError: On an invalid team or argument, before any model call.

    Example:
        ```python
        from langgraph.checkpoint.memory import InMemorySaver
        from langgraph.types import Command

        team = create_sequential([
            Agent("writer", model=model, instructions="Draft a reply."),
            Agent("editor", model=model, instructions="Polish it.", approval="after"),
        ]).compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "1"}}
        team.invoke({"messages": [("user", "Customer asks for a refund")]}, config)
        result = team.invoke(Command(resume={"action": "approve"}), config)
        print(result["final"], result["stop_reason"])
        ```
    """
    team = check_team(agents, pattern=PATTERN)
    names = [a.name for a in team]
    checks = check_validators(validators, names)
    check_max_revisions(max_revisions)
    check_flag(validate_human, "validate_human")
    check_whole(max_retries, "max_retries", minimum=0)
    condition = check_termination(termination, pattern=PATTERN)
    stop = Termination(condition, speakers=names) if condition is not None else None
    schema = check_state_schema(state_schema, SequentialState, pattern=PATTERN)
    view = resolve_context(context, owner=PATTERN)
    price_table = merge_prices(prices)

    entries = [authorize_node(a.name) if a.approves_before else a.name for a in team]
    routes = [
        Route(
            prompts=prompts,
            agent=agent,
            node=agent.name,
            next=entries[i + 1] if i + 1 < len(team) else FINALIZE,
            view=resolve_context(agent.context) if agent.context is not None else view,
            follow_up=follow_up_context(agent.context if agent.context is not None else context),
            begins=i == 0,
            termination=stop,
        )
        for i, agent in enumerate(team)
    ]
    builder = new_builder(schema, agents=team, pattern=PATTERN)
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
    builder.add_edge(START, routes[0].entry)
    return finish_graph(
        builder,
        pattern=PATTERN,
        redact=redact,
        redact_agents=redact_agents,
        on_end=on_end,
        finalize=FinalizeNode(names) if governed(team) else None,
    )
