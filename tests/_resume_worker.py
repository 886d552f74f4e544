"""The team of test_resume_process, and a script that resumes it in a fresh process.

`build_team(log)` is the module-level factory both processes use. Each agent is a plain
callable that appends its name to the `log` file every time it runs, so the test can tell
which work was done before the interrupt and which after.

Usage: python _resume_worker.py DB_PATH LOG_PATH THREAD_ID
Resumes the thread's pending approval with `{"action": "approve"}` and prints the final
state as one line of JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.graph import StateGraph
from langgraph.types import Command

from langgraph_orchestra import Agent, create_sequential, open_checkpointer

REVIEWER = "night-shift"


def _logged(log: Path, name: str, slow: float = 0.0) -> Callable[[list[BaseMessage]], str]:
    def run(messages: list[BaseMessage]) -> str:
        with log.open("a", encoding="utf-8") as file:
            file.write(f"{name}\n")
        time.sleep(slow)
        return f"{name}({messages[-1].text})"

    return run


def build_team(log: Path, *, slow: float = 0.0) -> StateGraph[Any, Any, Any, Any]:
    """researcher -> writer (after-gate) -> editor; the last two take `slow` seconds."""
    return create_sequential(
        [
            Agent("researcher", runnable=_logged(log, "researcher")),
            Agent("writer", runnable=_logged(log, "writer", slow), approval="after"),
            Agent("editor", runnable=_logged(log, "editor", slow)),
        ]
    )


def main(db: str, log: str, thread: str) -> None:
    config: Any = {"configurable": {"thread_id": thread}}
    with open_checkpointer(f"sqlite:///{db}") as saver:
        team = build_team(Path(log)).compile(checkpointer=saver)
        state = team.invoke(Command(resume={"action": "approve", "reviewer": REVIEWER}), config)
        pending = list(team.get_state(config).next)
    print(
        json.dumps(
            {
                "final": state.get("final"),
                "stop_reason": state.get("stop_reason"),
                "interrupted": "__interrupt__" in state,
                "next": pending,
                "messages": [[type(m).__name__, m.name, m.text] for m in state["messages"]],
                "audit": [[r["kind"], r["agent"], r["detail"]] for r in state["audit"]],
                "usage": {name: u["calls"] for name, u in state["usage"].items()},
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
