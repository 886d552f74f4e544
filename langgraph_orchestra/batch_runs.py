"""Batch runs: one thread per line of a JSONL file, run concurrently, resumable.

Each line of the input file is a task: a JSON string (`"Where is my order?"`) or a JSON
object `{"input": "Where is my order?", "id": "order-17"}` (`id` is optional). Blank
lines are skipped. Every line gets its own thread, whose id comes from the team, the
file's name and the line: `{team}-{file}-{id}` with an `id`, otherwise
`{team}-{file}-{line}-{digest}` (the digest is of the input, so an edited line is a new
task). Running the same file again therefore finds the threads of the earlier run:

- `done` threads are skipped (their answers are reported again);
- threads waiting for a human decision stay waiting (decide them with `orchestra
  resume`, then run the batch again to collect them);
- `failed` threads (a task raised: its error is stored with the checkpoint) run their
  failed step again, and threads stopped mid-run (the process was killed) go on from
  their last checkpoint;
- lines without a thread are started.

Example:
    ```python
    items = read_batch("inputs.jsonl", team="support")
    async with aopen_checkpointer(".orchestra/state.db") as saver:
        results = await arun_batch(
            items, team=lambda used: builder, saver=saver, run=RunInfo(), concurrency=8
        )
    ```
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph

from langgraph_orchestra.errors import InputError, OrchestraError, UnknownThreadError
from langgraph_orchestra.threads import (
    RunInfo,
    ThreadInfo,
    ThreadStatus,
    adrive,
    aread_thread,
    aused_replies,
    run_config,
    usage_rows,
)

__all__ = [
    "BatchAction",
    "BatchItem",
    "BatchResult",
    "arun_batch",
    "read_batch",
]

BatchAction: TypeAlias = Literal["ran", "resumed", "skipped", "waiting"]
"""What a batch run did with a line: started its thread, went on with it (failed or
stopped mid-run before), skipped it (done before), or left it waiting for a decision."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KEYS = ("input", "id")
_SHOWN_PROBLEMS = 10
"""The most problems of an input file listed in one error."""


@dataclass(frozen=True)
class BatchItem:
    """One line of a batch file: a task and the thread it runs in."""

    line: int
    """The line's number in the file (from 1)."""
    input: str
    """The task."""
    id: str | None
    """The line's `id`, if it has one."""
    thread_id: str
    """The thread of the task (the same on every run of the file)."""


@dataclass(frozen=True)
class BatchResult:
    """Where one line's thread stands after a batch run."""

    item: BatchItem
    """The line."""
    action: BatchAction
    """What this run did with it."""
    thread: ThreadInfo | None
    """The thread as stored afterwards (`None` if it failed before its first checkpoint)."""
    error: str | None = None
    """The error of a failed run."""

    @property
    def status(self) -> ThreadStatus:
        """The thread's status (`failed` when the run raised)."""
        if self.error is not None or self.thread is None:
            return "failed"
        return self.thread.status

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-ready output line."""
        thread = self.thread
        total = usage_rows(thread.usage)[-1] if thread is not None else None
        return {
            "line": self.item.line,
            "id": self.item.id,
            "thread_id": self.item.thread_id,
            "input": self.item.input,
            "action": self.action,
            "status": self.status,
            "final": thread.final if thread is not None else None,
            "stop_reason": thread.stop_reason if thread is not None else None,
            "error": self.error or (thread.error if thread is not None else None),
            "interrupts": [
                {"id": i.id, "kind": i.kind, "agent": i.agent}
                for i in (thread.interrupts if thread is not None else ())
            ],
            "usage": None
            if total is None
            else {
                "calls": total.calls,
                "input_tokens": total.input_tokens,
                "output_tokens": total.output_tokens,
                "cost_usd": total.cost_usd,
            },
        }


def _slug(text: str) -> str:
    """`text` as a piece of a thread id: letters, digits, `_`, `.` and `-`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "batch"


