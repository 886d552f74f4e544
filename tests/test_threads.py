"""Tests for driving a thread to its next pause or its end (`drive`, `adrive`)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from langgraph_orchestra import (
    Agent,
    AgentError,
    ApprovalDecision,
    DecisionError,
    HumanTurn,
    TeamConfigError,
    UnknownThreadError,
    create_concurrent,
    create_group_chat,
    create_sequential,
)
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import (
    RunEvent,
    RunInfo,
    adrive,
    aread_thread,
    drive,
    read_thread,
    resume_value,
    run_config,
)

TASK = {"messages": [("user", "Where is my refund?")]}
APPROVE = ApprovalDecision(action="approve", reviewer="ana")


def _gated(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A writer, then an editor whose output waits for approval."""
    return create_sequential(
        [
            Agent("writer", model=ScriptedModel(["Your refund is on its way."])),
            Agent("editor", model=ScriptedModel(["Refund issued today."]), approval="after"),
        ]
    ).compile(checkpointer=saver)


def _steps(events: list[RunEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.node) for e in events]


def _recorded(events: list[RunEvent]) -> list[tuple[str, str | None]]:
    return [(r["kind"], r["agent"]) for e in events for r in e.audit]


def test_drive_pauses_at_the_gate_then_resumes_to_the_end(
    checkpointer: BaseCheckpointSaver[Any],
) -> None:
    team = _gated(checkpointer)
    config = run_config("ticket-42", RunInfo(team="support", pattern="sequential"))
    events: list[RunEvent] = []

    paused = drive(team, TASK, config, on_event=events.append)

    assert paused.status == "waiting for approval"
    assert [(i.kind, i.agent) for i in paused.interrupts] == [("approval", "editor")]
    assert paused.interrupts[0].value["content"] == "Refund issued today."
    assert (paused.final, paused.stop_reason) == (None, None)
    assert paused.run == RunInfo(team="support", pattern="sequential")
    assert _steps(events) == [
        ("started", "writer"),
        ("finished", "writer"),
        ("started", "editor"),
        ("finished", "editor"),
        ("started", "approve_editor"),
    ]
    assert _recorded(events) == [("turn", "writer"), ("turn", "editor")]

    events.clear()
    done = drive(team, resume_value(paused.interrupts, APPROVE), config, on_event=events.append)

    assert done.status == "done"
    assert done.interrupts == ()
    assert (done.final, done.stop_reason) == ("Refund issued today.", "completed")
    assert _steps(events) == [
        ("started", "approve_editor"),
        ("finished", "approve_editor"),
        ("started", "finalize"),
        ("finished", "finalize"),
    ]
    assert _recorded(events) == [("approval", "editor"), ("termination", None)]
    assert done == read_thread(checkpointer, "ticket-42", graph=team)


def test_drive_without_a_callback_returns_the_same_thread() -> None:
    team = _gated(InMemorySaver())
    config = run_config("t", RunInfo())

    paused = drive(team, TASK, config)

    assert paused.status == "waiting for approval"
    assert [m.text for m in paused.messages][-1] == "Refund issued today."


async def test_adrive_pauses_and_resumes_on_async_stores(
    async_checkpointer: BaseCheckpointSaver[Any],
) -> None:
    team = _gated(async_checkpointer)
    config = run_config("ticket-7", RunInfo())
    nodes: list[str] = []

    paused = await adrive(team, TASK, config, on_event=lambda e: nodes.append(e.node))

    assert paused.status == "waiting for approval"
    assert [i.agent for i in paused.interrupts] == ["editor"]
    assert nodes == ["writer", "writer", "editor", "editor", "approve_editor"]
    assert paused == await aread_thread(async_checkpointer, "ticket-7", graph=team)

    done = await adrive(team, resume_value(paused.interrupts, APPROVE), config)

    assert (done.status, done.final, done.stop_reason) == (
        "done",
        "Refund issued today.",
        "completed",
    )


