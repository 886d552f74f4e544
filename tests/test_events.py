"""Custom stream events: each orchestration decision as it is made (`stream_mode="custom"`)."""

from __future__ import annotations

import uuid
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import (
    Agent,
    create_concurrent,
    create_group_chat,
    create_handoff,
    create_planner_executor,
    create_sequential,
)
from langgraph_orchestra.events import EVENTS, PREFIX
from langgraph_orchestra.state.records import audit_record
from langgraph_orchestra.testing import ScriptedModel

TASK = {"messages": [("user", "task")]}


def _config() -> RunnableConfig:
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


def _stream(app: Any, input: Any, config: RunnableConfig) -> list[dict[str, Any]]:
    """The run's custom events, all of them (the patterns' own events included)."""
    return list(app.stream(input, config, stream_mode="custom"))


def _names(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["type"].removeprefix(PREFIX), e["agent"]) for e in events]


def _audit_ids(app: Any, config: RunnableConfig) -> list[str]:
    return [r["id"] for r in app.get_state(config).values["audit"]]


def test_a_gated_sequential_run_streams_its_turns_the_gate_and_the_end() -> None:
    agents = [
        Agent("a", model=ScriptedModel(["A"])),
        Agent("b", model=ScriptedModel(["B"]), approval="after"),
    ]
    app = create_sequential(agents).compile(checkpointer=InMemorySaver())
    config = _config()

    paused = _stream(app, TASK, config)
    assert _names(paused) == [("turn", "a"), ("turn", "b"), ("gate_opened", "b")]
    [pending] = app.get_state(config).interrupts
    assert paused[-1] == {
        "type": "orchestra.gate_opened",
        "agent": "b",
        "detail": pending.value,
        "audit_id": None,
    }
    assert paused[0]["detail"]["messages"] == 1

    resumed = _stream(app, Command(resume={"action": "approve", "reviewer": "ana"}), config)
    assert _names(resumed) == [("gate_decided", "b"), ("termination", None)]
    assert resumed[0]["detail"] == {
        "when": "after",
        "action": "approve",
        "reviewer": "ana",
        "feedback": "",
        "revision": 0,
    }
    assert resumed[1]["detail"] == {"reason": "completed"}
    # Every audit record was streamed once, as it was made, in the trail's order.
    streamed = [e["audit_id"] for e in paused + resumed if e["audit_id"] is not None]
    assert streamed == _audit_ids(app, config)


def test_a_refused_decision_streams_nothing_and_the_gate_stays_open() -> None:
    agents = [Agent("a", model=ScriptedModel(["A"]), approval="after")]
    app = create_sequential(agents).compile(checkpointer=InMemorySaver())
    config = _config()
    _stream(app, TASK, config)
    events: list[dict[str, Any]] = []
    try:
        for event in app.stream(Command(resume={"action": "maybe"}), config, stream_mode="custom"):
            events.append(event)
    except Exception as error:  # pydantic's ValidationError: the decision is refused
        assert "ApprovalDecision" in str(error)
    else:
        raise AssertionError("a malformed decision was accepted")
    assert events == []
    assert len(app.get_state(config).interrupts) == 1


def test_a_group_chat_streams_each_speaker_selected_with_its_reason() -> None:
    manager = ScriptedModel(
        [{"speaker": "a", "reason": "drafts first"}, {"speaker": "b", "reason": "reviews"}]
    )
    agents = [Agent("a", model=ScriptedModel(["A"])), Agent("b", model=ScriptedModel(["B"]))]
    app = create_group_chat(agents, selector="llm", manager_model=manager, max_rounds=2).compile(
        checkpointer=InMemorySaver()
    )
    config = _config()

    events = _stream(app, TASK, config)
    assert _names(events) == [
        ("speaker_selected", "manager"),
        ("turn", "a"),
        ("speaker_selected", "manager"),
        ("turn", "b"),
        ("termination", None),
    ]
    assert [events[0]["detail"], events[2]["detail"]] == [
        {"selector": "llm", "speaker": "a", "reason": "drafts first", "round": 0},
        {"selector": "llm", "speaker": "b", "reason": "reviews", "round": 1},
    ]
    assert events[-1]["detail"] == {"reason": "max_rounds"}
    assert [e["audit_id"] for e in events] == _audit_ids(app, config)


def test_a_handoff_run_streams_the_transfer() -> None:
    transfer = AIMessage("", tool_calls=[{"name": "transfer_to_b", "args": {}, "id": "c1"}])
    agents = [
        Agent("a", model=ScriptedModel([transfer])),
        Agent("b", model=ScriptedModel(["done"])),
    ]
    app = create_handoff(agents, entry="a").compile(checkpointer=InMemorySaver())
    config = _config()

    events = _stream(app, TASK, config)
    assert _names(events) == [
        ("routing", None),
        ("turn", "a"),
        ("handoff", "a"),
        ("turn", "b"),
        ("termination", None),
    ]
    assert events[0]["detail"] == {"active_agent": "a", "resumed": False}
    assert events[2]["detail"] == {"to": "b", "payload": None}
    assert [e["audit_id"] for e in events] == _audit_ids(app, config)


