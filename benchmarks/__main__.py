"""`python -m benchmarks`: run the suite, print the table, write the JSON results."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks._harness import (
    MIN_RUNS,
    RESULTS,
    Figure,
    Row,
    figure_tables,
    load_line,
    table,
    write_json,
)
from benchmarks.suite import BENCHMARKS, DERIVED, select

QUICK_BANNER = (
    "QUICK RUN (--quick): fewer runs than the issue's minimum of 30 per row; "
    "the figures are indicative only, do not quote them."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Measure langgraph-orchestra against hand-written LangGraph graphs of the same "
            "topology (and optional peer frameworks): overhead per agent turn (sequential), "
            "fan-out efficiency (concurrent, planner-executor, hierarchical), cost per round "
            "(group chat, magentic), per handoff and per delegation. "
            "Both sides run interleaved in one process; the table shows medians and their "
            "ratio (ours / the other side). Offline; see benchmarks/README.md."
        ),
        epilog=(
            "Benchmarks: "
            + ", ".join(b.name for b in BENCHMARKS)
            + ". The N=1000 fan-out study (scaling, timeline, profile, batching) is "
            "`python -m benchmarks.fanout_study --help`."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="few runs per row (a smoke run, labelled QUICK in the output and the JSON)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=(
            "run only the benchmarks named NAME or under the prefix NAME (e.g. "
            "'sequential', 'fanout.async', 'fanout.async.1000'); repeatable or "
            "comma-separated"
        ),
    )
    parser.add_argument(
        "--runs",
        type=int,
        metavar="N",
        help=f"timed runs per row and side, overriding the defaults (>= {MIN_RUNS} to quote)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        metavar="PATH",
        help="where to write the JSON results (default: benchmarks/results/latest.json)",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        chosen = select(args.only)
    except ValueError as error:
        parser.error(str(error))
    if args.runs is not None and args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    if args.list:
        for bench in chosen:
            plan = bench.quick if args.quick else bench.plan
            print(f"{bench.name}  ({plan.runs} runs, {plan.warmup} warm-up)")
        return 0

    command = ["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)]
    print("langgraph-orchestra benchmarks: ours vs hand-written LangGraph, interleaved")
    if args.quick:
        print(QUICK_BANNER)
    start_load = load_line("before")
    print(start_load, flush=True)
    rows: list[Row] = []
    figures: list[Figure] = []
    started = time.perf_counter()
    for bench in chosen:
        plan = bench.quick if args.quick else bench.plan
        if args.runs is not None:
            plan = dataclasses.replace(plan, runs=args.runs)
        print(f"  {bench.name}: {plan.runs} runs per side ...", end=" ", flush=True)
        row_start = time.perf_counter()
        result = bench.run(plan)
        print(f"{time.perf_counter() - row_start:.1f} s", flush=True)
        if isinstance(result, Figure):
            figures.append(result)
        else:
            rows.append(result)
    by_name = {row.name: row for row in rows}
    figures.extend(fig for derive in DERIVED if (fig := derive(by_name)) is not None)
    elapsed = time.perf_counter() - started
    end_load = load_line("after")

    print()
    if args.quick:
        print(QUICK_BANNER)
    if rows:
        print(table(rows))
        print()
        print("ours / hand-written: ratio of the medians; paired ratio IQR: spread of run-by-run")
        print("ratios. ms/turn: wall time per agent turn; ms/round: per group-chat round (one")
        print("speaker turn, or a magentic manager decision and the turn it gives);")
        print("ms/handoff: per transfer of control (a 5-agent chain makes 4); ms/delegation:")
        print("per task a manager delegates (5 in one message).")
        print("x ideal: wall time / 100 ms (1.00 = ideal). A peer framework's column is")
        print("labelled with its name.")
    if any(row.runs < MIN_RUNS and not row.skipped for row in rows):
        print(f"* fewer than {MIN_RUNS} runs: indicative only.")
    if figures:
        print()
        print(figure_tables(figures))
    noted: list[Row | Figure] = [*rows, *figures]
    for item in noted:
        if item.note:
            print(f"{item.name}: {item.note}")
    print(f"{start_load}; {end_load}; total {elapsed:.0f} s")
    write_json(
        args.output,
        rows,
        quick=args.quick,
        argv=command,
        meta={"load_before": start_load, "load_after": end_load, "seconds": elapsed},
        figures=figures,
    )
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
