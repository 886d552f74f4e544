"""What limits a wide `Send` fan-out, and what a batched fan-out would save.

`python -m benchmarks.fanout_study` measures, for async agents sleeping 100 ms:

- `scaling`: wall / 100 ms and the overhead per branch for N = 100 ... 2000, ours and
  the hand-written `Send` graph (is the per-branch cost constant or growing with N?);
- `timeline`: when branches start and end relative to `ainvoke`: how long it takes to
  start all N (scheduling) and to finish after the last branch returns (collecting
  the writes);
- `writes`: hand-written variants whose branches write what ours write (a named
  message through `add_messages`; audit, usage and results channels), to split our
  gap into LangGraph's per-write costs and our own code;
- `gc`: the same runs with Python's cyclic garbage collector paused (`gc.disable()`),
  and how many collections a run triggers;
- `checkpoint`: both with `InMemorySaver` (each branch's writes saved);
- `batching`: the same N waits run as one node gathering them, or as one `Send`
  per chunk of agents, i.e. what a batched fan-out pattern could reach;
- `profile`: cProfile's top entries (own time) for both graphs.

This is an investigation, not the suite: few runs (median of `--runs`, default 5),
nothing written to disk. See benchmarks/README.md for the findings.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import math
import operator
import pstats
import statistics
import sys
import sysconfig
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Annotated, Any, NotRequired

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.pregel import Pregel
from langgraph.types import Command, Send
from typing_extensions import TypedDict

from benchmarks._harness import load_line
from benchmarks.fanout import SLEEP, names, task
from benchmarks.handwritten import WorkerInput, fan_out
from langgraph_orchestra import Agent, Usage, create_concurrent
from langgraph_orchestra.state.records import AuditRecord, audit_record
from langgraph_orchestra.state.reducers import add_usage, append, merge_dict

SECTIONS = ("scaling", "timeline", "writes", "gc", "checkpoint", "batching", "profile")
Graph = Pregel[Any, Any, Any, Any]
Stamps = list[tuple[float, float]]


# -- graphs --------------------------------------------------------------------------


def _ours(n: int, stamps: Stamps | None = None, **compile_kw: Any) -> Graph:
    async def agent(messages: list[BaseMessage]) -> str:
        start = time.perf_counter()
        await asyncio.sleep(SLEEP)
        if stamps is not None:
            stamps.append((start, time.perf_counter()))
        return "ok"

    graph: Graph = create_concurrent([Agent(name, runnable=agent) for name in names(n)]).compile(
        **compile_kw
    )
    return graph


def _hand(n: int, stamps: Stamps | None = None, **compile_kw: Any) -> Graph:
    async def worker(state: WorkerInput) -> dict[str, Any]:
        start = time.perf_counter()
        await asyncio.sleep(SLEEP)
        if stamps is not None:
            stamps.append((start, time.perf_counter()))
        return {"results": [f"{state['name']}: ok"]}

    graph: Graph = fan_out(names(n), worker).compile(**compile_kw)
    return graph


class _WideState(TypedDict):
    """The hand-written fan-out state with our channels (and our reducers)."""

    messages: Annotated[list[AnyMessage], add_messages]
    results: NotRequired[Annotated[dict[str, str | None], merge_dict]]
    audit: NotRequired[Annotated[list[AuditRecord], append]]
    usage: NotRequired[Annotated[dict[str, Usage], add_usage]]
    final: NotRequired[str]


def _hand_writing(n: int, *, governance: bool) -> Graph:
    """The hand-written fan-out whose workers also write a named message (and, with
    `governance`, an audit record and usage, into dict results: ours' four writes)."""

    async def worker(state: WorkerInput) -> dict[str, Any]:
        await asyncio.sleep(SLEEP)
        name = state["name"]
        update: dict[str, Any] = {
            "messages": [AIMessage("ok", name=name)],
            "results": {name: "ok"},
        }
        if governance:
            update["audit"] = [audit_record("turn", name, messages=1)]
            update["usage"] = {
                name: Usage(calls=1, input_tokens=0, output_tokens=0, latency_s=SLEEP, cost_usd=0.0)
            }
        return update

    def dispatch(state: _WideState) -> Command[Any]:
        return Command(
            goto=[Send("worker", {"name": m, "messages": state["messages"]}) for m in names(n)]
        )

    def join(state: _WideState) -> dict[str, Any]:
        return {"final": "\n\n".join(f"{k}: {v}" for k, v in state.get("results", {}).items())}

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(_WideState)
    builder.add_node("dispatch", dispatch, destinations=("worker",))
    builder.add_node("worker", worker)
    builder.add_node("join", join)
    builder.add_edge(START, "dispatch")
    builder.add_edge("worker", "join")
    builder.add_edge("join", END)
    graph: Graph = builder.compile()
    return graph


class _BatchState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    results: NotRequired[Annotated[list[str], operator.add]]
    final: NotRequired[str]


class _ChunkInput(TypedDict):
    names: list[str]
    messages: list[AnyMessage]


async def _one(name: str) -> str:
    await asyncio.sleep(SLEEP)
    return f"{name}: ok"


def _batched(n: int, chunk: int | None) -> Graph:
    """Branches run by `asyncio.gather`: in one node (`chunk=None`) or one `Send` per
    `chunk` agents."""

    async def run_chunk(state: _ChunkInput) -> dict[str, Any]:
        return {"results": list(await asyncio.gather(*(_one(m) for m in state["names"])))}

    def join(state: _BatchState) -> dict[str, Any]:
        return {"final": "\n\n".join(state.get("results", []))}

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(_BatchState)
    team = names(n)
    if chunk is None:

        async def gather_all(state: _BatchState) -> dict[str, Any]:
            return await run_chunk({"names": team, "messages": state["messages"]})

        builder.add_node("gather", gather_all)
        builder.add_edge(START, "gather")
        builder.add_edge("gather", "join")
    else:

        def dispatch(state: _BatchState) -> Command[Any]:
            return Command(
                goto=[
                    Send("chunk", {"names": team[i : i + chunk], "messages": state["messages"]})
                    for i in range(0, n, chunk)
                ]
            )

        builder.add_node("dispatch", dispatch, destinations=("chunk",))
        builder.add_node("chunk", run_chunk)
        builder.add_edge(START, "dispatch")
        builder.add_edge("chunk", "join")
    builder.add_node("join", join)
    builder.add_edge("join", END)
    graph: Graph = builder.compile()
    return graph


# -- measuring -----------------------------------------------------------------------


async def _wall(graph: Graph, config: RunnableConfig | None = None) -> float:
    gc.collect()
    start = time.perf_counter()
    await graph.ainvoke(task(), config)
    return time.perf_counter() - start


async def _saved_wall(graph: Graph, config: Callable[[], RunnableConfig] | None) -> float:
    """`_wall` with a fresh config (a new thread) per run, made outside the timing."""
    return await _wall(graph, config() if config else None)


async def _medians(sides: Sequence[Callable[[], Awaitable[float]]], runs: int) -> list[float]:
    """Median sample of each side, interleaved, after one warm-up each."""
    for side in sides:
        await side()
    samples: list[list[float]] = [[] for _ in sides]
    for i in range(runs):
        order = range(len(sides)) if i % 2 == 0 else reversed(range(len(sides)))
        for j in order:
            samples[j].append(await sides[j]())
    return [statistics.median(s) for s in samples]


def _per_branch_ms(wall: float, n: int) -> float:
    return (wall - SLEEP) * 1000 / n


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)).rstrip())


