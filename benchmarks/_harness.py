"""Timing, statistics and reporting shared by the benchmarks.

Both sides of a comparison are measured in one run, interleaved in ABBA order (ours,
hand-written, hand-written, ours, ...) after a warm-up, with a garbage collection
before every timed sample, so drifting machine load and order effects hit both sides
alike. A sample is whatever the side's callable returns (ms per agent turn, wall time
over the ideal, ...); the row reports both medians, their ratio, and the spread of the
paired ratios (sample i of ours over sample i of the hand-written graph).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

MIN_RUNS = 30
"""Runs per row the issue asks for; rows with fewer are flagged in the table."""

RESULTS = Path(__file__).parent / "results" / "latest.json"
"""Where `python -m benchmarks` writes its results by default (not committed)."""


@dataclass(frozen=True)
class Plan:
    """How many samples a row takes."""

    runs: int
    """Timed samples per side."""
    warmup: int
    """Untimed samples per side before timing."""


@dataclass
class Row:
    """One line of the results table."""

    name: str
    """Stable id, used by `--only`."""
    title: str
    """What the row measures, in words."""
    unit: str
    """Unit of the samples: `ms/turn`, `ms/round`, `ms/handoff`, `ms/delegation`, `ms/read`,
    `x ideal` or
    `KB/turn` (store bytes)."""
    target: float | None
    """Ratio the issue sets (ours / hand-written), if any."""
    aim: float | None
    """Ratio the issue hopes for, if any."""
    ours: list[float]
    """Our samples, in run order."""
    hand: list[float]
    """The hand-written graph's samples, in run order."""
    batch: int = 1
    """Invocations per sample (a sample is their mean)."""
    note: str = ""
    """Anything a reader needs to interpret the row."""
    load: tuple[float, float, float] = field(default_factory=lambda: _load())
    """Load averages (1, 5, 15 min) when the row finished."""
    baseline: str = "hand-written"
    """What the `hand` samples measure: the hand-written graph, or a named peer framework."""
    skipped: str = ""
    """Why the row was not measured (e.g. an optional peer is not installed); no samples."""

    @property
    def runs(self) -> int:
        """Timed samples per side."""
        return len(self.ours)

    @property
    def ours_median(self) -> float:
        """Median of our samples."""
        return statistics.median(self.ours)

    @property
    def hand_median(self) -> float:
        """Median of the hand-written samples."""
        return statistics.median(self.hand)

    @property
    def ratio(self) -> float:
        """Our median over the hand-written median."""
        return self.ours_median / self.hand_median

    @property
    def paired(self) -> list[float]:
        """Per-run ratios (our sample i over hand-written sample i)."""
        return [a / b for a, b in zip(self.ours, self.hand, strict=True)]

    @property
    def paired_quartiles(self) -> tuple[float, float, float]:
        """Quartiles (25 %, 50 %, 75 %) of the paired ratios."""
        values = self.paired
        if len(values) < 2:
            return (values[0], values[0], values[0])
        q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return (q1, q2, q3)

    def as_json(self) -> dict[str, Any]:
        """Return the row with its derived figures, for `latest.json`."""
        data = asdict(self)
        if self.skipped:
            return data
        q1, q2, q3 = self.paired_quartiles
        data.update(
            runs=self.runs,
            ours_median=self.ours_median,
            hand_median=self.hand_median,
            ratio=self.ratio,
            paired_ratio_quartiles=[q1, q2, q3],
            meets_target=None if self.target is None else self.ratio <= self.target,
        )
        return data


def _load() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:  # not available on this platform
        return (float("nan"), float("nan"), float("nan"))


def _order(i: int) -> tuple[int, int]:
    """ABBA order: pair 0 runs ours first, pair 1 the hand-written graph first, ..."""
    return (0, 1) if i % 2 == 0 else (1, 0)


def measure(
    ours: Callable[[], float], hand: Callable[[], float], plan: Plan
) -> tuple[list[float], list[float]]:
    """Take `plan.runs` interleaved samples of two sync sides after a warm-up."""
    sides = (ours, hand)
    for _ in range(plan.warmup):
        for side in sides:
            side()
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(plan.runs):
        for which in _order(i):
            gc.collect()
            samples[which].append(sides[which]())
    return samples


async def ameasure(
    ours: Callable[[], Awaitable[float]], hand: Callable[[], Awaitable[float]], plan: Plan
) -> tuple[list[float], list[float]]:
    """Take `plan.runs` interleaved samples of two async sides after a warm-up."""
    sides = (ours, hand)
    for _ in range(plan.warmup):
        for side in sides:
            await side()
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(plan.runs):
        for which in _order(i):
            gc.collect()
            samples[which].append(await sides[which]())
    return samples