def test_a_failed_turn_streams_an_exception() -> None:
    agents = [
        Agent("a", model=ScriptedModel([RuntimeError("rate limited")]), on_error="continue"),
        Agent("b", model=ScriptedModel(["B"])),
    ]
    app = create_sequential(agents).compile(checkpointer=InMemorySaver())
    config = _config()

    events = _stream(app, TASK, config)
    assert _names(events) == [("exception", "a"), ("turn", "b"), ("termination", None)]
    [record] = app.get_state(config).values["exceptions"]
    assert events[0]["detail"] == {
        "error": "rate limited",
        "error_type": "RuntimeError",
        "status": "continued",
        "exception_id": record["id"],
    }


def test_events_are_named_from_one_list_and_nothing_is_sent_outside_a_run() -> None:
    assert len(set(EVENTS)) == len(EVENTS)
    record = audit_record("turn", "a", messages=1)  # outside a run: no stream, no error
    assert (record["kind"], record["detail"]) == ("turn", {"messages": 1})


@tool
def refund(amount: float) -> str:
    """Refund `amount`."""
    return f"refunded {amount}"


def test_a_tool_call_gate_opens_in_the_agents_graph_and_is_decided_at_the_top() -> None:
    call = AIMessage("", tool_calls=[{"name": "refund", "args": {"amount": 5}, "id": "c1"}])
    agent = Agent("a", model=ScriptedModel([call, "ok"]), tools=[refund], approve_tools=["refund"])
    app = create_sequential([agent]).compile(checkpointer=InMemorySaver())
    config = _config()

    paused = list(app.stream(TASK, config, stream_mode="custom", subgraphs=True))
    # The only event: the pause, inside the agent's graph (not at the top, namespace `()`).
    [(namespace, opened)] = paused
    assert len(namespace) == 1
    assert namespace[0].startswith("a:")
    assert _names([opened]) == [("gate_opened", "a")]
    assert opened["detail"] == {
        "type": "tool_approval",
        "agent": "a",
        "tool": "refund",
        "args": {"amount": 5},
        "tool_call_id": "c1",
        "actions": ["approve", "reject", "edit"],
    }

    resumed = _stream(app, Command(resume={"action": "approve"}), config)
    assert _names(resumed) == [("turn", "a"), ("gate_decided", "a"), ("termination", None)]
    assert resumed[1]["detail"]["tool"] == "refund"
    assert resumed[1]["detail"]["action"] == "approve"


def test_a_plan_approval_gate_streams_the_plan_then_the_gate() -> None:
    plan = {"steps": [{"id": "s0", "agent": "a", "instruction": "do it", "depends_on": []}]}
    app = create_planner_executor(
        [Agent("a", model=ScriptedModel(["A"]))],
        planner_model=ScriptedModel([plan]),
        plan_approval=True,
    ).compile(checkpointer=InMemorySaver())
    config = _config()

    paused = [e for e in _stream(app, TASK, config) if e["type"].startswith(PREFIX)]
    assert _names(paused) == [("plan", "planner"), ("gate_opened", "planner")]
    [pending] = app.get_state(config).interrupts
    assert paused[1]["detail"] == pending.value
    assert pending.value["type"] == "plan_approval"

    resumed = [
        e
        for e in _stream(app, Command(resume={"action": "approve"}), config)
        if e["type"].startswith(PREFIX)
    ]
    assert _names(resumed)[0] == ("gate_decided", "planner")
    assert resumed[0]["detail"]["action"] == "approve"
    assert _names(resumed)[-1] == ("termination", None)
    assert ("turn", "a") in _names(resumed)


def test_a_fan_outs_open_gates_are_announced_at_each_pause() -> None:
    agents = [
        Agent("a", model=ScriptedModel(["A"]), approval="after"),
        Agent("b", model=ScriptedModel(["B"]), approval="after"),
    ]
    app = create_concurrent(agents).compile(checkpointer=InMemorySaver())
    config = _config()

    # Branches run in one superstep: their events come in the order their threads finish.
    names = _names(_stream(app, TASK, config))
    assert names[0] == ("routing", None)
    assert sorted(names[1:3]) == [("turn", "a"), ("turn", "b")]
    assert sorted(names[3:]) == [("gate_opened", "a"), ("gate_opened", "b")]
    pending = {i.value["agent"]: i for i in app.get_state(config).interrupts}
    first, second = pending["a"], pending["b"]
    decided = _stream(app, Command(resume={first.id: {"action": "approve"}}), config)
    assert sorted(_names(decided)) == [("gate_decided", "a"), ("gate_opened", "b")]
    finished = _stream(app, Command(resume={second.id: {"action": "approve"}}), config)
    assert _names(finished) == [("gate_decided", "b"), ("routing", None), ("termination", None)]
