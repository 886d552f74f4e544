"""One worker of test_workers: starts some threads of a gated pipeline, resumes others.

Usage: python _pool_worker.py URL PREFIX THREADS WORKERS INDEX LOG

Every worker process shares the PostgreSQL store at URL. Thread `t` (of THREADS, ids
`PREFIX-t`) is started by worker `t % WORKERS` and resumed by worker `(t + 1) % WORKERS`
(by the same worker when WORKERS is 1). Worker INDEX starts its threads (each pauses at
the writer's review), then waits for each thread it resumes to pause, approves it and
checks it finished. Each agent appends `thread agent` to LOG when it runs. Prints one
line of JSON: how many threads it started and resumed, and the seconds that took.
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

WAIT = 60.0  # seconds a worker waits for a thread it resumes to pause


def _logged(log: Path, name: str) -> Callable[[list[BaseMessage]], str]:
    def run(messages: list[BaseMessage]) -> str:
        task = messages[0].text  # the thread's own task, "task <thread id>"
        with log.open("a", encoding="utf-8") as file:
            file.write(f"{task.split()[-1]} {name}\n")
        return f"{name} on {task}"

    return run


def build_team(log: Path) -> StateGraph[Any, Any, Any, Any]:
    """researcher -> writer (after-gate) -> editor."""
    return create_sequential(
        [
            Agent("researcher", runnable=_logged(log, "researcher")),
            Agent("writer", runnable=_logged(log, "writer"), approval="after"),
            Agent("editor", runnable=_logged(log, "editor")),
        ]
    )


def main(url: str, prefix: str, threads: str, workers: str, index: str, log: str) -> None:
    total, count, me = int(threads), int(workers), int(index)
    mine = [t for t in range(total) if t % count == me]
    resumed_by_me = [t for t in range(total) if (t + 1) % count == me]
    started = time.perf_counter()
    with open_checkpointer(url) as saver:
        team = build_team(Path(log)).compile(checkpointer=saver)
        for t in mine:
            thread = f"{prefix}-{t}"
            config: Any = {"configurable": {"thread_id": thread}}
            state = team.invoke({"messages": [("user", f"task {thread}")]}, config)
            if "__interrupt__" not in state:
                raise SystemExit(f"{thread} did not pause at the review")
        for t in resumed_by_me:
            config = {"configurable": {"thread_id": f"{prefix}-{t}"}}
            deadline = time.monotonic() + WAIT
            while not team.get_state(config).interrupts:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{prefix}-{t} never paused")
                time.sleep(0.02)
            state = team.invoke(Command(resume={"action": "approve"}), config)
            if state.get("stop_reason") != "completed":
                raise SystemExit(f"{prefix}-{t} ended as {state.get('stop_reason')!r}")
    seconds = time.perf_counter() - started
    print(json.dumps({"started": len(mine), "resumed": len(resumed_by_me), "seconds": seconds}))


if __name__ == "__main__":
    main(*sys.argv[1:])
