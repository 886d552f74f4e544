"""Choosing a pattern: the docs page, its example and the README's summary agree."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "one_agent_team.py"
PAGE = ROOT / "docs" / "choosing-a-pattern.md"
README = ROOT / "README.md"
BENCHMARKS = ROOT / "benchmarks" / "README.md"


def bullets(text: str) -> str:
    """The 'what each adds' figures: the bullet list that starts with the sequential one."""
    start = text.index("- Sequential: ")
    return text[start : text.index("\n\n", start)]


def pattern_rows(text: str) -> list[str]:
    """The rows of the patterns table: the first run of rows starting with `sequential`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| `sequential` "))
    rows = []
    for line in lines[start:]:
        if not re.match(r"\| `[a-z_]+` ", line):
            break
        rows.append(line)
    return rows


def test_the_one_agent_team_keeps_the_governance(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert capsys.readouterr().out.splitlines() == [
        "awaiting approval: refund_status {'order': '42'}",
        "Your refund left on 30 Nov. | completed",
        "audit: ['approval', 'turn', 'termination']",
        "calls: 2",
    ]


def test_the_page_shows_the_example_verbatim() -> None:
    code = EXAMPLE.read_text().split('"""', 2)[2].strip()
    assert f"```python\n{code}\n```" in PAGE.read_text()


def test_the_page_and_the_readme_give_the_same_table_and_figures() -> None:
    page, readme = PAGE.read_text(), README.read_text()
    assert bullets(page) == bullets(readme)
    rows = pattern_rows(page)
    assert [r.split("`")[1] for r in rows] == [
        "sequential",
        "concurrent",
        "group_chat",
        "handoff",
        "magentic",
        "hierarchical",
        "planner_executor",
        "network",
    ]
    assert rows == pattern_rows(readme)


def test_every_quoted_benchmark_row_is_in_the_benchmark_results() -> None:
    results = BENCHMARKS.read_text()
    quoted = re.findall(r"`([a-z_]+\.[a-z0-9_.+]+)`", bullets(PAGE.read_text()))
    assert "network.rounds.10" in quoted
    for name in quoted:
        assert re.search(rf"^{re.escape(name)}\s", results, re.MULTILINE), name