# -- sections ------------------------------------------------------------------------


async def scaling(runs: int) -> None:
    print("\n## scaling: wall / 100 ms, and overhead per branch = (wall - 100 ms) / N")
    rows = []
    for n in (100, 250, 500, 1000, 2000):
        ours, hand = _ours(n), _hand(n)
        a, b = await _medians([partial(_wall, ours), partial(_wall, hand)], runs)
        rows.append(
            (
                str(n),
                f"{b / SLEEP:.2f}x",
                f"{_per_branch_ms(b, n):.3f} ms",
                f"{a / SLEEP:.2f}x",
                f"{_per_branch_ms(a, n):.3f} ms",
                f"{a / b:.2f}x",
            )
        )
    _print_table(("N", "hand-written", "per branch", "ours", "per branch", "ours / hand"), rows)


async def timeline(n: int, runs: int) -> None:
    print(f"\n## timeline at N = {n}: medians, ms after ainvoke starts")
    rows = []
    for label, build in (("hand-written", _hand), ("ours", _ours)):
        stamps: Stamps = []
        graph = build(n, stamps)
        await graph.ainvoke(task())
        figures: list[tuple[float, float, float, float]] = []
        for _ in range(runs):
            stamps.clear()
            gc.collect()
            start = time.perf_counter()
            await graph.ainvoke(task())
            done = time.perf_counter()
            first = min(s for s, _ in stamps) - start
            last = max(s for s, _ in stamps) - start
            last_end = max(e for _, e in stamps) - start
            figures.append((first, last, last_end, done - start))
        first, last, last_end, total = (statistics.median(f[i] for f in figures) for i in range(4))
        rows.append(
            (
                label,
                f"{first * 1000:.0f}",
                f"{last * 1000:.0f}",
                f"{last_end * 1000:.0f}",
                f"{total * 1000:.0f}",
                f"{(total - last_end) * 1000:.0f}",
            )
        )
    _print_table(
        (
            "graph",
            "1st branch starts",
            "last branch starts",
            "last branch ends",
            "ainvoke returns",
            "after last end",
        ),
        rows,
    )


async def writes(n: int, runs: int) -> None:
    print(f"\n## writes per branch at N = {n}: wall / 100 ms (what each extra write costs)")
    sides = {
        "hand-written: results list (2 writes/branch)": _hand(n),
        "+ named message via add_messages (3 writes)": _hand_writing(n, governance=False),
        "+ audit, usage, dict results (5 writes, = ours' writes)": _hand_writing(
            n, governance=True
        ),
        "ours (5 writes/branch)": _ours(n),
    }
    walls = await _medians([partial(_wall, g) for g in sides.values()], runs)
    base = walls[0]
    _print_table(
        ("graph", "wall / 100 ms", "vs hand-written"),
        [
            (label, f"{w / SLEEP:.2f}x", f"{w / base:.2f}x")
            for label, w in zip(sides, walls, strict=True)
        ],
    )


