"""Every pattern's input and output show the users' fields only, never its plumbing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from conformance.registry import CASES, PatternCase
from langgraph_orchestra import Agent
from langgraph_orchestra.state.schemas import INTERNAL_CHANNELS, LIBRARY_FIELDS
from langgraph_orchestra.testing import ScriptedModel

BASE = {
    "messages",
    "audit",
    "exceptions",
    "usage",
    "run_usage",
    "run",
    "round",
    "final",
    "stop_reason",
}
"""The fields every pattern returns (README, "What a run returns")."""

PUBLIC: dict[str, set[str]] = {
    "sequential": BASE,
    "concurrent": BASE,
    "group_chat": BASE | {"speaker"},
    "handoff": BASE | {"active_agent", "handoff", "handoffs"},
    "hierarchical": BASE,
    "magentic": BASE | {"task_ledger", "progress_ledger", "speaker", "stalls", "resets"},
    "network": BASE | {"sent", "mail"},
    "planner_executor": BASE | {"plan", "steps", "evaluations", "replans"},
}
"""Each pattern's documented output fields."""


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request: pytest.FixtureRequest) -> PatternCase:
    entry: PatternCase = request.param
    return entry


def _app(case: PatternCase) -> Any:
    agents = [Agent("a", model=ScriptedModel(["A"])), Agent("b", model=ScriptedModel(["B"]))]
    return case.build(agents).compile(checkpointer=InMemorySaver())


def test_every_pattern_has_a_documented_public_set() -> None:
    assert sorted(PUBLIC) == sorted(c.name for c in CASES)


def test_invoke_returns_the_public_fields_only(case: PatternCase) -> None:
    app = _app(case)
    config: RunnableConfig = {"configurable": {"thread_id": str(uuid.uuid4())}}
    output = app.invoke({"messages": [("user", "task")]}, config)

    assert set(output) <= PUBLIC[case.name]
    assert {"messages", "audit", "usage", "final", "stop_reason"} <= set(output)
    assert output["final"] == case.final({"a": "A", "b": "B"})
    # The plumbing is still in the thread's state, where the pattern's nodes read it.
    state = app.get_state(config).values
    assert set(state) - set(output) <= set(INTERNAL_CHANNELS) | PUBLIC[case.name]


def test_the_output_schema_is_the_public_set(case: PatternCase) -> None:
    schema = _app(case).get_output_jsonschema()
    assert set(schema["properties"]) == PUBLIC[case.name]


def test_the_input_schema_is_the_transcript_alone(case: PatternCase) -> None:
    fields = set(_app(case).get_input_jsonschema()["properties"])
    assert fields == {"messages"}
    assert LIBRARY_FIELDS >= PUBLIC[case.name] - {"messages"} | set(INTERNAL_CHANNELS)


def test_a_custom_schemas_own_keys_are_output(case: PatternCase) -> None:
    class Ticketed(case.state):  # type: ignore[misc,name-defined]
        ticket: str

    agents = [Agent("a", model=ScriptedModel(["A"])), Agent("b", model=ScriptedModel(["B"]))]
    app = case.build(agents, state_schema=Ticketed).compile()
    output = app.invoke({"messages": [("user", "task")], "ticket": "T-1"})
    assert output["ticket"] == "T-1"
    assert set(output) - {"ticket"} <= PUBLIC[case.name]
    assert set(app.get_output_jsonschema()["properties"]) == PUBLIC[case.name] | {"ticket"}
    assert set(app.get_input_jsonschema()["properties"]) == {"messages", "ticket"}


def test_input_cannot_write_what_the_library_writes(case: PatternCase) -> None:
    app = _app(case)
    config: RunnableConfig = {"configurable": {"thread_id": str(uuid.uuid4())}}
    forged = {"final": "forged", "round": 99, "results": {"x": "forged"}, "outbox": {"x": {}}}
    output = app.invoke({"messages": [("user", "task")], **forged}, config)
    assert output["final"] == case.final({"a": "A", "b": "B"})
    state = app.get_state(config).values
    assert state["round"] == 2
    assert "x" not in (state.get("results") or {})
    assert "x" not in (state.get("outbox") or {})
