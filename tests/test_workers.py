"""Many workers, one store: worker processes share a PostgreSQL store.

200 threads of a gated pipeline run across 4 worker processes: each thread is started
(and pauses at a review) in one process and resumed in another. None is lost, none runs
a finished turn twice, and no thread sees another's messages, audit or usage. The
throughput against one process is printed (`pytest -s`), not asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from langgraph_orchestra import open_checkpointer
from langgraph_orchestra.threads import read_thread

WORKER = Path(__file__).with_name("_pool_worker.py")
THREADS, WORKERS = 200, 4
SOLO_THREADS = 40  # the one-process baseline: enough to time, short enough for `make test`
AGENTS = ("researcher", "writer", "editor")


def _env() -> dict[str, str]:
    """The workers' environment: no tracing (no network); this tree's package first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    env["LANGSMITH_TRACING"] = "false"
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def _run(url: str, prefix: str, threads: int, workers: int, log: Path) -> list[dict[str, Any]]:
    args = [url, prefix, str(threads), str(workers)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-W", "error", str(WORKER), *args, str(i), str(log)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for i in range(workers)
    ]
    reports = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err[-2000:]
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:  # a failed or hung worker leaves no process nor open pipe behind
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
    return reports


def test_four_workers_share_one_store(postgres_url: str, tmp_path: Path) -> None:
    prefix = f"pool-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "turns.log"
    reports = _run(postgres_url, prefix, THREADS, WORKERS, log)
    assert sum(r["started"] for r in reports) == THREADS
    assert sum(r["resumed"] for r in reports) == THREADS

    # Every agent ran exactly once in every thread: nothing lost, no finished turn redone.
    turns = Counter(tuple(line.split()) for line in log.read_text().splitlines())
    expected = {(f"{prefix}-{t}", agent) for t in range(THREADS) for agent in AGENTS}
    assert set(turns) == expected
    assert set(turns.values()) == {1}

    with open_checkpointer(postgres_url) as saver:
        for t in range(THREADS):
            thread = f"{prefix}-{t}"
            info = read_thread(saver, thread)
            assert (info.status, info.stop_reason) == ("done", "completed"), thread
            # Only this thread's task and turns, in order.
            assert [m.text for m in info.messages] == [
                f"task {thread}",
                f"researcher on task {thread}",
                f"writer on task {thread}",
                f"editor on task {thread}",
            ]
            turned = [r["agent"] for r in info.audit if r["kind"] == "turn"]
            assert turned == list(AGENTS), thread
            approvals = [r for r in info.audit if r["kind"] == "approval"]
            assert len(approvals) == 1, thread
            assert {name: u["calls"] for name, u in info.usage.items()} == dict.fromkeys(AGENTS, 1)

    solo = _run(postgres_url, f"{prefix}-solo", SOLO_THREADS, 1, tmp_path / "solo.log")
    pool_rate = THREADS / max(r["seconds"] for r in reports)
    solo_rate = SOLO_THREADS / solo[0]["seconds"]
    print(
        f"\n{WORKERS} workers: {pool_rate:.1f} threads/s; 1 worker: {solo_rate:.1f} threads/s; "
        f"ratio {pool_rate / solo_rate:.2f} ({os.cpu_count()} CPUs)"
    )
    assert pool_rate > 0 and solo_rate > 0
