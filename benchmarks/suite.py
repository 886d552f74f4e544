"""The rows `python -m benchmarks` runs, in order, with their run counts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from benchmarks import (
    checkpoints,
    fanout,
    group_chat,
    handoff,
    hierarchical,
    magentic,
    network,
    planner_executor,
    sequential,
)
from benchmarks._harness import Figure, Plan, Row
from langgraph_orchestra.context import Window

__all__ = ["BENCHMARKS", "DERIVED", "Benchmark", "select"]


@dataclass(frozen=True)
class Benchmark:
    """One row of the table and how to measure it."""

    name: str
    """Stable id (what `--only` matches)."""
    plan: Plan
    """Runs and warm-up of a full run."""
    quick: Plan
    """Runs and warm-up with `--quick`."""
    run: Callable[[Plan], Row | Figure]
    """Measures the row (or counts an information figure, which takes no timing)."""


# A sequential sample is 20 invocations (~50 ms; ~180 ms with a checkpointer): 40 per
# side keep the four rows near a minute together.
_SEQ, _SEQ_QUICK = Plan(runs=40, warmup=5), Plan(runs=10, warmup=2)
# A fan-out sample is one run (>= 0.1 s): 30 per side, the minimum the issue asks.
_FAN, _FAN_QUICK = Plan(runs=30, warmup=3), Plan(runs=5, warmup=1)
# N = 1000 (~0.5 s a run) and the default-pool sync N = 100 (~1.7 s a run) dominate
# the total: 30 runs each, one warm-up.
_SLOW, _SLOW_QUICK = Plan(runs=30, warmup=1), Plan(runs=3, warmup=1)
# Group chat: a sample at R = 10 is 10 invocations (~60 ms), at R = 100 one (~60 ms);
# at R = 500 one invocation takes ~0.7 s (ours) and ~0.2 s (hand-written): one warm-up,
# and the whole group-chat block stays under ~100 s. The input-size figures run once
# each (scripted, so exact).
_GC, _GC_QUICK = Plan(runs=30, warmup=3), Plan(runs=5, warmup=1)
_GC_SLOW, _GC_SLOW_QUICK = Plan(runs=30, warmup=1), Plan(runs=2, warmup=1)
# The windowed R = 500 row is a diagnosis of the one above (~0.4 s a run): 15 runs.
_GC_DIAG = Plan(runs=15, warmup=1)
_ONCE = Plan(runs=1, warmup=0)  # deterministic figures and store bytes: one run
_GC_ROUNDS = (10, 100, 500)
# Handoff: a sample is 5 invocations of a 4-handoff chain (~25-60 ms with model agents).
_HO, _HO_QUICK = Plan(runs=30, warmup=3), Plan(runs=5, warmup=1)
# Manager-led patterns: a magentic sample is 5 runs of 10 rounds (~0.1 s), a delegation
# sample 5 runs of 5 delegations (~40 ms); the sleeping rows are one run (>= 0.1 s); a
# network sample 5 runs of R rounds.
_MGR, _MGR_QUICK = Plan(runs=30, warmup=3), Plan(runs=5, warmup=1)
# A read takes a few ms: 30 per side after a warm-up.
_READ, _READ_QUICK = Plan(runs=30, warmup=3), Plan(runs=5, warmup=1)

BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "sequential.plain", _SEQ, _SEQ_QUICK, partial(sequential.plain_row, checkpointer=False)
    ),
    Benchmark(
        "sequential.plain+memory",
        _SEQ,
        _SEQ_QUICK,
        partial(sequential.plain_row, checkpointer=True),
    ),
    Benchmark(
        "sequential.model", _SEQ, _SEQ_QUICK, partial(sequential.model_row, checkpointer=False)
    ),
    Benchmark(
        "sequential.model+memory",
        _SEQ,
        _SEQ_QUICK,
        partial(sequential.model_row, checkpointer=True),
    ),
    Benchmark("fanout.async.10", _FAN, _FAN_QUICK, partial(fanout.async_row, 10)),
    Benchmark("fanout.async.100", _FAN, _FAN_QUICK, partial(fanout.async_row, 100)),
    Benchmark("fanout.async.1000", _SLOW, _SLOW_QUICK, partial(fanout.async_row, 1000)),
    # The same without batching (one task per branch), as before batching existed.
    Benchmark(
        "fanout.async.1000.batch_size=1",
        _SLOW,
        _SLOW_QUICK,
        partial(fanout.async_row, 1000, batch_size=1),
    ),
    # The same rows against a hand-written graph of the same topology as ours (one node
    # per agent, as DESIGN's benchmarks ask), rather than one node taking every Send.
    Benchmark(
        "fanout.async.100.per-agent-nodes",
        _FAN,
        _FAN_QUICK,
        partial(fanout.async_row, 100, per_agent=True),
    ),
    Benchmark(
        "fanout.async.1000.per-agent-nodes",
        _SLOW,
        _SLOW_QUICK,
        partial(fanout.async_row, 1000, per_agent=True),
    ),
    Benchmark("fanout.sync.10", _FAN, _FAN_QUICK, partial(fanout.sync_row, 10, pool="default")),
    Benchmark(
        "fanout.sync.10.max_concurrency=10",
        _FAN,
        _FAN_QUICK,
        partial(fanout.sync_row, 10, pool="max_concurrency"),
    ),
    Benchmark("fanout.sync.100", _SLOW, _SLOW_QUICK, partial(fanout.sync_row, 100, pool="default")),
    Benchmark(
        "fanout.sync.100.max_concurrency=100",
        _FAN,
        _FAN_QUICK,
        partial(fanout.sync_row, 100, pool="max_concurrency"),
    ),
    Benchmark("group_chat.round_robin.10", _GC, _GC_QUICK, partial(group_chat.round_robin_row, 10)),
    Benchmark(
        "group_chat.round_robin.100", _GC, _GC_QUICK, partial(group_chat.round_robin_row, 100)
    ),
    Benchmark(
        "group_chat.round_robin.500",
        _GC_SLOW,
        _GC_SLOW_QUICK,
        partial(group_chat.round_robin_row, 500),
    ),
    # The same with a bounded view: what the per-round cost is without the "full" view.
    Benchmark(
        "group_chat.round_robin.500.window4",
        _GC_DIAG,
        _GC_SLOW_QUICK,
        partial(group_chat.round_robin_row, 500, window=4),
    ),
    Benchmark(
        "group_chat.input_chars.full",
        _ONCE,
        _ONCE,
        partial(group_chat.input_chars, "full", "full", _GC_ROUNDS),
    ),
    Benchmark(
        "group_chat.input_chars.window4",
        _ONCE,
        _ONCE,
        partial(group_chat.input_chars, "window4", Window(4), _GC_ROUNDS),
    ),
    Benchmark("group_chat.autogen.10", _GC, _GC_QUICK, partial(group_chat.autogen_row, 10)),
    Benchmark("group_chat.autogen.100", _GC, _GC_QUICK, partial(group_chat.autogen_row, 100)),
    Benchmark("handoff.model", _HO, _HO_QUICK, partial(handoff.model_row, baseline="nodes")),
    Benchmark(
        "handoff.model.create_agent",
        _HO,
        _HO_QUICK,
        partial(handoff.model_row, baseline="create_agent"),
    ),
    Benchmark("handoff.swarm", _HO, _HO_QUICK, handoff.swarm_row),
    Benchmark("handoff.router", _HO, _HO_QUICK, handoff.router_row),
    Benchmark(f"magentic.rounds.{magentic.ROUNDS}", _MGR, _MGR_QUICK, magentic.rounds_row),
    Benchmark("magentic.manager_tokens", _ONCE, _ONCE, magentic.manager_tokens),
    Benchmark(
        f"planner_executor.wave.{planner_executor.STEPS}",
        _MGR,
        _MGR_QUICK,
        planner_executor.wave_row,
    ),
    Benchmark(
        f"hierarchical.delegation.{hierarchical.WORKERS}",
        _MGR,
        _MGR_QUICK,
        hierarchical.delegation_row,
    ),
    Benchmark(
        f"hierarchical.parallel.{hierarchical.WORKERS}", _MGR, _MGR_QUICK, hierarchical.parallel_row
    ),
    *(
        Benchmark(f"network.rounds.{n}", _MGR, _MGR_QUICK, partial(network.rounds_row, n))
        for n in network.ROUNDS
    ),
    *(
        Benchmark(f"checkpoint.bytes.{n}", _ONCE, _ONCE, partial(checkpoints.bytes_row, n))
        for n in (5, 50, 200, 500)
    ),
    Benchmark("checkpoint.get_state.500", _READ, _READ_QUICK, partial(checkpoints.read_row, 500)),
)

DERIVED: tuple[Callable[[Mapping[str, Row]], Figure | None], ...] = (
    group_chat.flatness,
    planner_executor.ideal,
    hierarchical.parallel_check,
)
"""Figures computed from measured rows after the run (skipped when their rows were not run)."""


def _matches(name: str, pattern: str) -> bool:
    """`pattern` is a name or a prefix ending where a name part ends (`.` or `+`)."""
    if name == pattern:
        return True
    return name.startswith(pattern) and (pattern[-1] in ".+" or name[len(pattern)] in ".+")


def select(patterns: Iterable[str] | None) -> list[Benchmark]:
    """Return the benchmarks matching any pattern (all of them for none).

    Raises:
        ValueError: If a pattern matches nothing; the message lists the names.
    """
    wanted: Sequence[str] = [p for item in patterns or () for p in item.split(",") if p]
    if not wanted:
        return list(BENCHMARKS)
    for pattern in wanted:
        if not any(_matches(b.name, pattern) for b in BENCHMARKS):
            known = ", ".join(b.name for b in BENCHMARKS)
            raise ValueError(f"--only {pattern!r} matches no benchmark; known: {known}")
    return [b for b in BENCHMARKS if any(_matches(b.name, p) for p in wanted)]