async def _wall_without_gc(graph: Graph) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        await graph.ainvoke(task())
        return time.perf_counter() - start
    finally:
        gc.enable()


async def collector(n: int, runs: int) -> None:
    print(f"\n## garbage collector at N = {n}: wall / 100 ms with gc on, and paused")
    hand, ours = _hand(n), _ours(n)
    walls = await _medians(
        [
            partial(_wall, hand),
            partial(_wall_without_gc, hand),
            partial(_wall, ours),
            partial(_wall_without_gc, ours),
        ],
        runs,
    )
    rows = []
    for label, graph, (on, off) in (
        ("hand-written", hand, walls[:2]),
        ("ours", ours, walls[2:]),
    ):
        gc.collect()
        before = [s["collections"] for s in gc.get_stats()]
        await graph.ainvoke(task())
        counts = [s["collections"] - b for s, b in zip(gc.get_stats(), before, strict=True)]
        rows.append(
            (
                label,
                f"{on / SLEEP:.2f}x",
                f"{off / SLEEP:.2f}x",
                f"{(on - off) * 1000:.0f} ms",
                "/".join(map(str, counts)),
            )
        )
    _print_table(("graph", "gc on", "gc paused", "gc share", "collections gen 0/1/2 per run"), rows)


async def checkpoint(n: int, runs: int) -> None:
    print(f"\n## checkpointer at N = {n}: wall / 100 ms, InMemorySaver, new thread per run")
    ids = iter(range(10**9))

    def config() -> RunnableConfig:
        return {"configurable": {"thread_id": f"t{next(ids)}"}}

    graphs = {
        "hand-written, no checkpointer": (_hand(n), False),
        "hand-written, InMemorySaver": (_hand(n, checkpointer=InMemorySaver()), True),
        "ours, no checkpointer": (_ours(n), False),
        "ours, InMemorySaver": (_ours(n, checkpointer=InMemorySaver()), True),
    }
    walls = await _medians(
        [partial(_saved_wall, g, config if saved else None) for g, saved in graphs.values()],
        runs,
    )
    _print_table(
        ("graph", "wall / 100 ms"),
        [(label, f"{w / SLEEP:.2f}x") for label, w in zip(graphs, walls, strict=True)],
    )


async def batching(n: int, runs: int) -> None:
    print(f"\n## batching at N = {n}: the same waits, fewer LangGraph tasks; wall / 100 ms")
    chunk = max(1, math.ceil(n / 20))
    sides = {
        f"hand-written Send x {n}": _hand(n),
        f"ours (Send x {n})": _ours(n),
        f"Send x {math.ceil(n / chunk)}, each gathering {chunk} agents": _batched(n, chunk),
        f"one node gathering all {n} agents": _batched(n, None),
    }
    walls = await _medians([partial(_wall, g) for g in sides.values()], runs)
    _print_table(
        ("graph", "wall / 100 ms", "overhead per branch"),
        [
            (label, f"{w / SLEEP:.2f}x", f"{_per_branch_ms(w, n):.3f} ms")
            for label, w in zip(sides, walls, strict=True)
        ],
    )


def profile(n: int, runs: int, top: int = 15) -> None:
    print(f"\n## profile at N = {n}: cProfile, {runs} runs, top {top} by own time")
    for label, build in (("hand-written", _hand), ("ours", _ours)):
        graph = build(n)

        async def go(graph: Graph = graph, label: str = label) -> None:
            await graph.ainvoke(task())
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                await graph.ainvoke(task())
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(top)
            print(f"\n### {label}")
            text = out.getvalue()
            for prefix in sorted({*sysconfig.get_paths().values(), *sys.path}, key=len)[::-1]:
                if len(prefix) > 1:
                    text = text.replace(prefix.rstrip("/") + "/", "")
            print(text[text.find("   ncalls") :].rstrip())

        asyncio.run(go())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fanout_study",
        description="Why a wide Send fan-out costs what it costs (see the module docstring).",
    )
    parser.add_argument("--n", type=int, default=1000, help="fan-out width (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this section (repeatable); default: all",
    )
    args = parser.parse_args(argv)
    chosen = args.only or list(SECTIONS)
    print(f"fan-out study, N = {args.n}, median of {args.runs} runs; " + load_line("before"))
    for section in chosen:
        if section == "profile":
            profile(args.n, args.runs)
        elif section == "scaling":
            asyncio.run(scaling(args.runs))
        else:
            run = {
                "timeline": timeline,
                "writes": writes,
                "gc": collector,
                "checkpoint": checkpoint,
            }.get(section, batching)
            asyncio.run(run(args.n, args.runs))
    print("\n" + load_line("after"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
