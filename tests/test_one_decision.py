"""One decision per pause: two processes deciding the same waiting thread at once.

Each trial starts a thread to its approval gate, then two fresh processes read the same
pending interrupt and `drive` their decision at the same moment. Exactly one applies;
the other gets a clear `DecisionError` and writes nothing: the next agent runs at most
once, and the audit holds one decision.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from _resume_worker import build_team

from langgraph_orchestra import (
    ApprovalDecision,
    DecisionError,
    aopen_checkpointer,
    open_checkpointer,
)
from langgraph_orchestra.locks import thread_lock
from langgraph_orchestra.threads import adrive, drive, read_thread, resume_value

TESTS = Path(__file__).resolve().parent
WORKER = TESTS / "_decision_worker.py"
BUSY = "another decision is being applied to thread '{}' (another process is running it): "
MOVED = "interrupt '{}' is not pending: it was already decided (the thread moved on)"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    env["LANGSMITH_TRACING"] = "false"
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(TESTS.parent), env.get("PYTHONPATH", "")])
    return env


def _race(url: str, log: Path, actions: tuple[str, str]) -> tuple[str, list[dict[str, Any]]]:
    thread = str(uuid.uuid4())
    with open_checkpointer(url) as saver:
        team = build_team(log).compile(checkpointer=saver)
        team.invoke({"messages": [("user", "task")]}, {"configurable": {"thread_id": thread}})
        (pending,) = read_thread(saver, thread).interrupts
    barrier = log.parent / f"barrier-{thread}"  # both workers have read the thread, then go
    barrier.mkdir()
    workers = [
        subprocess.Popen(
            [sys.executable, "-W", "error", str(WORKER), url, str(log), thread, action,
             str(barrier), str(len(actions))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for action in actions
    ]  # fmt: skip
    results = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=90)
            assert worker.returncode == 0, err
            results.append(json.loads(out))
    finally:  # a failed or hung worker leaves no process nor open pipe behind
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.communicate()
    return pending.id, [{**r, "thread": thread} for r in results]


@pytest.mark.parametrize("actions", [("approve", "approve"), ("approve", "reject")])
@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_two_processes_deciding_one_pause(
    tmp_path: Path, store: str, actions: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if store == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    log = tmp_path / "runs.log"
    pending, results = _race(url, log, actions)
    thread = results[0]["thread"]

    applied = [i for i, r in enumerate(results) if r["ok"]]
    assert len(applied) == 1, results
    refused = results[1 - applied[0]]["error"]
    assert refused.startswith((BUSY.format(thread), MOVED.format(pending))), refused

    winner = actions[applied[0]]
    with open_checkpointer(url) as saver:
        info = read_thread(saver, thread)
    decisions = [r["detail"]["action"] for r in info.audit if r["kind"] == "approval"]
    assert decisions == [winner]
    ran = log.read_text().splitlines()
    if winner == "approve":
        assert ran == ["researcher", "writer", "editor"]
        assert (info.status, info.stop_reason) == ("done", "completed")
    else:  # the writer revises once and waits for review again
        assert ran == ["researcher", "writer", "writer"]
        assert info.status == "waiting for approval"


def _url(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if store == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def _paused(url: str, log: Path) -> str:
    thread = str(uuid.uuid4())
    with open_checkpointer(url) as saver:
        team = build_team(log).compile(checkpointer=saver)
        team.invoke({"messages": [("user", "task")]}, {"configurable": {"thread_id": thread}})
    return thread


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_a_decision_is_refused_while_another_process_holds_the_thread(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    url = _url(store, tmp_path, request)
    thread = _paused(url, tmp_path / "runs.log")
    config: Any = {"configurable": {"thread_id": thread}}
    with open_checkpointer(url) as holder, thread_lock(holder, thread):
        with open_checkpointer(url) as saver:
            team = build_team(tmp_path / "runs.log").compile(checkpointer=saver)
            info = read_thread(saver, thread)
            decision = resume_value(info.interrupts, ApprovalDecision(action="approve"))
            with pytest.raises(DecisionError) as caught:
                drive(team, decision, config)
            assert str(caught.value) == BUSY.format(thread) + "this one was not applied"
            after = read_thread(saver, thread)
            assert (after.interrupts, after.audit) == (info.interrupts, info.audit)
    with open_checkpointer(url) as saver:  # released: the decision now applies
        team = build_team(tmp_path / "runs.log").compile(checkpointer=saver)
        assert drive(team, decision, config).stop_reason == "completed"


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
async def test_adrive_takes_the_threads_lock_too(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    url = _url(store, tmp_path, request)
    thread = _paused(url, tmp_path / "runs.log")
    config: Any = {"configurable": {"thread_id": thread}}
    with open_checkpointer(url) as holder:
        info = read_thread(holder, thread)
        decision = resume_value(info.interrupts, ApprovalDecision(action="approve"))
        with thread_lock(holder, thread):
            async with aopen_checkpointer(url) as saver:
                team = build_team(tmp_path / "runs.log").compile(checkpointer=saver)
                with pytest.raises(DecisionError, match=r"^another decision is being applied"):
                    await adrive(team, decision, config)
        async with aopen_checkpointer(url) as saver:
            team = build_team(tmp_path / "runs.log").compile(checkpointer=saver)
            assert (await adrive(team, decision, config)).stop_reason == "completed"
