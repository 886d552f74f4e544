"""Batch runs: a JSONL file's tasks, one thread each, run concurrently and resumable."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from _meet import Meeting
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph

from langgraph_orchestra import Agent, ApprovalDecision, InputError, create_sequential
from langgraph_orchestra.batch_runs import BatchItem, arun_batch, read_batch
from langgraph_orchestra.checkpoint import aopen_checkpointer
from langgraph_orchestra.threads import RunInfo, adrive, aread_thread, resume_value, run_config

RUN = RunInfo(team="desk", pattern="sequential")


def lines(tmp_path: Path, *rows: str, name: str = "inputs.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
async def saver(tmp_path: Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    async with aopen_checkpointer(str(tmp_path / "state.db")) as opened:
        yield opened


class Calls:
    """Agents as plain functions that count their calls and how many run at once."""

    def __init__(self) -> None:
        self.count = 0
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.fail_once: set[str] = set()

    def answer(
        self, delay: float = 0.0, meet: Meeting | None = None
    ) -> Callable[[list[BaseMessage]], str]:
        def reply(messages: list[BaseMessage]) -> str:
            task = str(messages[0].content)
            with self.lock:
                self.count += 1
                number = self.count
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                if meet is not None and number <= meet.parties:
                    meet.wait()  # the first calls wait until they all run at once
                time.sleep(delay)
                with self.lock:
                    if task in self.fail_once:
                        self.fail_once.discard(task)
                        raise RuntimeError(f"flaky on {task}")
                return f"answer to {task}"
            finally:
                with self.lock:
                    self.running -= 1

        return reply

    def team(
        self, *, delay: float = 0.0, meet: Meeting | None = None, approval: bool = False
    ) -> Any:
        def build(used: Mapping[str, int]) -> StateGraph[Any, Any, Any, Any]:
            return create_sequential(
                [
                    Agent(
                        "writer",
                        runnable=self.answer(delay, meet),
                        approval="after" if approval else None,
                    )
                ]
            )

        return build


# -- the input file ---------------------------------------------------------------------


def test_a_batch_file_gives_one_thread_per_task(tmp_path: Path) -> None:
    path = lines(
        tmp_path,
        '"Where is my order?"',
        "",
        '{"input": "Refund B-2", "id": "b-2"}',
        '{"input": "Track C-3", "id": 17}',
        '{"input": "Where is my order?"}',
        name="March orders.jsonl",
    )
    items = read_batch(path, team="support desk")
    assert items == [
        BatchItem(1, "Where is my order?", None, "support-desk-March-orders-1-6951ac"),
        BatchItem(3, "Refund B-2", "b-2", "support-desk-March-orders-b-2"),
        BatchItem(4, "Track C-3", "17", "support-desk-March-orders-17"),
        BatchItem(5, "Where is my order?", None, "support-desk-March-orders-5-6951ac"),
    ]
    assert read_batch(path, team="support desk") == items  # the same ids on every read


def test_every_problem_of_a_batch_file_is_listed(tmp_path: Path) -> None:
    path = lines(
        tmp_path,
        "Where is my order?",
        "[1, 2]",
        '{"input": "x", "priority": 1}',
        '{"input": "  "}',
        '{"input": "x", "id": "a b"}',
        '{"input": "x", "id": true}',
        '{"input": "x", "id": "a"}',
        '{"input": "y", "id": "a"}',
    )
    with pytest.raises(InputError) as caught:
        read_batch(path, team="t")
    assert str(caught.value).splitlines() == [
        f"{path}:1: not JSON (Expecting value, column 1)",
        f"{path}:2: expected a JSON string or object, got list",
        f"{path}:3: unknown keys ['priority']; allowed: input, id",
        f"{path}:4: 'input' must be a non-empty string (the task)",
        f"{path}:5: 'id' 'a b' may hold letters, digits, '_', '.' and '-' only (it names the "
        "thread)",
        f"{path}:6: 'id' must be a string or a number, got bool",
        f"{path}:8: id 'a' is used by line 7 too; ids name threads and must differ",
    ]
    assert caught.value.hint == (
        'give one task per line: "TEXT" or {"input": "TEXT", "id": "ID"} (id optional)'
    )
    with pytest.raises(InputError, match="no task"):
        read_batch(lines(tmp_path, "", "  ", name="empty.jsonl"), team="t")


# -- running ----------------------------------------------------------------------------


async def test_tasks_run_concurrently_up_to_the_limit_in_their_own_threads(
    tmp_path: Path, saver: BaseCheckpointSaver[Any]
) -> None:
    calls = Calls()
    items = read_batch(lines(tmp_path, *(f'"task {i}"' for i in range(6))), team="desk")
    seen: list[int] = []

    results = await arun_batch(
        items,
        team=calls.team(delay=0.2, meet=Meeting(2)),
        saver=saver,
        run=RUN,
        concurrency=2,
        on_result=lambda r: seen.append(r.item.line),
    )

    assert calls.most == 2 and calls.count == 6
    assert [r.item for r in results] == items  # in the file's order
    assert sorted(seen) == [1, 2, 3, 4, 5, 6]
    assert [(r.action, r.status) for r in results] == [("ran", "done")] * 6
    for result in results:
        stored = await aread_thread(saver, result.item.thread_id)
        assert stored.final == f"answer to {result.item.input}"
        assert stored.run.team == "desk"  # each thread records its run
    assert results[0].to_json() == {
        "line": 1,
        "id": None,
        "thread_id": items[0].thread_id,
        "input": "task 0",
        "action": "ran",
        "status": "done",
        "final": "answer to task 0",
        "stop_reason": "completed",
        "error": None,
        "interrupts": [],
        "usage": {"calls": 1, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
    }


async def test_a_rerun_skips_the_done_and_retries_the_failed(
    tmp_path: Path, saver: BaseCheckpointSaver[Any]
) -> None:
    calls = Calls()
    calls.fail_once.add("task 1")
    items = read_batch(lines(tmp_path, '"task 0"', '"task 1"'), team="desk")

    first = await arun_batch(items, team=calls.team(), saver=saver, run=RUN)

    assert [(r.action, r.status) for r in first] == [("ran", "done"), ("ran", "failed")]
    assert first[1].error is not None and "flaky on task 1" in first[1].error
    # "failed" is what the store says: the task's error is kept with its checkpoint
    stored = await aread_thread(saver, items[1].thread_id)
    assert stored.status == "failed" and "flaky on task 1" in str(stored.error)
    assert calls.count == 2

    second = await arun_batch(items, team=calls.team(), saver=saver, run=RUN)

    assert [(r.action, r.status) for r in second] == [("skipped", "done"), ("resumed", "done")]
    assert calls.count == 3  # only the failed step ran again
    assert second[1].thread is not None and second[1].thread.final == "answer to task 1"
    again = await arun_batch(items, team=calls.team(), saver=saver, run=RUN)
    assert [r.action for r in again] == ["skipped", "skipped"] and calls.count == 3


async def test_a_thread_stopped_mid_run_goes_on_from_its_checkpoint(
    tmp_path: Path, saver: BaseCheckpointSaver[Any]
) -> None:
    calls = Calls()
    items = read_batch(lines(tmp_path, '"task 0"'), team="desk")
    build = calls.team()
    graph = build({}).compile(checkpointer=saver)
    config = run_config(items[0].thread_id, RUN)
    # the process stops before the writer runs (as if it were killed there)
    await graph.ainvoke({"messages": [("user", "task 0")]}, config, interrupt_before=["writer"])
    assert (await aread_thread(saver, items[0].thread_id)).status == "running"

    results = await arun_batch(items, team=build, saver=saver, run=RUN)

    assert [(r.action, r.status) for r in results] == [("resumed", "done")]
    assert calls.count == 1
    assert results[0].thread is not None
    assert [m.text for m in results[0].thread.messages] == ["task 0", "answer to task 0"]


async def test_a_paused_thread_waits_until_decided_then_is_collected(
    tmp_path: Path, saver: BaseCheckpointSaver[Any]
) -> None:
    calls = Calls()
    items = read_batch(lines(tmp_path, '"task 0"'), team="desk")
    build = calls.team(approval=True)

    first = await arun_batch(items, team=build, saver=saver, run=RUN)
    assert [(r.action, r.status) for r in first] == [("ran", "waiting for approval")]
    assert first[0].to_json()["interrupts"] == [
        {"id": first[0].thread.interrupts[0].id, "kind": "approval", "agent": "writer"}  # type: ignore[union-attr]
    ]
    again = await arun_batch(items, team=build, saver=saver, run=RUN)
    assert [(r.action, r.status) for r in again] == [("waiting", "waiting for approval")]
    assert calls.count == 1

    thread = again[0].thread
    assert thread is not None
    approve = ApprovalDecision(action="approve", reviewer="ana")
    graph = build({}).compile(checkpointer=saver)
    await adrive(graph, resume_value(thread.interrupts, approve), run_config(thread.thread_id, RUN))

    collected = await arun_batch(items, team=build, saver=saver, run=RUN)
    assert [(r.action, r.status) for r in collected] == [("skipped", "done")]
    assert collected[0].thread is not None and collected[0].thread.final == "answer to task 0"


async def test_the_concurrency_is_at_least_one(saver: BaseCheckpointSaver[Any]) -> None:
    with pytest.raises(InputError, match=r"^concurrency must be at least 1, got 0$"):
        await arun_batch([], team=Calls().team(), saver=saver, run=RUN, concurrency=0)


async def test_a_batch_runs_and_resumes_on_every_async_store(
    tmp_path: Path, async_checkpointer: BaseCheckpointSaver[Any]
) -> None:
    calls = Calls()
    desk = f"desk-{uuid.uuid4().hex[:8]}"  # a shared Postgres keeps other runs' threads
    items = read_batch(lines(tmp_path, *(f'"task {i}"' for i in range(4))), team=desk)

    first = await arun_batch(
        items, team=calls.team(delay=0.05), saver=async_checkpointer, run=RUN, concurrency=2
    )
    again = await arun_batch(items, team=calls.team(), saver=async_checkpointer, run=RUN)

    assert [(r.action, r.status) for r in first] == [("ran", "done")] * 4
    assert [(r.action, r.status) for r in again] == [("skipped", "done")] * 4
    assert calls.count == 4 and calls.most <= 2
