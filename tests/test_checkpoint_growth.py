"""Growing channels are DeltaChannels: checkpoints stay small, reads stay exact.

`messages`, `audit`, `exceptions`, `usage` and `run_usage` store only each step's
updates, plus a full copy every `SNAPSHOT_EVERY` updates. These tests pin what that must
not change: every message has one id on every read, removal by id works, values read
back equal the run's own, old threads (written before the channels changed) load and
resume, and a checkpoint's size does not grow with the transcript.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NotRequired

import pytest
from langchain_core.messages import AnyMessage, RemoveMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph.message import add_messages
from langgraph.types import Command
from typing_extensions import TypedDict

from langgraph_orchestra import Agent, create_group_chat, create_sequential
from langgraph_orchestra.state import (
    SNAPSHOT_EVERY,
    AuditRecord,
    ExceptionRecord,
    RunStart,
    Usage,
    add_count,
    add_exceptions,
    add_usage,
    append,
)
from langgraph_orchestra.threads import read_thread

TASK = {"messages": [("user", "write a tagline")]}


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[SqliteSaver]:
    conn = sqlite3.connect(tmp_path / "store.db", check_same_thread=False)
    store = SqliteSaver(conn)
    store.setup()
    yield store
    conn.close()


def _config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread}, "recursion_limit": 5_000}


def _says(text: str) -> Any:
    return lambda messages: text


def _drive(app: Any, config: RunnableConfig, first: Any) -> dict[str, Any]:
    """Run to the end: reject the first review with feedback, approve the rest, and
    answer the human seat once."""
    state: dict[str, Any] = app.invoke(first, config)
    rejected = False
    while state.get("__interrupt__"):
        (request,) = [i.value for i in state["__interrupt__"]]
        if request["type"] == "human_turn":
            answer: dict[str, Any] = {"content": "make it rhyme"}
        elif not rejected:
            rejected = True
            answer = {"action": "reject", "feedback": "shorter"}
        else:
            answer = {"action": "approve"}
        state = app.invoke(Command(resume=answer), config)
    return state


def _chat(rounds: int) -> Any:
    return create_group_chat(
        [
            Agent("writer", runnable=_says("draft"), approval="after"),
            Agent("critic", runnable=_says("ok")),
        ],
        human="ana",
        max_rounds=rounds,
    )


def _ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


# --- ids ------------------------------------------------------------------------------------


def test_every_message_has_one_stable_id_on_every_read(saver: SqliteSaver) -> None:
    config = _config("ids")
    result = _drive(_chat(5).compile(checkpointer=saver), config, TASK)
    names = [m.name for m in result["messages"][1:]]
    # The user's task (a tuple), an agent's reply, a reviewer's feedback and a person's
    # message all went in, and each has an id.
    assert {"writer", "critic", "ana"} <= set(names)
    assert any(m.type == "human" and m.name != "ana" for m in result["messages"][1:])
    ids = _ids(result["messages"])
    assert all(ids) and len(set(ids)) == len(ids)

    # A fresh graph (as in another process) reads the same ids, twice; so does the CLI's
    # graph-less reader.
    fresh = _chat(5).compile(checkpointer=saver)
    assert _ids(fresh.get_state(config).values["messages"]) == ids
    assert _ids(fresh.get_state(config).values["messages"]) == ids
    assert _ids(read_thread(saver, "ids").messages) == ids
    assert result["messages"][result["run"]["task"]].id == result["run"]["task_id"]


def test_a_message_removed_by_id_stays_removed(saver: SqliteSaver) -> None:
    app = create_sequential([Agent("a", runnable=_says("A")), Agent("b", runnable=_says("B"))])
    app = app.compile(checkpointer=saver)
    config = _config("remove")
    first = app.invoke(TASK, config)["messages"]
    app.update_state(config, {"messages": [RemoveMessage(id=first[1].id)]})
    assert _ids(app.get_state(config).values["messages"]) == _ids([first[0], first[2]])
    # A new run on the thread replays the removal, not the removed message.
    second = app.invoke({"messages": [("user", "again")]}, config)["messages"]
    assert [m.text for m in second] == ["write a tagline", "B", "again", "A", "B"]
    assert _ids(app.get_state(config).values["messages"]) == _ids(second)


# --- values across snapshots ----------------------------------------------------------------


def test_values_read_back_equal_the_runs_across_snapshots(saver: SqliteSaver) -> None:
    rounds = SNAPSHOT_EVERY + 15  # some updates after the first snapshot, too
    team = create_group_chat(
        [Agent("a", runnable=_says("x")), Agent("b", runnable=_says("y"))], max_rounds=rounds
    )
    app = team.compile(checkpointer=saver)
    config = _config("long")
    result = app.invoke(TASK, config)
    assert len(result["messages"]) == rounds + 1
    read = team.compile(checkpointer=saver).get_state(config).values
    for key in ("messages", "audit", "usage", "run_usage", "round"):
        assert read[key] == result[key], key
    assert read_thread(saver, "long").audit == result["audit"]
    # The next run starts its own count and usage (reset with an Overwrite).
    again = app.invoke({"messages": [("user", "once more")]}, {**config, "max_rounds": 1})
    assert again["round"] == rounds
    assert again["run_usage"]["a"]["calls"] == (rounds + 1) // 2
    assert again["usage"]["a"]["calls"] == 2 * ((rounds + 1) // 2)


def _bytes_per_step(path: Path, thread: str) -> list[int]:
    """Bytes each checkpoint of `thread` and its writes take in the store, oldest first."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT c.checkpoint_id, length(c.checkpoint) + length(c.metadata) + coalesce("
            "(SELECT sum(length(w.value)) FROM writes w WHERE w.thread_id = c.thread_id "
            "AND w.checkpoint_id = c.checkpoint_id), 0) FROM checkpoints c "
            "WHERE c.thread_id = ? ORDER BY c.checkpoint_id",
            (thread,),
        ).fetchall()
    return [size for _, size in rows]


