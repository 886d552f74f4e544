"""Per-turn overhead counted, not timed: Python bytecode instructions per agent turn.

`python -m benchmarks.opcount` runs the group chat (3 agents round robin, R = 100) and
the sequential pipeline (5 agents) of the suite, ours and the hand-written graph, once
each after two warm-up invocations, under a tracer that counts every bytecode
instruction Python executes (`sys.settrace` with opcode events) and every Python
function call, and prints both per agent turn with their ratios. `--by-file N` also
prints the N source files where ours executes the most instructions more than the
hand-written graph.

The count does not depend on the machine's load, so it shows a change of a few per cent
that wall times on a shared machine hide. It is a proxy, not a time: work done in C
(copying a list, a pydantic validation, `isoformat`) counts as one instruction however
long it takes, and a call costs far more than an instruction (inlining a helper trades
calls for instructions), so the two ratios bracket the ratio of times for these graphs
(the timed rows of `python -m benchmarks`) rather than equal it. Deterministic up to a
few tenths of a per cent (dict and set orders, garbage collection).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.pregel import Pregel

from benchmarks.group_chat import NAMES as CHAT
from benchmarks.handwritten import round_robin, sequential_plain
from benchmarks.sequential import NAMES as PIPELINE
from langgraph_orchestra import Agent, create_group_chat, create_sequential

__all__ = ["count", "main"]

ROUNDS = 100
"""Rounds of the counted group chat."""
Tracer = Callable[[FrameType, str, Any], Any]


def _ok(messages: list[BaseMessage]) -> str:
    return "ok"


def count(graph: Pregel[Any, Any, Any, Any]) -> tuple[Counter[str], int]:
    """Bytecode instructions one `invoke` of `graph` executes, by source file, and the
    Python function calls it makes (a call costs far more than one instruction)."""
    task = {"messages": [HumanMessage("Plan the launch of the new pricing page.")]}
    graph.invoke(task)
    graph.invoke(task)  # warm: caches, compiled schemas, the incremental views
    counts: Counter[str] = Counter()
    calls = 0

    def local(frame: FrameType, event: str, arg: Any) -> Tracer:
        if event == "opcode":
            counts[frame.f_code.co_filename] += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Tracer:
        nonlocal calls
        calls += 1
        frame.f_trace_opcodes = True
        return local

    threading.settrace(tracer)
    sys.settrace(tracer)
    try:
        graph.invoke(task)
    finally:
        sys.settrace(None)
        threading.settrace(None)
    return counts, calls


def _cases() -> dict[str, tuple[Pregel[Any, Any, Any, Any], Pregel[Any, Any, Any, Any], int]]:
    """Name -> (ours, hand-written, agent turns per invocation)."""
    chat = create_group_chat([Agent(n, runnable=_ok) for n in CHAT], max_rounds=ROUNDS)
    pipeline = create_sequential([Agent(n, runnable=_ok) for n in PIPELINE])
    return {
        f"group_chat.round_robin.{ROUNDS}": (
            chat.compile(),
            round_robin(CHAT, ROUNDS).compile(),
            ROUNDS,
        ),
        "sequential.plain": (pipeline.compile(), sequential_plain(PIPELINE).compile(), 5),
    }


def _short(path: str) -> str:
    for marker in ("site-packages/", "langgraph_orchestra/", "benchmarks/"):
        if marker in path:
            head = "" if marker == "site-packages/" else marker
            return head + path.split(marker, 1)[1]
    return path


def main(argv: list[str] | None = None) -> None:
    """Print instructions per turn for each case, ours and hand-written, and the ratio."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.opcount", description=__doc__)
    parser.add_argument("--by-file", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    print(f"{'per agent turn':<38} {'ours':>8} {'hand-written':>13} {'ratio':>7}")
    for name, (ours, hand, turns) in _cases().items():
        (mine, my_calls), (theirs, their_calls) = count(ours), count(hand)
        a, b = sum(mine.values()) / turns, sum(theirs.values()) / turns
        print(f"{name + ' instructions':<38} {a:>8,.0f} {b:>13,.0f} {a / b:>6.3f}x")
        c, d = my_calls / turns, their_calls / turns
        print(f"{name + ' calls':<38} {c:>8,.0f} {d:>13,.0f} {c / d:>6.3f}x")
        if args.by_file:
            extra: Counter[str] = Counter()
            for path in set(mine) | set(theirs):
                extra[_short(path)] += mine[path] - theirs[path]
            for path, more in extra.most_common(args.by_file):
                print(f"    {more / turns:>+9,.0f}  {path}")


if __name__ == "__main__":
    main()
