"""The example teams: each validates, runs offline to completion, and is documented."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import StateGraph
from langgraph.types import Command

from langgraph_orchestra.spec import PATTERNS, build_team, examples_dir, validate_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TEAMS = sorted(EXAMPLES.glob("*.yaml"))


def test_examples_are_found_next_to_the_package() -> None:
    assert examples_dir() == EXAMPLES


def test_every_pattern_has_an_example() -> None:
    assert sorted(p.example for p in PATTERNS.values()) == [t.name for t in TEAMS]


@pytest.mark.parametrize("team", TEAMS, ids=[t.stem for t in TEAMS])
def test_example_runs_offline_to_completion(team: Path) -> None:
    spec = validate_spec(team)
    assert spec.example_input, "an example needs an example_input for the demo"
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "example"}}
    result = app.invoke({"messages": [("user", spec.example_input)]}, config)
    approvals = 0
    while interrupts := app.get_state(config).interrupts:
        approvals += len(interrupts)
        assert all(i.value["type"] == "approval" for i in interrupts)
        result = app.invoke(
            Command(resume={i.id: {"action": "approve", "reviewer": "test"} for i in interrupts}),
            config,
        )
    assert approvals == 1  # each example shows one approval
    assert result["stop_reason"] == "completed"
    assert result["final"] and len(result["final"]) > 40
    turns = [r["agent"] for r in result["audit"] if r["kind"] == "turn"]
    names = [a.name for a in spec.agents]
    assert set(names) <= set(turns)
    assert set(result["usage"]) == set(turns)


def test_examples_readme_has_a_paragraph_per_team() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    for team in TEAMS:
        assert f"## `{team.name}`" in readme


def test_langgraph_json_serves_every_example() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    graphs = config["graphs"]
    assert sorted(graphs) == sorted(PATTERNS)
    module = runpy.run_path(str(EXAMPLES / "graphs.py"))
    for name, target in graphs.items():
        path, attr = target.split(":")
        assert (ROOT / path).resolve() == EXAMPLES / "graphs.py"
        graph = module[attr]
        assert isinstance(graph, StateGraph)
        assert graph.compile().get_graph().nodes, name
