"""Adding an agent's nodes (turn, gates) and the escalation node to a builder."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.graph import END, StateGraph

from langgraph_orchestra.agents import AgentRunner
from langgraph_orchestra.names import ESCALATE
from langgraph_orchestra.nodes.approval import ApprovalNode
from langgraph_orchestra.nodes.escalation import EscalationNode
from langgraph_orchestra.nodes.route import FINALIZE, Route
from langgraph_orchestra.nodes.turn import AgentNode, Validator
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.records import field_types, record_fields, record_middleware, render_output
from langgraph_orchestra.state.schemas import LIBRARY_KEYS
from langgraph_orchestra.tracing import ModelPrice, node_metadata

__all__ = ["add_agent", "add_escalation", "agent_node", "map_nodes"]


def agent_node(
    route: Route,
    *,
    pattern: str,
    prices: Mapping[str, ModelPrice],
    validators: Sequence[Validator] = (),
    runner: AgentRunner | None = None,
    record: Sequence[str] = (),
    prompts: Prompts = DEFAULT_PROMPTS,
) -> AgentNode:
    """Return `route.agent`'s turn node (`runner`: a runner other than the default).

    `record`: the team's record fields (a tool or a nested team setting one is a write the
    node checks); an agent with a typed `output` answers in it, rendered with `prompts`.
    """
    agent = route.agent
    if runner is None:
        extra: list[Any] = []
        if agent.tools and record:
            extra.append(record_middleware(record))
        runner = AgentRunner(
            agent,
            prices=prices,
            output=agent.output,
            render=render_output(prompts, agent.name) if agent.output is not None else str,
            middleware=extra,
            record=record,
        )
    return AgentNode(route, runner, pattern=pattern, validators=validators)


def add_agent(
    builder: StateGraph[Any, Any, Any, Any],
    route: Route,
    *,
    pattern: str,
    prices: Mapping[str, ModelPrice],
    prompts: Prompts,
    max_revisions: int,
    validators: Sequence[Validator] = (),
    destinations: Sequence[str] = (),
    runner: AgentRunner | None = None,
    validate_human: bool = True,
) -> None:
    """Add `route.agent`'s turn node and its approval gates to `builder`.

    Edges are not added: the nodes route themselves with `Command`, to the destinations
    declared here (so drawings show them); `destinations` adds the places `route.then`
    may send the run. `runner` replaces the agent's default runner (an agent answering in
    a schema). With `validate_human` the gates run `validators` on a reviewer's content too.
    """
    checks = tuple(validators) if validate_human else ()
    agent = route.agent
    # Where a failure goes: the escalate node, or on with what is left (`continue`).
    failed = {"raise": (), "continue": (route.next,), "escalate": (ESCALATE,)}[agent.on_error]
    # A termination rule ends a run at the turn (or its before-gate) that it stops.
    stops = (END,) if route.termination is not None else ()
    builder.add_node(
        route.node,
        agent_node(
            route,
            pattern=pattern,
            prices=prices,
            validators=validators,
            runner=runner,
            record=record_fields(builder.state_schema),
            prompts=prompts,
        ),
        metadata=node_metadata(pattern, agent.name),
        destinations=_unique(
            route.review or (END if route.next == FINALIZE else route.next),
            *destinations,
            *failed,
            *stops,
        ),
    )
    if route.authorize:
        builder.add_node(
            route.authorize,
            # The before-gate is the run's first node when its agent comes first.
            ApprovalNode(
                route, "before", max_revisions=max_revisions, prompts=prompts, validators=checks
            ),
            metadata=node_metadata(pattern, agent.name),
            destinations=_unique(route.node, route.next, route.stop, *stops),
        )
    if route.review:
        builder.add_node(
            route.review,
            ApprovalNode(
                route, "after", max_revisions=max_revisions, prompts=prompts, validators=checks
            ),
            metadata=node_metadata(pattern, agent.name),
            destinations=_unique(route.next, route.node, route.stop),
        )


def add_agents(
    builder: StateGraph[Any, Any, Any, Any],
    routes: Iterable[Route],
    *,
    pattern: str,
    prices: Mapping[str, ModelPrice],
    prompts: Prompts,
    max_revisions: int,
    validators: Mapping[str, Sequence[Validator]],
    validate_human: bool = True,
    max_retries: int = 3,
    runners: Mapping[str, AgentRunner] | None = None,
) -> None:
    """Add every route's agent (`add_agent`) and the escalation node (`add_escalation`).

    `validators` and `runners` are by agent name (a pattern's own runner for an agent that
    answers in a schema or gets the pattern's tools).
    """
    routes = list(routes)
    for route in routes:
        name = route.agent.name
        add_agent(
            builder,
            route,
            pattern=pattern,
            prices=prices,
            prompts=prompts,
            max_revisions=max_revisions,
            validators=validators.get(name, ()),
            runner=(runners or {}).get(name),
            validate_human=validate_human,
        )
    add_escalation(
        builder,
        routes,
        pattern=pattern,
        validators=validators if validate_human else None,
        max_retries=max_retries,
    )


def add_escalation(
    builder: StateGraph[Any, Any, Any, Any],
    routes: Iterable[Route],
    *,
    pattern: str,
    validators: Mapping[str, Sequence[Validator]] | None = None,
    max_retries: int = 3,
) -> None:
    """Add the `escalate` node if any of the routes' agents has `on_error="escalate"`.

    `validators` (by agent) run on the content a human supplies for a failed turn; after
    `max_retries` retries of a turn its next failure stops the run (`"max_retries"`).
    """
    escalating = {r.agent.name: r for r in routes if r.agent.on_error == "escalate"}
    if not escalating:
        return
    targets: list[str] = []
    for route in escalating.values():
        targets.extend((route.node, route.next, route.stop))
    builder.add_node(
        ESCALATE,
        EscalationNode(
            escalating,
            validators,
            max_retries=max_retries,
            field_types={
                k: v for k, v in field_types(builder.state_schema).items() if k not in LIBRARY_KEYS
            },
        ),
        metadata={"pattern": pattern},
        destinations=_unique(*targets),
    )


def _unique(*names: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


class _Mapped(Runnable[Any, Any]):
    """A node whose input and output pass through functions (see `map_nodes`)."""

    def __init__(
        self,
        inner: Runnable[Any, Any],
        inputs: Callable[[Any], Any] | None,
        outputs: Callable[[Any], Any] | None,
    ) -> None:
        self.inner = inner
        self.inputs = inputs
        self.outputs = outputs
        self.name = inner.get_name()

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the node on the mapped input; return its mapped output."""
        if self.inputs is not None:
            input = self.inputs(input)
        output = self.inner.invoke(input, config, **kwargs)
        return output if self.outputs is None else self.outputs(output)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the node on the mapped input (async); return its mapped output."""
        if self.inputs is not None:
            input = self.inputs(input)
        output = await self.inner.ainvoke(input, config, **kwargs)
        return output if self.outputs is None else self.outputs(output)


def map_nodes(
    builder: StateGraph[Any, Any, Any, Any],
    *,
    inputs: Callable[[Any], Any] | None = None,
    outputs: Callable[[Any], Any] | None = None,
    skip: Iterable[str] = (),
) -> None:
    """Pass every node's input through `inputs` and its output through `outputs`.

    Applied once a pattern's nodes are all added (nodes added later are left as they
    are, as are those in `skip`). The output is what the node returns: a state update, a
    `Command`, or a list of them. The node's run, metadata, destinations and policies
    are kept; the wrapper adds no run of its own to a trace.
    """
    skipped = set(skip)
    for name, spec in list(builder.nodes.items()):
        if name in skipped:
            continue
        # StateGraph keeps every node as a Runnable (it coerces a function on add_node).
        inner = cast(Runnable[Any, Any], spec.runnable)
        builder.nodes[name] = dataclasses.replace(spec, runnable=_Mapped(inner, inputs, outputs))
