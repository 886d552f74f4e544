"""Hierarchical: the manager's cost per delegation, and parallel delegation.

The manager's scripted model delegates to `WORKERS` workers in one message (one
`delegate_to_<worker>` tool call each, a fresh call id per call), then answers after
reading their results: one invocation is `WORKERS` delegations and 2 manager calls.

- `hierarchical.delegation.5`: instant sync workers, `invoke`; a timed sample is the
  wall time of `BATCH` invocations divided by the delegations they made, in ms.
- `hierarchical.parallel.5`: async workers sleeping `SLEEP` s, `ainvoke`; a sample is
  one run's wall time divided by `SLEEP` (1.00 = all five overlap and nothing else
  costs; in series it would be at least 5.00).

Ours is `create_hierarchical`; the hand-written graph (`handwritten.delegation`) is a
manager node calling the same scripted model with the same tools bound, a `dispatch`
node sending each call's task to its worker's node, and a deferred `join` appending one
`ToolMessage` per call before returning to the manager.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.tool import tool_call
from langgraph.pregel import Pregel

from benchmarks._harness import Figure, Plan, Row, ameasure, measure
from benchmarks.handwritten import WorkerFn, delegation
from langgraph_orchestra import Agent, create_hierarchical
from langgraph_orchestra.testing import ScriptedModel

__all__ = [
    "BATCH",
    "PARALLEL_LIMIT",
    "SLEEP",
    "WORKERS",
    "delegation_row",
    "parallel_check",
    "parallel_row",
]

WORKERS = 5
"""Workers the manager delegates to in one message."""
NAMES = tuple(f"w{i}" for i in range(WORKERS))
BATCH = 5
"""Invocations per timed sample of the delegation row."""
SLEEP = 0.1
"""What each worker waits in the parallel row, in seconds."""
PARALLEL_LIMIT = 2.0
"""The parallel check: ours under this many times the ideal (in series: >= `WORKERS`)."""
TASK = "Write a one-page market brief on e-bikes."
ANSWER = "Brief: all five parts covered."


def _delegate(messages: list[BaseMessage]) -> AIMessage:
    calls = [
        tool_call(
            name=f"delegate_to_{n}", args={"task": f"part {n}"}, id=f"call_{uuid.uuid4().hex[:24]}"
        )
        for n in NAMES
    ]
    return AIMessage("", tool_calls=calls)


def _script(runs: int) -> list[Any]:
    """The manager's replies: delegate to every worker at once, then answer; per run."""
    return [_delegate, ANSWER] * runs


def _task() -> dict[str, Any]:
    return {"messages": [HumanMessage(TASK)]}


def _ok(messages: list[BaseMessage]) -> str:
    return f"done: {messages[-1].text}"


def _ok_task(task: str) -> str:
    return f"done: {task}"


async def _sleep(messages: list[BaseMessage]) -> str:
    await asyncio.sleep(SLEEP)
    return f"done: {messages[-1].text}"


async def _sleep_task(task: str) -> str:
    await asyncio.sleep(SLEEP)
    return f"done: {task}"


def _check(label: str, state: Mapping[str, Any], *, ours: bool) -> None:
    """Refuse to time a graph that did not return every worker's result, then answer."""
    messages: Sequence[BaseMessage] = state["messages"]
    results = [m.text for m in messages if isinstance(m, ToolMessage)]
    expected = [f"done: part {n}" for n in NAMES]
    problem = None
    if results != expected or state.get("final") != ANSWER:
        problem = f"tool results {results}, final {state.get('final')!r}"
    elif ours and state.get("stop_reason") != "completed":
        problem = f"stop_reason={state.get('stop_reason')!r}"
    if problem:
        raise RuntimeError(f"{label}: the graph did not run as benchmarked: {problem}")


