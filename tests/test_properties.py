"""Property tests over every registered pattern: random scripts and decisions, valid runs.

Each example gives every agent a random behaviour (a failure or not, `on_error`, an
approval gate) and a tool call, with or without approval) and answers each pause with a random
decision, then checks what must hold
whatever happened: the run ends within a bounded number of decisions, every tool call in
the transcript is answered, audit ids are unique, the one termination record is last,
and no usage figure is negative. A pattern joins by registering in `registry.CASES`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conformance.registry import CASES, PatternCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import Agent, open_checkpointer
from langgraph_orchestra.testing import ScriptedModel

AGENTS = ("a", "b", "c")
MAX_DECISIONS = 25
"""A run that still waits after this many decisions is looping."""
REPLIES = 8
"""Answers scripted per agent: more than any run here asks for."""
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@dataclass(frozen=True)
class Behaviour:
    """How one scripted agent behaves."""

    fails: bool
    on_error: str
    approval: str | None
    tool: str | None
    """`None`: no tool; `"call"`: the agent calls its tool first; `"approved"`: and that
    call waits for a person's decision (`approve_tools`)."""


behaviours = st.builds(
    Behaviour,
    fails=st.booleans(),
    on_error=st.sampled_from(["continue", "escalate"]),
    approval=st.sampled_from([None, "before", "after"]),
    tool=st.sampled_from([None, "call", "approved"]),
)
teams = st.lists(behaviours, min_size=2, max_size=len(AGENTS))

APPROVALS = st.sampled_from(
    [
        {"action": "approve"},
        {"action": "reject", "feedback": "shorter"},
        {"action": "edit", "content": "edited by hand"},
        {"action": "respond", "content": "a human answer"},
    ]
)
ESCALATIONS = st.sampled_from(
    [
        {"action": "retry"},
        {"action": "skip"},
        {"action": "supply", "content": "supplied by hand"},
        {"action": "abort"},
    ]
)
TOOL_DECISIONS = st.sampled_from(
    [
        {"action": "approve"},
        {"action": "reject", "feedback": "not now"},
        {"action": "edit", "args": {"query": "edited"}},
    ]
)
DECISIONS = {"approval": APPROVALS, "exception": ESCALATIONS, "tool_approval": TOOL_DECISIONS}


@tool
def lookup(query: str) -> str:
    """Look something up."""
    return f"found {query}"


def _call(name: str, i: int) -> AIMessage:
    return AIMessage(
        "", tool_calls=[{"name": "lookup", "args": {"query": name}, "id": f"{name}{i}"}]
    )


def _agents(team: list[Behaviour]) -> list[Agent]:
    agents = []
    for name, behaviour in zip(AGENTS, team, strict=False):
        script: list[Any] = []
        for i in range(REPLIES):
            if behaviour.tool:  # each turn calls the tool, then answers
                script.append(_call(name, i))
            script.append(f"{name.upper()}{i}")
        if behaviour.fails:
            script.insert(0, ValueError(f"{name} broke"))
        options: dict[str, Any] = {"on_error": behaviour.on_error}
        if behaviour.approval:
            options["approval"] = behaviour.approval
        if behaviour.tool:
            options["tools"] = [lookup]
            options["approve_tools"] = behaviour.tool == "approved"
        agents.append(Agent(name, model=ScriptedModel(script), **options))
    return agents


def _messages(values: Mapping[str, Any]) -> list[BaseMessage]:
    """Every message the state holds, in any channel."""
    found: list[BaseMessage] = []
    for value in values.values():
        if isinstance(value, list):
            found += [m for m in value if isinstance(m, BaseMessage)]
    return found


def _check_history(values: Mapping[str, Any], *, ended: bool) -> None:
    """What holds of any run's state, paused or ended."""
    if ended:  # while paused, a call may wait for its gate: it is answered later
        messages = _messages(values)
        answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
        for message in messages:
            if isinstance(message, AIMessage):
                for call in message.tool_calls:
                    assert call["id"] in answered, f"tool call {call} has no ToolMessage"
    audit = values.get("audit") or []
    ids = [record["id"] for record in audit]
    assert len(ids) == len(set(ids)), f"duplicate audit ids: {ids}"
    terminations = [i for i, record in enumerate(audit) if record["kind"] == "termination"]
    assert len(terminations) <= 1, terminations
    if ended:
        assert terminations == [len(audit) - 1], [r["kind"] for r in audit]
    for participant, usage in (values.get("usage") or {}).items():
        for key, figure in usage.items():
            assert isinstance(figure, int | float), (participant, key, figure)
            assert not math.isnan(figure) and figure >= 0, (participant, key, figure)


def _decide(data: st.DataObject, interrupts: Any) -> Command[Any]:
    decisions = {}
    for pending in interrupts:
        kind = pending.value.get("type")
        assert kind in DECISIONS, f"unexpected interrupt {pending.value}"
        decisions[pending.id] = data.draw(DECISIONS[kind], label=f"{kind} decision")
    return Command(resume=decisions)


def _run(case: PatternCase, team: list[Behaviour], data: st.DataObject) -> None:
    graph = case.build(_agents(team)).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": str(uuid.uuid4())}}
    graph.invoke({"messages": [("user", "the task")]}, config)
    for _ in range(MAX_DECISIONS):
        snapshot = graph.get_state(config)
        if not snapshot.interrupts:
            break
        _check_history(snapshot.values, ended=False)
        graph.invoke(_decide(data, snapshot.interrupts), config)
    snapshot = graph.get_state(config)
    assert not snapshot.interrupts and not snapshot.next, (
        f"still running after {MAX_DECISIONS} decisions"
    )
    assert snapshot.values.get("stop_reason"), "the run ended without a stop reason"
    _check_history(snapshot.values, ended=True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@SETTINGS
@given(team=teams, data=st.data())
def test_random_scripts_and_decisions_end_with_a_valid_history(
    case: PatternCase, team: list[Behaviour], data: st.DataObject
) -> None:
    _run(case, team, data)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@SETTINGS
@given(stop_after=st.integers(min_value=1, max_value=12))
def test_a_run_stopped_after_any_step_resumes_without_losing_or_repeating_work(
    case: PatternCase, stop_after: int, tmp_path: Path
) -> None:
    models = {name: ScriptedModel([name.upper()]) for name in AGENTS}  # one answer each
    agents = [Agent(name, model=model) for name, model in models.items()]
    config: RunnableConfig = {"configurable": {"thread_id": str(uuid.uuid4())}}
    with open_checkpointer(f"sqlite:///{tmp_path / 'kill.db'}") as saver:
        graph = case.build(agents).compile(checkpointer=saver)
        # Stop the run after `stop_after` steps, as a crash between steps would.
        for seen, _ in enumerate(
            graph.stream({"messages": [("user", "the task")]}, config, stream_mode="updates"),
            start=1,
        ):
            if seen == stop_after:
                break
        stopped = graph.get_state(config)
        # Tasks whose writes are all saved are not in `next` but still wait to be applied.
        if stopped.next or stopped.tasks:
            graph.invoke(None, config)
        values = graph.get_state(config).values
    # A scripted model has one answer: an agent that ran twice would have failed the run.
    assert {name: len(model.calls) for name, model in models.items()} == dict.fromkeys(AGENTS, 1)
    assert values["stop_reason"] == case.stop_reason
    assert values["final"] == case.final({name: name.upper() for name in AGENTS})
    assert [m.text for m in values["messages"] if m.name in AGENTS] == ["A", "B", "C"]
    _check_history(values, ended=True)