def test_a_checkpoint_does_not_grow_with_the_transcript(tmp_path: Path) -> None:
    path = tmp_path / "size.db"
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    rounds = SNAPSHOT_EVERY - 20  # before the first snapshot: only deltas are written
    team = create_group_chat(
        [Agent("a", runnable=_says("x" * 400)), Agent("b", runnable=_says("y" * 400))],
        max_rounds=rounds,
    )
    team.compile(checkpointer=saver).invoke(TASK, _config("size"))
    conn.close()
    sizes = _bytes_per_step(path, "size")
    early, late = sum(sizes[10:30]), sum(sizes[-22:-2])
    # The transcript is ~8x longer at the end; with whole values in each checkpoint a
    # late step would cost several times an early one.
    assert late < 1.2 * early, (early, late)


# --- threads written before the channels were DeltaChannels --------------------------------


class _OldState(TypedDict):
    """The base state as it was declared before: every channel a binary reducer."""

    messages: Annotated[list[AnyMessage], add_messages]
    audit: NotRequired[Annotated[list[AuditRecord], append]]
    exceptions: NotRequired[Annotated[list[ExceptionRecord], add_exceptions]]
    usage: NotRequired[Annotated[dict[str, Usage], add_usage]]
    run_usage: NotRequired[Annotated[dict[str, Usage], add_usage]]
    run: NotRequired[RunStart]
    round: NotRequired[Annotated[int, add_count]]
    final: NotRequired[str | None]
    stop_reason: NotRequired[str | None]


def _gated(state_schema: type[Any] | None = None) -> Any:
    agents = [Agent("a", runnable=_says("A")), Agent("b", runnable=_says("B"), approval="after")]
    return create_sequential(agents, state_schema=state_schema)


def test_a_thread_written_before_the_change_loads_and_resumes(saver: SqliteSaver) -> None:
    config = _config("old")
    old = _gated(_OldState).compile(checkpointer=saver)
    paused = old.invoke(TASK, config)
    assert paused["__interrupt__"]
    before = old.get_state(config).values

    new = _gated().compile(checkpointer=saver)
    assert new.get_state(config).values == before
    assert read_thread(saver, "old").audit == before["audit"]
    state = new.invoke(Command(resume={"action": "approve"}), config)
    assert (state["final"], state["stop_reason"]) == ("B", "completed")
    assert [m.text for m in state["messages"]] == ["write a tagline", "A", "B"]
    assert _ids(state["messages"]) == _ids(before["messages"])
    assert [r["agent"] for r in state["audit"] if r["kind"] == "turn"] == ["a", "b"]
    assert state["usage"] == new.get_state(config).values["usage"]
    # And it goes on: a second run on the thread reads the mixed history right.
    again = new.invoke({"messages": [("user", "again")]}, config)
    assert again["__interrupt__"]
    assert [m.text for m in new.get_state(config).values["messages"]] == [
        "write a tagline",
        "A",
        "B",
        "again",
        "A",
        "B",  # written, and held at its gate
    ]
