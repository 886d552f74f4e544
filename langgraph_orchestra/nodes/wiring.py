"""Adding an agent's nodes (turn, gates) and the escalation node to a builder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langgraph.graph import END, StateGraph

from langgraph_orchestra.agents import AgentRunner
from langgraph_orchestra.names import ESCALATE
from langgraph_orchestra.nodes.approval import ApprovalNode
from langgraph_orchestra.nodes.escalation import EscalationNode
from langgraph_orchestra.nodes.route import FINALIZE, Route
from langgraph_orchestra.nodes.turn import AgentNode, Validator
from langgraph_orchestra.prompts import Prompts
from langgraph_orchestra.tracing import ModelPrice, node_metadata

__all__ = ["add_agent", "add_escalation"]


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
) -> None:
    """Add `route.agent`'s turn node and its approval gates to `builder`.

    Edges are not added: the nodes route themselves with `Command`, to the destinations
    declared here (so drawings show them); `destinations` adds the places `route.then`
    may send the run. `runner` replaces the agent's default runner (an agent answering in
    a schema).
    """
    agent = route.agent
    # Where a failure goes: the escalate node, or on with what is left (`continue`).
    failed = {"raise": (), "continue": (route.next,), "escalate": (ESCALATE,)}[agent.on_error]
    # A termination rule ends a run at the turn (or its before-gate) that it stops.
    stops = (END,) if route.termination is not None else ()
    builder.add_node(
        route.node,
        AgentNode(
            route,
            runner or AgentRunner(agent, prices=prices),
            pattern=pattern,
            validators=validators,
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
            ApprovalNode(route, "before", max_revisions=max_revisions, prompts=prompts),
            metadata=node_metadata(pattern, agent.name),
            destinations=_unique(route.node, route.next, route.stop, *stops),
        )
    if route.review:
        builder.add_node(
            route.review,
            ApprovalNode(route, "after", max_revisions=max_revisions, prompts=prompts),
            metadata=node_metadata(pattern, agent.name),
            destinations=_unique(route.next, route.node, route.stop),
        )


def add_escalation(
    builder: StateGraph[Any, Any, Any, Any], routes: Iterable[Route], *, pattern: str
) -> None:
    """Add the `escalate` node if any of the routes' agents has `on_error="escalate"`."""
    escalating = {r.agent.name: r for r in routes if r.agent.on_error == "escalate"}
    if not escalating:
        return
    targets: list[str] = []
    for route in escalating.values():
        targets.extend((route.node, route.next, route.stop))
    builder.add_node(
        ESCALATE,
        EscalationNode(escalating),
        metadata={"pattern": pattern},
        destinations=_unique(*targets),
    )


def _unique(*names: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))