def _item(raw: str) -> tuple[str, str | None]:
    """The task and id of a line; raises `ValueError` saying what is wrong."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg}, column {error.colno})") from None
    if isinstance(value, str):
        value = {"input": value}
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON string or object, got {type(value).__name__}")
    unknown = sorted(set(value) - set(_KEYS))
    if unknown:
        raise ValueError(f"unknown keys {unknown}; allowed: {', '.join(_KEYS)}")
    task = value.get("input")
    if not isinstance(task, str) or not task.strip():
        raise ValueError("'input' must be a non-empty string (the task)")
    given = value.get("id")
    if given is None:
        return task, None
    if isinstance(given, bool) or not isinstance(given, str | int):
        raise ValueError(f"'id' must be a string or a number, got {type(given).__name__}")
    if not _ID.match(str(given)):
        raise ValueError(
            f"'id' {str(given)!r} may hold letters, digits, '_', '.' and '-' only "
            "(it names the thread)"
        )
    return task, str(given)


def read_batch(path: str | os.PathLike[str], *, team: str) -> list[BatchItem]:
    """Read a batch file: one task per line (see the module's documentation).

    Args:
        path: The JSONL file.
        team: The team's name, the first part of each thread id.

    Returns:
        The tasks, in the file's order.

    Raises:
        FileNotFoundError: No such file.
        InputError: A line is malformed, an id is used twice, or there is no task; every
            problem is listed (the first ten).
    """
    source = Path(path)
    text = source.read_text(encoding="utf-8")
    prefix = f"{_slug(team)}-{_slug(source.stem)}"
    items: list[BatchItem] = []
    problems: list[str] = []
    lines: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            task, given = _item(raw)
        except ValueError as error:
            problems.append(f"{source}:{number}: {error}")
            continue
        if given is None:
            digest = hashlib.sha256(task.encode()).hexdigest()[:6]
            thread_id = f"{prefix}-{number}-{digest}"
        else:
            thread_id = f"{prefix}-{given}"
            if given in lines:
                problems.append(
                    f"{source}:{number}: id '{given}' is used by line {lines[given]} too; "
                    "ids name threads and must differ"
                )
                continue
            lines[given] = number
        items.append(BatchItem(number, task, given, thread_id))
    if not problems and not items:
        problems.append(f"{source}: no task (the file has no non-blank line)")
    if problems:
        shown = problems[:_SHOWN_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(f"... and {len(problems) - len(shown)} more")
        raise InputError(
            "\n".join(shown),
            hint='give one task per line: "TEXT" or {"input": "TEXT", "id": "ID"} (id optional)',
        )
    return items


TeamFor: TypeAlias = Callable[[Mapping[str, int]], StateGraph[Any, Any, Any, Any]]
"""Builds the team's uncompiled graph for one thread, given the replies its agents have
used in it (`aused_replies`; scripted models go on where their script stopped)."""


async def arun_batch(
    items: Sequence[BatchItem],
    *,
    team: TeamFor,
    saver: BaseCheckpointSaver[Any],
    run: RunInfo,
    concurrency: int = 8,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Run each item in its own thread, `concurrency` at a time; resume an earlier run.

    Args:
        items: The tasks (`read_batch`).
        team: Builds the team's graph for a thread (a fresh one per thread, so models
            that keep state, such as scripted ones, are not shared between threads).
        saver: An async checkpointer (`aopen_checkpointer`).
        run: What each thread records about its run (team file, pattern, model).
        concurrency: How many threads run at once (at least 1).
        on_result: Called with each line's result as soon as it is known.

    Returns:
        One result per item, in the items' order.

    Raises:
        InputError: `concurrency` is below 1.

    An agent's failure (`AgentError`) or another refusal of the library (an
    `OrchestraError`) fails its line only: the others go on.
    """
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, got {concurrency}")
    slots = asyncio.Semaphore(concurrency)

    async def one(item: BatchItem) -> BatchResult:
        async with slots:
            result = await _run_item(item, team, saver, run)
        if on_result is not None:
            on_result(result)
        return result

    return list(await asyncio.gather(*(one(item) for item in items)))


async def _thread(saver: BaseCheckpointSaver[Any], thread_id: str) -> ThreadInfo | None:
    try:
        return await aread_thread(saver, thread_id)
    except UnknownThreadError:
        return None


async def _run_item(
    item: BatchItem, team: TeamFor, saver: BaseCheckpointSaver[Any], run: RunInfo
) -> BatchResult:
    """Start, continue or skip one line's thread."""
    existing = await _thread(saver, item.thread_id)
    if existing is not None and existing.status == "done":
        return BatchResult(item, "skipped", existing)
    if existing is not None and existing.status == "waiting for approval":
        return BatchResult(item, "waiting", existing)
    action: BatchAction = "ran" if existing is None else "resumed"
    used = {} if existing is None else await aused_replies(saver, item.thread_id)
    # `None` runs a failed step again, or goes on from where a stopped run was.
    payload = {"messages": [("user", item.input)]} if existing is None else None
    config = run_config(item.thread_id, run)
    try:
        graph = team(used).compile(checkpointer=saver)
        info = await adrive(graph, payload, config)
    except OrchestraError as error:
        return BatchResult(item, action, await _thread(saver, item.thread_id), error=str(error))
    return BatchResult(item, action, info)
