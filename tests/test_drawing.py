"""`draw_team` and `orchestra graph`: nested teams drawn inside their agent's node."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.graph import END, START, MessagesState, StateGraph

from langgraph_orchestra import (
    Agent,
    create_group_chat,
    create_hierarchical,
    create_network,
    create_sequential,
)
from langgraph_orchestra.drawing import draw_team, team_graph
from langgraph_orchestra.testing import ScriptedModel


def echo(name: str, **options: Any) -> Agent:
    return Agent(name, f"The {name}", runnable=lambda messages: name, **options)


def node(path: str, label: str) -> str:
    """A node's line in the Mermaid drawing: its id (the path, `:` escaped) and label."""
    return "\t" + path.replace(":", "\\3a") + f"({label}"


def three_levels() -> Any:
    """top (sequential) > mid (hierarchical) > bottom (sequential with a gated writer)."""
    bottom = create_sequential([echo("writer", approval="after"), echo("editor")]).compile()
    mid = create_hierarchical(
        [Agent("bottom", runnable=bottom), echo("checker")], manager_model=ScriptedModel([])
    ).compile()
    return create_sequential([Agent("mid", runnable=mid), echo("publisher")])


def test_a_nested_team_is_a_subgraph_holding_its_own_nodes() -> None:
    inner = create_sequential([echo("writer"), echo("editor")]).compile()
    outer = create_group_chat([Agent("drafting", runnable=inner), echo("critic")], max_rounds=2)
    drawing = draw_team(outer)
    assert "\tsubgraph drafting\n" in drawing
    for path in ("drafting:writer", "drafting:editor"):
        assert node(path, path.split(":")[-1]) in drawing, path
    assert node("critic", "critic") in drawing
    # The nested team's node itself is gone: the subgraph takes its place and its edges.
    assert node("drafting", "drafting") not in drawing
    assert "drafting\\3awriter -.-> drafting\\3aeditor;" in drawing
    # LangGraph's own drawing shows the team as one opaque node.
    plain = outer.compile().get_graph(xray=True).draw_mermaid()
    assert node("drafting", "drafting") in plain and "writer" not in plain


def test_three_levels_are_drawn_one_inside_the_other() -> None:
    drawing = draw_team(three_levels().compile())
    lines = drawing.splitlines()
    assert lines.index("\tsubgraph mid") < lines.index("\tsubgraph bottom")
    assert lines.count("\tend") == 2
    for path in (
        "mid:manager",
        "mid:fanout",
        "mid:checker",
        "mid:join",
        "mid:bottom:writer",
        "mid:bottom:approve_writer",
        "mid:bottom:editor",
    ):
        assert node(path, path.split(":")[-1]) in drawing, path
    assert node("publisher", "publisher") in drawing
    # The edges cross the levels: the mid fan-out starts the bottom team.
    assert "\tmid\\3afanout -.-> mid\\3abottom\\3a__start__;" in lines


class RunTeam:
    """A hand-written node running a compiled team (LangGraph cannot see into it)."""

    def __init__(self, team: Any) -> None:
        self.team = team

    def __call__(self, state: Any) -> Any:
        return self.team.invoke(state)


def test_a_graph_built_by_hand_names_its_team_agents() -> None:
    inner = create_sequential([echo("writer"), echo("editor")]).compile()
    team = Agent("drafting", runnable=inner)
    builder = StateGraph(MessagesState)
    builder.add_node("drafting", RunTeam(inner))
    builder.add_edge(START, "drafting")
    builder.add_edge("drafting", END)
    assert node("drafting:writer", "writer") not in draw_team(builder)
    drawing = draw_team(builder, [team])
    assert "\tsubgraph drafting\n" in drawing
    assert node("drafting:writer", "writer") in drawing


def test_a_team_without_nested_teams_is_drawn_as_langgraph_draws_it() -> None:
    team = create_sequential([echo("a", approval="before"), echo("b")]).compile()
    assert draw_team(team) == team.get_graph().draw_mermaid()


def test_the_labels_leave_out_langgraph_scheduling_details() -> None:
    team = create_network([echo("a"), echo("b")])
    plain = team.compile().get_graph().draw_mermaid()
    assert "defer = True" in plain  # the deferred join, as LangGraph labels it
    drawing = draw_team(team)
    assert "defer" not in drawing
    assert "\tjoin(join<hr/><small><em>pattern = network</em></small>)" in drawing
    # Only the label changed.
    assert team_graph(team).edges == team.compile().get_graph().edges


def test_anything_but_a_graph_is_refused() -> None:
    with pytest.raises(
        TypeError, match="team_graph takes a StateGraph or a compiled graph, got str"
    ):
        draw_team("team.yaml")  # type: ignore[arg-type]
