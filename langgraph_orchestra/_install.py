"""The command that installs an extra of the package, where the package comes from.

Installed from a package index, an extra is `pip install "langgraph-orchestra[openai]"`.
Run from a clone of the repository (an editable install, or the source folder on the
path), that command would fetch the published release instead: the extra is installed
from the clone, with the pip of the environment running the package.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

__all__ = ["install_command"]

_DISTRIBUTION = "langgraph-orchestra"


def _clone_root() -> Path | None:
    """The clone the package runs from, or `None` when it was installed from an index."""
    root = Path(__file__).resolve().parent.parent
    try:
        project = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if f'name = "{_DISTRIBUTION}"' in project else None


def install_command(extra: str) -> str:
    """Return the command that installs `extra` (`openai`, `postgres`, ...)."""
    root = _clone_root()
    if root is None:
        return f'pip install "{_DISTRIBUTION}[{extra}]"'
    where = "." if root == Path.cwd().resolve() else str(root)
    return f"{shlex.quote(sys.executable)} -m pip install -e {shlex.quote(f'{where}[{extra}]')}"