def test_a_branch_turn_is_reported_once_across_a_pause() -> None:
    # The branches' turns are held until the fan-out closes, which moves them into the
    # audit trail: they are reported when each branch finishes, not again at the close.
    team = create_concurrent(
        [
            Agent("a", model=ScriptedModel(["A"])),
            Agent("b", model=ScriptedModel(["B"]), approval="after"),
        ]
    ).compile(checkpointer=InMemorySaver())
    config = run_config("t", RunInfo())
    events: list[RunEvent] = []

    paused = drive(team, TASK, config, on_event=events.append)
    drive(team, resume_value(paused.interrupts, APPROVE), config, on_event=events.append)

    recorded = _recorded(events)
    assert recorded.count(("turn", "a")) == 1
    assert recorded.count(("turn", "b")) == 1
    assert recorded[-1] == ("termination", None)


def test_drive_lets_the_run_errors_through() -> None:
    saver = InMemorySaver()
    team = create_sequential(
        [Agent("writer", model=ScriptedModel([RuntimeError("model down")]))]
    ).compile(checkpointer=saver)
    config = run_config("t", RunInfo())

    with pytest.raises(AgentError, match="model down") as raised:
        drive(team, TASK, config)

    assert raised.value.agent == "writer"
    assert read_thread(saver, "t").status == "failed"


async def test_drive_needs_a_checkpointer() -> None:
    team = _gated(InMemorySaver()).copy(update={"checkpointer": None})
    message = (
        "drive needs a graph compiled with a checkpointer, got checkpointer=None; "
        "compile it with .compile(checkpointer=...) (e.g. open_checkpointer(url))"
    )

    with pytest.raises(TeamConfigError, match=re.escape(message)):
        drive(team, TASK, run_config("t", RunInfo()))
    with pytest.raises(TeamConfigError, match=re.escape(message)):
        await adrive(team, TASK, run_config("t", RunInfo()))


async def test_aread_thread_refuses_an_unknown_thread() -> None:
    with pytest.raises(UnknownThreadError, match=r"^no thread 'nope' in the store \("):
        await aread_thread(InMemorySaver(), "nope")


def _with_a_person(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A group chat: the writer, then the person `ana`, then the writer again."""
    return create_group_chat(
        [Agent("writer", model=ScriptedModel(["Draft.", "Draft, shorter."]))],
        human="ana",
        allow_repeat=True,
        max_rounds=3,
    ).compile(checkpointer=saver)


def test_a_human_turn_is_resumed_with_the_persons_message() -> None:
    saver = InMemorySaver()
    team = _with_a_person(saver)
    config = run_config("t-human", RunInfo())
    paused = drive(team, TASK, config)
    assert paused.status == "waiting for approval"
    [pending] = paused.interrupts
    assert (pending.kind, pending.agent) == ("human_turn", "ana")
    assert pending.value == {
        "type": "human_turn",
        "participant": "ana",
        "last": "Draft.",
        "round": 1,
    }
    command = resume_value(paused.interrupts, HumanTurn(content="Shorter, please."))
    assert command.resume == {pending.id: {"content": "Shorter, please."}}
    done = drive(team, command, config)
    assert (done.final, done.stop_reason) == ("Draft, shorter.", "max_rounds")
    assert [(m.name, m.text) for m in done.messages[1:]] == [
        ("writer", "Draft."),
        ("ana", "Shorter, please."),
        ("writer", "Draft, shorter."),
    ]


def test_a_decision_of_another_kind_is_refused_for_a_human_turn() -> None:
    saver = InMemorySaver()
    paused = drive(_with_a_person(saver), TASK, run_config("t-human", RunInfo()))
    with pytest.raises(DecisionError) as caught:
        resume_value(paused.interrupts, APPROVE)
    assert (str(caught.value), caught.value.hint) == (
        "the decision is for an approval, but the thread waits for a person's turn (ana)",
        "decide it with --say TEXT",
    )
    gated = _gated(saver)
    config = run_config("t-gated", RunInfo())
    waiting = drive(gated, TASK, config)
    with pytest.raises(DecisionError) as caught:
        resume_value(waiting.interrupts, HumanTurn(content="Hello"))
    assert (str(caught.value), caught.value.hint) == (
        "the decision is for a person's turn, but the thread waits for an approval (editor)",
        "decide it with --approve, --reject TEXT, --edit FILE or --answer TEXT",
    )