# -- reporting -----------------------------------------------------------------------


def environment() -> dict[str, Any]:
    """Describe the machine and the versions measured."""
    packages: dict[str, str | None] = {}
    for name in ("langgraph", "langchain-core", "langgraph-checkpoint", "langgraph-orchestra"):
        try:
            packages[name] = version(name)
        except Exception:  # not installed: say so rather than fail the run
            packages[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": packages,
    }


def _fmt(value: float, unit: str) -> str:
    if unit == "KB/turn":
        return f"{value:.2f} {unit}"
    if unit.startswith("ms/"):
        return f"{value:.3f} {unit}"
    return f"{value:.2f}x ideal"


def _target(row: Row) -> str:
    if row.target is None:
        return "(info)"
    aim = f", aim {row.aim:.2f}x" if row.aim is not None else ""
    return f"<= {row.target:.2f}x{aim}"


def _met(row: Row) -> str:
    if row.target is None:
        return ""
    return "yes" if row.ratio <= row.target else "NO"


def _runs(row: Row) -> str:
    text = f"{row.runs}" if row.batch == 1 else f"{row.runs}x{row.batch}"
    return text + ("*" if row.runs < MIN_RUNS else "")


def table(rows: Sequence[Row]) -> str:
    """Format the results table (plain text, aligned)."""
    header = (
        "benchmark",
        "ours",
        "hand-written",
        "ratio",
        "paired ratio IQR",
        "target",
        "met",
        "runs",
    )
    lines = [header]
    for row in rows:
        if row.skipped:
            lines.append((row.name, row.skipped, "", "", "", _target(row), "", "0"))
            continue
        q1, _, q3 = row.paired_quartiles
        hand = _fmt(row.hand_median, row.unit)
        if row.baseline != "hand-written":
            hand = f"{row.baseline} {hand}"
        lines.append(
            (
                row.name,
                _fmt(row.ours_median, row.unit),
                hand,
                f"{row.ratio:.3f}x",
                f"{q1:.3f}-{q3:.3f}",
                _target(row),
                _met(row),
                _runs(row),
            )
        )
    return _render(lines, right={1, 2, 3, 4, 7})


def _render(lines: Sequence[Sequence[str]], *, right: set[int]) -> str:
    """Align `lines` (the first is the header) in columns, `right` ones to the right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]

    def render(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [render(lines[0]), "  ".join("-" * w for w in widths)]
    out.extend(render(line) for line in lines[1:])
    return "\n".join(out)


@dataclass
class Figure:
    """An information line: exact counts or figures derived from rows, no timing of its own."""

    name: str
    """Stable id (an `--only` name, or the rows it derives from)."""
    title: str
    """What the figure shows, in words."""
    columns: tuple[str, ...]
    """Column headers of `cells`; figures with the same columns share a table."""
    cells: tuple[str, ...]
    """The formatted values, one per column."""
    data: dict[str, Any] = field(default_factory=dict)
    """The exact values, for `latest.json`."""
    target: str = ""
    """The target in words (empty for information only)."""
    met: bool | None = None
    """Whether the target is met (None without a target)."""
    note: str = ""
    """Anything a reader needs to interpret the figure."""

    def as_json(self) -> dict[str, Any]:
        """Return the figure for `latest.json`."""
        return asdict(self)


def figure_tables(figures: Sequence[Figure]) -> str:
    """Format figures as aligned tables, one per run of figures with the same columns."""
    groups: list[list[Figure]] = []
    for fig in figures:
        if groups and groups[-1][0].columns == fig.columns:
            groups[-1].append(fig)
        else:
            groups.append([fig])
    tables = []
    for group in groups:
        columns = group[0].columns
        lines: list[tuple[str, ...]] = [("figure", *columns, "target", "met")]
        for fig in group:
            met = "" if fig.met is None else ("yes" if fig.met else "NO")
            lines.append((fig.name, *fig.cells, fig.target or "(info)", met))
        tables.append(_render(lines, right=set(range(1, len(columns) + 1))))
    return "\n\n".join(tables)


def load_line(label: str) -> str:
    """Return `label` with the current load averages, as `uptime` shows them."""
    one, five, fifteen = _load()
    return f"{label}: load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} CPUs)"


def write_json(
    path: Path,
    rows: Sequence[Row],
    *,
    quick: bool,
    argv: Sequence[str],
    meta: dict[str, Any],
    figures: Sequence[Figure] = (),
) -> None:
    """Write the results (rows with raw samples, figures, machine, load) as JSON to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "written": datetime.now(UTC).isoformat(),
        "command": " ".join(argv),
        "quick": quick,
        "environment": environment(),
        **meta,
        "rows": [row.as_json() for row in rows],
        "figures": [fig.as_json() for fig in figures],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
