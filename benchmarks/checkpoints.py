"""Checkpoint size over a long thread: a group chat against a hand-written chat loop.

Two speakers take turns (round robin) for N turns on a SQLite store, ours as
`create_group_chat(..., max_rounds=N)` with the default context, the hand-written graph
as two nodes appending to `messages` (`add_messages`) with a counting edge between them.
Each reply is `REPLY` (~200 bytes). A sample is deterministic: the bytes the thread
left in the store (checkpoint and metadata blobs plus saved writes) divided by N; one
run per side. `get_state` rows time a read of the finished thread (a fresh graph on the
same file, as another process would build it).
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import StateGraph

from benchmarks._harness import Plan, Row, measure
from benchmarks.handwritten import chat
from langgraph_orchestra import Agent, create_group_chat

__all__ = ["REPLY", "bytes_row", "read_row"]

REPLY = "ok " * 66
"""Each turn's reply (~200 bytes)."""
SPEAKERS = ("a", "b")
TASK = "Discuss the proposal."


def _reply(messages: list[BaseMessage]) -> str:
    return REPLY


def _ours(turns: int) -> StateGraph[Any, Any, Any, Any]:
    return create_group_chat([Agent(n, runnable=_reply) for n in SPEAKERS], max_rounds=turns)


def _config(turns: int) -> RunnableConfig:
    return {"configurable": {"thread_id": "bench"}, "recursion_limit": 4 * turns + 20}


def _store_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        (checkpoints,) = conn.execute(
            "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints"
        ).fetchone()
        (writes,) = conn.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()
    return int(checkpoints) + int(writes)


def _thread(
    build: Callable[[int], StateGraph[Any, Any, Any, Any]], turns: int, folder: Path
) -> tuple[Path, Callable[[], Any]]:
    """Run one N-turn thread into a new store; return its file and a reader of its state."""
    path = folder / f"{build.__name__}-{turns}.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    state = (
        build(turns)
        .compile(checkpointer=saver)
        .invoke({"messages": [("user", TASK)]}, _config(turns))
    )
    replies = len(state["messages"]) - 1
    if replies != turns:
        raise RuntimeError(f"{build.__name__}: expected {turns} replies, got {replies}")
    reader = build(turns).compile(checkpointer=saver)
    return path, lambda: reader.get_state(_config(turns))


def _hand(turns: int) -> StateGraph[Any, Any, Any, Any]:
    return chat(SPEAKERS, turns, REPLY)


def bytes_row(turns: int, plan: Plan) -> Row:
    """Store bytes per turn of one N-turn thread, ours and hand-written."""
    with tempfile.TemporaryDirectory() as tmp:
        ours_path, _ = _thread(_ours, turns, Path(tmp))
        hand_path, _ = _thread(_hand, turns, Path(tmp))
        ours, hand = _store_bytes(ours_path) / turns, _store_bytes(hand_path) / turns
    return Row(
        name=f"checkpoint.bytes.{turns}",
        title=f"SQLite store bytes per turn, {turns}-turn two-speaker chat",
        unit="KB/turn",
        target=0.1 if turns >= 500 else None,
        aim=None,
        ours=[ours / 1024],
        hand=[hand / 1024],
        note=(
            "deterministic, one run per side; the issue's targets: ours at 500 turns "
            "<= 1.5x ours at 5 turns, and ratio <= 0.10 at 500 turns"
            if turns >= 500
            else ""
        ),
    )


def read_row(turns: int, plan: Plan) -> Row:
    """Time of one `get_state` of a finished N-turn thread (a fresh graph on the file)."""
    with tempfile.TemporaryDirectory() as tmp:
        _, ours_read = _thread(_ours, turns, Path(tmp))
        _, hand_read = _thread(_hand, turns, Path(tmp))

        def timed(read: Callable[[], Any]) -> Callable[[], float]:
            def sample() -> float:
                start = time.perf_counter()
                read()
                return (time.perf_counter() - start) * 1000

            return sample

        a, b = measure(timed(ours_read), timed(hand_read), plan)
    return Row(
        name=f"checkpoint.get_state.{turns}",
        title=f"get_state of a finished {turns}-turn chat on SQLite",
        unit="ms/read",
        target=None,
        aim=None,
        ours=a,
        hand=b,
        note="ours replays at most SNAPSHOT_EVERY updates per growing channel",
    )
