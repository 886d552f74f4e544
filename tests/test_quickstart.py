"""The README's quickstart is code under test: run the very file the README includes."""

import runpy
from pathlib import Path

import pytest

QUICKSTART = Path(__file__).parent.parent / "examples" / "quickstart.py"
README = Path(__file__).parent.parent / "README.md"


def test_quickstart_runs_and_prints_the_approved_answer(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(QUICKSTART), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "awaiting approval: Good news: your refund was issued today.",
        "Good news: your refund was issued today. | completed",
    ]


def test_readme_shows_the_quickstart_file_verbatim() -> None:
    code = QUICKSTART.read_text().split('"""', 2)[2].strip()
    assert code in README.read_text()
