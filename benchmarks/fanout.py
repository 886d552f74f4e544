"""Fan-out efficiency: `create_concurrent` vs a hand-written `Send` fan-out.

N agents each wait `SLEEP` seconds (`asyncio.sleep`, or `time.sleep` in the sync
variant) and answer "ok". A sample is one run's wall time divided by `SLEEP`: 1.0 is
the ideal (all N waits overlap perfectly, orchestration costs nothing); anything above
is orchestration overhead or waves of a bounded pool.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel

from benchmarks._harness import Plan, Row, ameasure, measure
from benchmarks.handwritten import WorkerInput, fan_out, fan_out_per_agent
from langgraph_orchestra import Agent, create_concurrent

__all__ = ["SLEEP", "async_row", "names", "sync_row"]

SLEEP = 0.1
"""What each agent waits, in seconds."""
TASK = "Review the proposal."
TARGET = 1.10
IDEAL_TARGET = 2.0
"""The wall time ours should stay within at N = 1000 async, in multiples of the ideal."""

Pool = Literal["default", "max_concurrency"]
"""Thread pool of a sync run: LangGraph's default, or `max_concurrency=N` in the config."""


def names(n: int) -> list[str]:
    """The agents of an N-wide fan-out."""
    return [f"a{i}" for i in range(n)]


async def _async_agent(messages: list[BaseMessage]) -> str:
    await asyncio.sleep(SLEEP)
    return "ok"


def _sync_agent(messages: list[BaseMessage]) -> str:
    time.sleep(SLEEP)
    return "ok"


async def _async_worker(state: WorkerInput) -> dict[str, Any]:
    await asyncio.sleep(SLEEP)
    return {"results": [f"{state['name']}: ok"]}


def _sync_worker(state: WorkerInput) -> dict[str, Any]:
    time.sleep(SLEEP)
    return {"results": [f"{state['name']}: ok"]}


def build(
    n: int, *, sync: bool, per_agent: bool = False, batch_size: int | None = None
) -> tuple[Pregel[Any, Any, Any, Any], Pregel[Any, Any, Any, Any]]:
    """Compile (ours, hand-written) for an N-wide fan-out of sleeping agents.

    The hand-written graph sends every branch to one `worker` node, or with `per_agent`
    to one node per agent (the topology of ours). Ours batches as `create_concurrent`
    does by default (above 100 branches), or as `batch_size` says.
    """
    team = names(n)
    agent = _sync_agent if sync else _async_agent
    agents = [Agent(name, runnable=agent) for name in team]
    ours = create_concurrent(agents, batch_size=batch_size).compile()
    shape = fan_out_per_agent if per_agent else fan_out
    hand = shape(team, _sync_worker if sync else _async_worker).compile()
    return ours, hand


def task() -> dict[str, Any]:
    """A fresh input."""
    return {"messages": [HumanMessage(TASK)]}


def check(label: str, n: int, ours: dict[str, Any], hand: dict[str, Any]) -> None:
    """Refuse to time graphs that did not run every branch."""
    results = {m.name: m.text for m in ours.get("messages") or () if isinstance(m, AIMessage)}
    problems = []
    if sorted(results) != sorted(names(n)) or set(results.values()) != {"ok"}:
        problems.append(f"ours ran {len(results)} of {n} branches")
    if ours.get("stop_reason") != "completed":
        problems.append(f"ours stopped as {ours.get('stop_reason')!r}")
    if len(hand.get("results") or ()) != n:
        problems.append(f"hand-written ran {len(hand.get('results') or ())} of {n} branches")
    if problems:
        raise RuntimeError(f"{label}: the graphs did not run as benchmarked: {problems}")


def async_row(n: int, plan: Plan, *, per_agent: bool = False, batch_size: int | None = None) -> Row:
    """`ainvoke` of N async agents sleeping `SLEEP` s each."""
    ours, hand = build(n, sync=False, per_agent=per_agent, batch_size=batch_size)
    name = f"fanout.async.{n}" + (".per-agent-nodes" if per_agent else "")
    if batch_size is not None:
        name += f".batch_size={batch_size}"

    def sampler(graph: Pregel[Any, Any, Any, Any]) -> Any:
        async def sample() -> float:
            start = time.perf_counter()
            await graph.ainvoke(task())
            return (time.perf_counter() - start) / SLEEP

        return sample

    async def run() -> tuple[list[float], list[float]]:
        check(name, n, await ours.ainvoke(task()), await hand.ainvoke(task()))
        return await ameasure(sampler(ours), sampler(hand), plan)

    a, b = asyncio.run(run())
    return Row(
        name=name,
        title=f"{n} async agents sleeping {SLEEP * 1000:.0f} ms, ainvoke, wall / {SLEEP} s"
        + (", hand-written with one node per agent" if per_agent else ""),
        unit="x ideal",
        target=TARGET,
        aim=None,
        ours=a,
        hand=b,
        note=(
            f"ours batched by default (ceil({n} / 20) branches a task); target for ours "
            f"alone: <= {IDEAL_TARGET:.1f}x ideal"
            if n > 100 and batch_size is None
            else ""
        ),
    )


def sync_row(n: int, plan: Plan, *, pool: Pool) -> Row:
    """`invoke` of N sync agents sleeping `SLEEP` s each, in LangGraph's thread pool."""
    ours, hand = build(n, sync=True)
    config: RunnableConfig | None = {"max_concurrency": n} if pool == "max_concurrency" else None
    name = f"fanout.sync.{n}" + ("" if pool == "default" else f".max_concurrency={n}")

    def sampler(graph: Pregel[Any, Any, Any, Any]) -> Any:
        def sample() -> float:
            start = time.perf_counter()
            graph.invoke(task(), config)
            return (time.perf_counter() - start) / SLEEP

        return sample

    check(name, n, ours.invoke(task(), config), hand.invoke(task(), config))
    a, b = measure(sampler(ours), sampler(hand), plan)
    if pool == "default":
        note = "LangGraph's default pool for sync tasks: min(32, CPUs + 4) threads"
    else:
        note = f"run config max_concurrency={n}: a pool of {n} threads"
    return Row(
        name=name,
        title=f"{n} sync agents sleeping {SLEEP * 1000:.0f} ms, invoke, wall / {SLEEP} s",
        unit="x ideal",
        target=None,  # the issue sets the target for ainvoke; the sync rows inform
        aim=None,
        ours=a,
        hand=b,
        note=note,
    )
