"""A process that decides a thread's pending approval at a given moment, for the race test.

Usage: python _decision_worker.py STORE_URL LOG_PATH THREAD_ID ACTION START_AT

Reads the thread's pending interrupts, waits until the time `START_AT` (so that two
workers decide the same pause at once), applies `ACTION` (`approve` or `reject`) with
`drive`, and prints one line of JSON: `{"ok": true, ...}` or `{"ok": false, "error": ...}`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from _resume_worker import build_team

from langgraph_orchestra import ApprovalDecision, DecisionError, open_checkpointer
from langgraph_orchestra.threads import drive, read_thread, resume_value


def main(url: str, log: str, thread: str, action: str, start_at: float) -> None:
    config: Any = {"configurable": {"thread_id": thread}}
    with open_checkpointer(url) as saver:
        team = build_team(Path(log), slow=0.3).compile(checkpointer=saver)
        waiting = read_thread(saver, thread)
        decision = ApprovalDecision(action=action, feedback="again", reviewer=action)
        payload = resume_value(waiting.interrupts, decision)
        time.sleep(max(0.0, start_at - time.time()))
        try:
            info = drive(team, payload, config)
        except DecisionError as error:
            print(json.dumps({"ok": False, "error": str(error)}))
            return
        print(json.dumps({"ok": True, "status": info.status, "stop_reason": info.stop_reason}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
