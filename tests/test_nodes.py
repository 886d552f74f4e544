"""The shared parts assembled by hand: a step computed from the turn, run-time fan-out."""

from __future__ import annotations

from typing import Any, NotRequired

import pytest
from langchain_core.messages import BaseMessage
from langgraph.graph import END, START, StateGraph

from langgraph_orchestra import Agent, ConcurrentState, OrchestraError, SequentialState
from langgraph_orchestra.context import resolve_context
from langgraph_orchestra.names import AGGREGATE, DISPATCH, FANOUT
from langgraph_orchestra.nodes import (
    AggregateNode,
    FanOutNode,
    Route,
    Turn,
    add_agent,
    hold_turn,
)
from langgraph_orchestra.prompts import DEFAULT_PROMPTS
from langgraph_orchestra.tracing import DEFAULT_PRICES

COMMON: dict[str, Any] = {
    "pattern": "custom",
    "prices": DEFAULT_PRICES,
    "prompts": DEFAULT_PROMPTS,
    "max_revisions": 1,
}


def says(text: str, ran: list[str]) -> Any:
    def reply(messages: list[BaseMessage]) -> str:
        ran.append(text)
        return text

    return reply


def test_the_step_after_a_turn_can_be_computed_from_the_turn() -> None:
    ran: list[str] = []

    def after(turn: Turn) -> str | None:
        return "specialist" if "escalate" in turn.text else None

    def triage(messages: list[BaseMessage]) -> str:
        ran.append("triage")
        return "escalate to specialist" if "hard" in messages[-1].text else "solved"

    view = resolve_context("last")
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(SequentialState)
    first = Route(
        Agent("triage", runnable=triage), "triage", "finalize", view, then=after, begins=True
    )
    second = Route(Agent("specialist", runnable=says("fixed", ran)), "specialist", "finalize", view)
    add_agent(builder, first, destinations=["specialist"], **COMMON)
    add_agent(builder, second, **COMMON)
    builder.add_edge(START, "triage")
    team = builder.compile()

    easy = team.invoke({"messages": [("user", "easy one")]})
    assert (ran, easy["final"]) == (["triage"], "solved")
    ran.clear()
    hard = team.invoke({"messages": [("user", "hard one")]})
    assert (ran, hard["final"], hard["round"]) == (["triage", "fixed"], "fixed", 2)
    drawing = team.get_graph().draw_mermaid()
    assert "triage -.-> specialist" in drawing


class PickState(ConcurrentState):
    pick: NotRequired[list[str]]
    planned: NotRequired[list[str]]


def _fan_out(max_concurrency: int | None, ran: list[str]) -> Any:
    view = resolve_context("full")
    join = DISPATCH if max_concurrency else AGGREGATE
    routes = [
        Route(
            Agent(n, runnable=says(n.upper(), ran)),
            n,
            join,
            view,
            stop=join,
            results=True,
            write=hold_turn,
        )
        for n in ("a", "b", "c", "d")
    ]

    def select(state: Any) -> list[str]:
        return list(state.get("pick") or ())

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(PickState)
    fan = {"select": select, "max_concurrency": max_concurrency}
    builder.add_node(
        FANOUT,
        FanOutNode(routes, first=True, begins=True, **fan),
        destinations=(*(r.node for r in routes), AGGREGATE),
    )
    if max_concurrency:
        builder.add_node(
            DISPATCH,
            FanOutNode(routes, first=False, **fan),
            destinations=(*(r.node for r in routes), AGGREGATE),
        )
    for route in routes:
        add_agent(builder, route, **COMMON)
    builder.add_node(
        AGGREGATE,
        AggregateNode(["a", "b", "c", "d"], aggregator="concat", quorum=1, prompts=DEFAULT_PROMPTS),
        defer=True,
        destinations=(END,),
    )
    builder.add_edge(START, FANOUT)
    return builder.compile()


@pytest.mark.parametrize("max_concurrency", [None, 1])
def test_fan_out_over_branches_chosen_at_run_time(max_concurrency: int | None) -> None:
    ran: list[str] = []
    team = _fan_out(max_concurrency, ran)
    result = team.invoke({"messages": [("user", "go")], "pick": ["d", "b"]})
    assert sorted(ran) == ["B", "D"]
    assert result["final"] == "b: B\n\nd: D"  # team order
    assert result["round"] == 2
    assert result["planned"] == ["d", "b"]
    if max_concurrency:
        assert ran == ["D", "B"]  # one at a time, in the order chosen


def test_fan_out_refuses_an_unknown_branch() -> None:
    team = _fan_out(None, [])
    with pytest.raises(
        OrchestraError,
        match=r"^Fan-out selected unknown branches \['z'\]; known: \['a', 'b', 'c', 'd'\]",
    ):
        team.invoke({"messages": [("user", "go")], "pick": ["a", "z"]})
