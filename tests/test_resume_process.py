"""A run interrupted at an approval gate resumes in a fresh Python process (SQLite store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from _resume_worker import REVIEWER, build_team

from langgraph_orchestra import open_checkpointer

WORKER = Path(__file__).with_name("_resume_worker.py")


def _child_env() -> dict[str, str]:
    """The environment of the fresh process: no tracing, so no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    env["LANGSMITH_TRACING"] = "false"
    return env


def test_resume_in_a_fresh_process(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    log = tmp_path / "runs.log"
    thread = str(uuid.uuid4())
    config: Any = {"configurable": {"thread_id": thread}}

    with open_checkpointer(f"sqlite:///{db}") as saver:
        team = build_team(log).compile(checkpointer=saver)
        paused = team.invoke({"messages": [("user", "task")]}, config)
        assert [i.value for i in paused["__interrupt__"]] == [
            {
                "type": "approval",
                "agent": "writer",
                "when": "after",
                "content": "writer(researcher(task))",
                "actions": ["approve", "reject", "edit", "respond"],
                "revision": 0,
                "max_revisions": 3,
            }
        ]
        assert team.get_state(config).next == ("approve_writer",)
    assert log.read_text().splitlines() == ["researcher", "writer"]

    done = subprocess.run(
        [sys.executable, "-W", "error", str(WORKER), str(db), str(log), thread],
        capture_output=True,
        text=True,
        timeout=90,
        env=_child_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result = json.loads(done.stdout)

    # Work before the interrupt was not redone: each earlier agent ran exactly once.
    assert log.read_text().splitlines() == ["researcher", "writer", "editor"]
    assert result["final"] == "editor(writer(researcher(task)))"
    assert result["stop_reason"] == "completed"
    assert (result["interrupted"], result["next"]) == (False, [])
    assert result["messages"] == [
        ["HumanMessage", None, "task"],
        ["AIMessage", "researcher", "researcher(task)"],
        ["AIMessage", "writer", "writer(researcher(task))"],
        ["AIMessage", "editor", "editor(writer(researcher(task)))"],
    ]
    audit = result["audit"]
    assert [(kind, agent) for kind, agent, _ in audit] == [
        ("turn", "researcher"),
        ("turn", "writer"),
        ("approval", "writer"),
        ("turn", "editor"),
        ("termination", None),
    ]
    assert audit[2][2]["reviewer"] == REVIEWER
    assert result["usage"] == {"researcher": 1, "writer": 1, "editor": 1}

    # The resumed state is in the store for any later process.
    with open_checkpointer(f"sqlite:///{db}") as saver:
        stored = build_team(log).compile(checkpointer=saver).get_state(config).values
    assert stored["final"] == result["final"]
    assert len(stored["audit"]) == len(audit)
