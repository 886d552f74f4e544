"""The start of a run, recorded once in state, and the updates that count a turn.

A thread holds many runs. The node that starts a run (a pattern's entry) writes
`begin_run(state)`: the run's id, start time and input, and fresh run-scoped fields
(`final`, `stop_reason`, `run_usage`, `round`). Everything else reads `state["run"]`
rather than working the start out again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.types import Overwrite

from langgraph_orchestra.context import task_index
from langgraph_orchestra.errors import InputError
from langgraph_orchestra.state.records import RunStart, Usage, new_id, now

__all__ = ["RUN_SCOPED", "begin_run", "check_input", "counted", "in_run", "starting"]

RUN_SCOPED = ("run_usage", "round")
"""Accumulating fields that a run's start resets."""


_INPUT = (
    "pass a list of messages, each a message (HumanMessage, ...), a (role, text) pair, a "
    "{'role': ..., 'content': ...} dict or a text, e.g. "
    "{'messages': [('user', 'Summarize the report')]}"
)


def check_input(state: Mapping[str, Any]) -> int | None:
    """Return the index of the run's task in `state`, or raise if the input gave none.

    Every pattern's entry asks this before anything else, so a run without a task stops
    before any model call and writes nothing. (A write to `messages` that is not messages
    is dropped by the channel's reducer, so such an input gives no task either.)

    Raises:
        InputError: The transcript is empty, or its latest user message was already the
            previous run's task (the input added none).
    """
    messages = state.get("messages") or []
    if not messages:
        raise InputError(
            f"The run has no task: the input's 'messages' is missing, empty or not messages; "
            f"{_INPUT}"
        )
    task = task_index(messages)
    previous = state.get("run") or {}
    if task is not None and previous.get("task_id") == messages[task].id:
        raise InputError(
            "The input adds no new task: its 'messages' is missing, empty or not messages, "
            f"and the thread's latest user message was the previous run's task; {_INPUT}"
        )
    return task


def begin_run(state: Mapping[str, Any]) -> dict[str, Any]:
    """Return the update that starts a run on `state` (its input is the latest user message).

    Raises:
        InputError: The input gave no task (see `check_input`).
    """
    messages = state["messages"]
    task = check_input(state)
    run: RunStart = {
        "id": new_id(),
        "started_at": now(),
        "task": task,
        "task_id": messages[task].id if task is not None else None,
    }
    return {
        "run": run,
        "final": None,
        "stop_reason": None,
        "run_usage": Overwrite({}),
        "round": Overwrite(0),
    }


def in_run(state: Mapping[str, Any], begin: Mapping[str, Any]) -> dict[str, Any]:
    """Return `state` as the run started by `begin` sees it (its counters fresh).

    The node that starts a run reads this for its views and its termination check, so
    a new run is not judged by the previous run's rounds, usage or stop reason.
    """
    return {
        **state,
        "run": begin["run"],
        "final": None,
        "stop_reason": None,
        "run_usage": {},
        "round": 0,
    }


def starting(update: Mapping[str, Any], begin: Mapping[str, Any]) -> dict[str, Any]:
    """Merge the first update of a run into its start (`begin`; empty: no start), in one write."""
    if not begin:
        return dict(update)
    merged = {**begin, **update}
    for key in RUN_SCOPED:
        if key in update:
            # The run's first count replaces the previous run's.
            merged[key] = Overwrite(update[key])
    return merged


def counted(usage: Mapping[str, Usage]) -> dict[str, Any]:
    """Return the update that records `usage` in the thread's and the run's totals."""
    return {"usage": usage, "run_usage": usage}
