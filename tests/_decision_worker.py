"""A process that decides a thread's pending approval at a given moment, for the race test.

Usage: python _decision_worker.py STORE_URL LOG_PATH THREAD_ID ACTION BARRIER_DIR WORKERS

Reads the thread's pending interrupts, marks itself ready in `BARRIER_DIR` and waits until
`WORKERS` workers are ready (so that they decide the same pause at once, however loaded
the machine is), applies `ACTION` (`approve` or `reject`) with
`drive`, and prints one line of JSON: `{"ok": true, ...}` or `{"ok": false, "error": ...}`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from _resume_worker import build_team

from langgraph_orchestra import ApprovalDecision, DecisionError, open_checkpointer
from langgraph_orchestra.threads import drive, read_thread, resume_value


def _barrier(folder: Path, workers: int, timeout: float = 120.0) -> None:
    """Mark this process ready and wait until `workers` processes are."""
    (folder / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("ready-*"))) < workers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only some of {workers} workers became ready in {timeout} s")
        time.sleep(0.005)


def main(url: str, log: str, thread: str, action: str, barrier: Path, workers: int) -> None:
    config: Any = {"configurable": {"thread_id": thread}}
    with open_checkpointer(url) as saver:
        team = build_team(Path(log), slow=0.3).compile(checkpointer=saver)
        waiting = read_thread(saver, thread)
        decision = ApprovalDecision(action=action, feedback="again", reviewer=action)
        payload = resume_value(waiting.interrupts, decision)
        _barrier(barrier, workers)
        try:
            info = drive(team, payload, config)
        except DecisionError as error:
            print(json.dumps({"ok": False, "error": str(error)}))
            return
        print(json.dumps({"ok": True, "status": info.status, "stop_reason": info.stop_reason}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5]), int(sys.argv[6]))
