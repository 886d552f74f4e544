"""Batched fan-outs: `create_concurrent(..., batch_size=k)` runs branches in chunks."""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from _views import awhole, whole
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import Agent, AgentError, TeamConfigError, create_concurrent
from langgraph_orchestra.names import BATCH
from langgraph_orchestra.nodes.batch import AUTO_BATCH_WIDTH, batch_size

INPUT = {"messages": [("user", "Review the proposal.")]}


class Calls:
    """Counts each agent's calls (thread-safe); an agent may fail on chosen calls."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self._lock = threading.Lock()

    def agent(self, name: str, *, fail_on: tuple[int, ...] = ()) -> Callable[..., str]:
        def answer(messages: list[BaseMessage]) -> str:
            with self._lock:
                self.count[name] += 1
                call = self.count[name]
            if call in fail_on:
                raise RuntimeError(f"{name} broke")
            return f"{name} says hi"

        return answer


def _team(calls: Calls, names: list[str], **options: Any) -> list[Agent]:
    return [Agent(n, runnable=calls.agent(n), **options) for n in names]


def _config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread}}


# --- shape and order --------------------------------------------------------------------


def test_branches_run_in_chunks_and_land_in_team_order() -> None:
    calls = Calls()
    names = ["e", "d", "c", "b", "a"]  # team order is not alphabetical
    app = create_concurrent(_team(calls, names), batch_size=2).compile()
    assert BATCH in app.get_graph().nodes
    assert not set(names) & set(app.get_graph().nodes)  # no node per batched agent

    chunks = [
        update[BATCH] for update in app.stream(INPUT, stream_mode="updates") if BATCH in update
    ]
    # Streaming is per chunk: three chunks (2 + 2 + 1), each one update.
    assert len(chunks) == 3
    state = whole(app, INPUT)
    assert list(state["results"]) == names
    assert [m.name for m in state["messages"][1:]] == names
    assert [r["agent"] for r in state["audit"] if r["kind"] == "turn"] == names
    assert state["round"] == 5
    assert state["final"] == "\n\n".join(f"{n}: {n} says hi" for n in names)
    assert calls.count == Counter(dict.fromkeys(names, 2))  # the stream and the invoke


def test_a_chunk_runs_its_branches_together_on_threads() -> None:
    meet = threading.Barrier(3, timeout=5)  # passes only if all three run at once

    def waits(messages: list[BaseMessage]) -> str:
        meet.wait()
        return "ok"

    team = [Agent(n, runnable=waits) for n in ("a", "b", "c")]
    state = whole(create_concurrent(team, batch_size=3).compile(), INPUT)
    assert state["results"] == {"a": "ok", "b": "ok", "c": "ok"}


def test_a_chunk_runs_its_branches_together_as_tasks() -> None:
    running, most = 0, 0

    async def waits(messages: list[BaseMessage]) -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return "ok"

    team = [Agent(n, runnable=waits) for n in ("a", "b", "c", "d")]
    state = asyncio.run(awhole(create_concurrent(team, batch_size=4).compile(), INPUT))
    assert list(state["results"]) == ["a", "b", "c", "d"]
    assert most == 4


def test_batch_size_one_keeps_one_task_per_branch() -> None:
    calls = Calls()
    app = create_concurrent(_team(calls, ["a", "b"]), batch_size=1).compile()
    assert BATCH not in app.get_graph().nodes
    assert whole(app, INPUT)["results"] == {"a": "a says hi", "b": "b says hi"}


def test_batching_is_automatic_above_the_documented_width() -> None:
    calls = Calls()
    wide = _team(calls, [f"a{i}" for i in range(AUTO_BATCH_WIDTH + 1)])
    assert BATCH in create_concurrent(wide).compile().get_graph().nodes
    assert BATCH not in create_concurrent(wide[:-1]).compile().get_graph().nodes
    assert (batch_size(None, AUTO_BATCH_WIDTH), batch_size(None, 1000)) == (1, 50)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_a_bad_batch_size_is_refused(bad: Any) -> None:
    message = (
        "batch_size must be a whole number >= 1 (1: one task per branch) or None "
        f"(automatic above {AUTO_BATCH_WIDTH} branches), got {bad!r}"
    )
    with pytest.raises(TeamConfigError, match=re.escape(message)):
        create_concurrent(_team(Calls(), ["a", "b"]), batch_size=bad)


def test_batch_is_a_reserved_agent_name() -> None:
    with pytest.raises(TeamConfigError, match=re.escape("Agent name 'batch' is reserved")):
        Agent("batch", runnable=lambda m: "x")


# --- branches that may pause keep their own task -----------------------------------------


def test_gated_and_escalating_branches_keep_their_own_task() -> None:
    calls = Calls()
    team = [
        *_team(calls, ["a", "b"]),
        Agent("gated", runnable=calls.agent("gated"), approval="after"),
        Agent("flaky", runnable=calls.agent("flaky", fail_on=(1,)), on_error="escalate"),
        *_team(calls, ["c"]),
    ]
    app = create_concurrent(team, batch_size=5).compile(checkpointer=InMemorySaver())
    assert {"gated", "flaky", BATCH} <= set(app.get_graph().nodes)
    config = _config("pauses")
    paused = app.invoke(INPUT, config)
    kinds = sorted(i.value["type"] for i in paused["__interrupt__"])
    assert kinds == ["approval", "exception"]
    # The batched branches finished once and are held until the fan-out closes.
    assert calls.count == Counter({"a": 1, "b": 1, "c": 1, "gated": 1, "flaky": 1})

    ids = {i.value["type"]: i.id for i in paused["__interrupt__"]}
    state = app.invoke(
        Command(
            resume={ids["approval"]: {"action": "approve"}, ids["exception"]: {"action": "retry"}}
        ),
        config,
    )
    assert state["stop_reason"] == "completed"
    order = ["a", "b", "gated", "flaky", "c"]
    assert state["final"] == "\n\n".join(f"{n}: {n} says hi" for n in order)
    assert [m.name for m in state["messages"][1:] if m.name in {"a", "b", "c"}] == ["a", "b", "c"]
    # Resuming the paused branches ran no batched branch again.
    assert calls.count == Counter({"a": 1, "b": 1, "c": 1, "gated": 1, "flaky": 2})


# --- failures ---------------------------------------------------------------------------


def test_a_branch_that_fails_and_continues_leaves_the_rest_of_its_chunk() -> None:
    calls = Calls()
    team = [
        Agent("a", runnable=calls.agent("a")),
        Agent("b", runnable=calls.agent("b", fail_on=(1,)), on_error="continue"),
        Agent("c", runnable=calls.agent("c")),
    ]
    state = whole(create_concurrent(team, batch_size=3).compile(), INPUT)
    assert state["results"] == {"a": "a says hi", "b": None, "c": "c says hi"}
    assert [(e["agent"], e["status"]) for e in state["exceptions"]] == [("b", "continued")]
    assert state["final"] == "a: a says hi\n\nc: c says hi"
    assert state["stop_reason"] == "completed"


def test_a_crash_mid_chunk_reruns_that_chunk_only() -> None:
    """The chunk is the unit of durability: a resume re-runs the whole failed chunk
    (its finished branches too) and none of the chunks that had finished."""
    calls = Calls()
    team = [
        Agent("a", runnable=calls.agent("a")),
        Agent("b", runnable=calls.agent("b")),
        Agent("c", runnable=calls.agent("c")),
        Agent("d", runnable=calls.agent("d", fail_on=(1,))),
    ]
    app = create_concurrent(team, batch_size=2).compile(checkpointer=InMemorySaver())
    config = _config("crash")
    with pytest.raises(AgentError, match="Agent 'd' failed: RuntimeError: d broke"):
        app.invoke(INPUT, config)
    assert calls.count == Counter({"a": 1, "b": 1, "c": 1, "d": 1})

    state = whole(app, None, config)  # resume from the last checkpoint
    assert calls.count == Counter({"a": 1, "b": 1, "c": 2, "d": 2})
    assert list(state["results"]) == ["a", "b", "c", "d"]
    assert [m.name for m in state["messages"][1:]] == ["a", "b", "c", "d"]
    assert state["stop_reason"] == "completed"
