"""The team of the fresh-process resume test, and the script that resumes it.

`build_team(case, log)` is what both processes build: three agents, plain callables that
answer `A`, `B` and `C` and append their name to the `log` file each time they run (so
the test can tell whether work done before the pause was redone); `b` has an after-gate.

Usage: python -m conformance.resume_worker PATTERN STORE_URL LOG_PATH THREAD_ID
Resumes the thread's pending approval with `{"action": "approve"}` and prints the
final state as one line of JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.graph import StateGraph
from langgraph.types import Command

from conformance.registry import PatternCase, case_named
from langgraph_orchestra import Agent, open_checkpointer

REVIEWER = "night-shift"
OUTPUTS = {"a": "A", "b": "B", "c": "C"}


def _logged(log: Path, name: str) -> Callable[[list[BaseMessage]], str]:
    def run(messages: list[BaseMessage]) -> str:
        with log.open("a", encoding="utf-8") as file:
            file.write(f"{name}\n")
        return OUTPUTS[name]

    return run


def build_team(case: PatternCase, log: Path) -> StateGraph[Any, Any, Any, Any]:
    """`a`, `b` behind an after-gate, and `c`, in `case`'s pattern."""
    return case.build(
        [
            Agent("a", runnable=_logged(log, "a")),
            Agent("b", runnable=_logged(log, "b"), approval="after"),
            Agent("c", runnable=_logged(log, "c")),
        ]
    )


def main(pattern: str, url: str, log: str, thread: str) -> None:
    """Resume `thread` with an approval and print the final state as JSON."""
    config: Any = {"configurable": {"thread_id": thread}}
    with open_checkpointer(url) as saver:
        team = build_team(case_named(pattern), Path(log)).compile(checkpointer=saver)
        state = team.invoke(Command(resume={"action": "approve", "reviewer": REVIEWER}), config)
        pending = list(team.get_state(config).next)
    print(
        json.dumps(
            {
                "final": state.get("final"),
                "stop_reason": state.get("stop_reason"),
                "interrupted": "__interrupt__" in state,
                "next": pending,
                "audit": [[r["kind"], r["agent"], r["detail"]] for r in state["audit"]],
                "usage": {name: u["calls"] for name, u in state["usage"].items()},
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
