"""The notebooks: stored as `notebooks/build.py` writes them, executed, and they run again.

Each notebook is executed again here with `nbclient`, cell by cell (a failing cell, or
a failing `assert` in one, fails the test). To keep the suite fast they share one
kernel, cleared (`%reset -f`) before each notebook; `notebooks/build.py` runs each in a
fresh kernel when it writes them.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("nbclient", reason="the notebooks run with nbclient (the dev extra)")

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"


def _build() -> Any:
    spec = importlib.util.spec_from_file_location("notebooks_build", FOLDER / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["notebooks_build"] = module
    spec.loader.exec_module(module)
    return module


BUILD = _build()
STEMS = list(BUILD.NOTEBOOKS)


def test_the_notebooks_are_the_ones_build_writes_and_are_stored_executed() -> None:
    assert sorted(p.stem for p in FOLDER.glob("*.ipynb")) == sorted(STEMS)
    for stem, cells in BUILD.NOTEBOOKS.items():
        stored = nbformat.read(FOLDER / f"{stem}.ipynb", as_version=4)
        nbformat.validate(stored)
        assert [(c.cell_type, c.source) for c in stored.cells] == [
            (c.cell_type, c.source) for c in cells
        ], f"{stem}.ipynb is stale: run python notebooks/build.py"
        code = [c for c in stored.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{stem}.ipynb is not executed"
        assert any(c.outputs for c in code), f"{stem}.ipynb has no outputs"
        errors = [o for c in code for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{stem}.ipynb was stored with an error"


def test_every_pattern_has_a_notebook() -> None:
    from langgraph_orchestra.spec import PATTERNS

    patterns = set(PATTERNS) - {"maker_checker"}  # a group chat (the group chat notebook)
    assert {s.split("_", 1)[1] for s in STEMS if s[:2].isdigit()} >= patterns


@pytest.fixture(scope="module")
def kernel() -> Iterator[KernelManager]:
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(FOLDER))
    try:
        yield manager
    finally:
        manager.shutdown_kernel(now=True)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("stem", STEMS)
def test_the_notebook_runs(stem: str, kernel: KernelManager) -> None:
    nb = copy.deepcopy(nbformat.read(FOLDER / f"{stem}.ipynb", as_version=4))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nb.cells.insert(0, nbformat.v4.new_code_cell("%reset -f"))
    client = NotebookClient(
        nb, km=kernel, timeout=BUILD.TIMEOUT, resources={"metadata": {"path": str(FOLDER)}}
    )
    try:
        client.execute()  # raises CellExecutionError on a failing cell
    finally:
        if client.kc is not None:
            client.kc.stop_channels()  # the kernel is shared: only the channels close
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert printed.strip(), f"{stem} printed nothing"