def _build(
    runs: int, ours_worker: Callable[..., Any], hand_worker: WorkerFn
) -> tuple[Pregel[Any, Any, Any, Any], Pregel[Any, Any, Any, Any], list[ScriptedModel]]:
    ours_model = ScriptedModel(_script(runs), name="ours manager")
    hand_model = ScriptedModel(_script(runs), name="hand-written manager")
    ours: Pregel[Any, Any, Any, Any] = create_hierarchical(
        [Agent(n, f"Worker {n}", runnable=ours_worker) for n in NAMES], manager_model=ours_model
    ).compile()
    hand: Pregel[Any, Any, Any, Any] = delegation(
        hand_model, dict.fromkeys(NAMES, hand_worker)
    ).compile()
    return ours, hand, [ours_model, hand_model]


def delegation_row(plan: Plan) -> Row:
    """Ours vs the hand-written delegation, 5 instant workers, ms per delegation."""
    name = f"hierarchical.delegation.{WORKERS}"
    ours, hand, models = _build(1 + (plan.warmup + plan.runs) * BATCH, _ok, _ok_task)
    _check(name, ours.invoke(_task()), ours=True)
    _check(name, hand.invoke(_task()), ours=False)

    def sampler(graph: Pregel[Any, Any, Any, Any]) -> Callable[[], float]:
        def sample() -> float:
            start = time.perf_counter()
            for _ in range(BATCH):
                graph.invoke(_task())
            return (time.perf_counter() - start) * 1000 / (BATCH * WORKERS)

        return sample

    a, b = measure(sampler(ours), sampler(hand), plan)
    for model in models:
        model.assert_complete()
    return Row(
        name=name,
        title=f"manager delegating to {WORKERS} instant workers in one message, then "
        "answering, invoke, ms per delegation",
        unit="ms/delegation",
        target=None,
        aim=None,
        ours=a,
        hand=b,
        batch=BATCH,
        note="2 scripted manager calls per run on both sides",
    )


def parallel_row(plan: Plan) -> Row:
    """Ours vs the hand-written delegation, 5 async workers sleeping `SLEEP` s, x ideal."""
    name = f"hierarchical.parallel.{WORKERS}"
    ours, hand, models = _build(1 + plan.warmup + plan.runs, _sleep, _sleep_task)

    def sampler(graph: Pregel[Any, Any, Any, Any]) -> Any:
        async def sample() -> float:
            start = time.perf_counter()
            await graph.ainvoke(_task())
            return (time.perf_counter() - start) / SLEEP

        return sample

    async def run() -> tuple[list[float], list[float]]:
        _check(name, await ours.ainvoke(_task()), ours=True)
        _check(name, await hand.ainvoke(_task()), ours=False)
        return await ameasure(sampler(ours), sampler(hand), plan)

    a, b = asyncio.run(run())
    for model in models:
        model.assert_complete()
    return Row(
        name=name,
        title=f"{WORKERS} async workers sleeping {SLEEP * 1000:.0f} ms delegated in one "
        f"message, ainvoke, wall / {SLEEP} s",
        unit="x ideal",
        target=None,
        aim=None,
        ours=a,
        hand=b,
    )


def parallel_check(rows: Mapping[str, Row]) -> Figure | None:
    """Ours' parallel-delegation wall against the ideal (None without the row)."""
    row = rows.get(f"hierarchical.parallel.{WORKERS}")
    if row is None or row.skipped:
        return None
    ours, hand = row.ours_median, row.hand_median
    return Figure(
        name=f"hierarchical.parallel.{WORKERS}.ideal",
        title=f"{WORKERS} delegated workers sleeping {SLEEP} s: wall / {SLEEP} s",
        columns=("ours", "hand-written"),
        cells=(f"{ours:.2f}x", f"{hand:.2f}x"),
        data={"ours": ours, "hand": hand},
        target=f"ours < {PARALLEL_LIMIT:.2f}x (series >= {WORKERS:.2f}x)",
        met=ours < PARALLEL_LIMIT,
    )
