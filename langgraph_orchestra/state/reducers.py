"""Reducers for the shared state channels: small pure functions.

The binary reducers (`left, right -> merged`) merge one update. The `*_batch` forms
(`state, [update, ...] -> merged`) are what a `DeltaChannel` calls: it replays a
checkpoint's saved updates in one call, so they fold the binary reducer over the batch,
which makes them batching-invariant as the channel requires.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from langchain_core.messages import BaseMessage, convert_to_messages
from langgraph.graph.message import Messages, add_messages

from langgraph_orchestra.state.records import (
    AuditRecord,
    ExceptionRecord,
    Usage,
    is_audit_record,
    is_exception_record,
    is_usage,
)

__all__ = [
    "add_audit",
    "add_audit_batch",
    "add_count",
    "add_exceptions",
    "add_exceptions_batch",
    "add_transcript",
    "add_transcript_batch",
    "add_usage",
    "add_usage_batch",
    "append",
    "append_batch",
    "merge_dict",
    "sum_usage",
]

T = TypeVar("T")


def append(left: Sequence[T] | None, right: Sequence[T] | T | None) -> list[T]:
    """Append `right` (one item or several) to `left`, never rewriting `left`."""
    base = list(left or ())
    if right is None:
        return base
    if isinstance(right, Sequence) and not isinstance(right, str | Mapping):
        base.extend(right)
    else:
        base.append(right)
    return base


def add_transcript(left: Messages, right: Messages) -> Messages:
    """Merge messages as `add_messages` does; a write that holds a non-message is dropped.

    Raising here would not refuse the input: LangGraph has already saved the write, so it
    would fail every later read of the thread. Dropped, it leaves the run without a task,
    which the run's entry refuses with `InputError` (see `nodes.run.check_input`).
    """
    if right is None:
        return left if left is not None else []
    for item in right if isinstance(right, list) else [right]:
        if isinstance(item, BaseMessage):
            continue
        try:
            convert_to_messages([item])
        except (ValueError, TypeError, KeyError, NotImplementedError):
            return left if left is not None else []
    return add_messages(left, right)


def _stable_ids(merged: Sequence[BaseMessage], update: Any) -> Any:
    """`update` with an id on every message, the same on every replay of the same writes.

    LangGraph gives ids before saving only to message objects: an input given as text,
    a `(role, text)` pair or a dict is saved as it is and converted on every read, so
    its id is derived here from where it lands (the id of the message before it) and
    what it says. Something that is not a message is returned as it is (and dropped).
    """
    items = update if isinstance(update, list) else [update]
    try:
        messages = [m if isinstance(m, BaseMessage) else convert_to_messages([m])[0] for m in items]
    except (ValueError, TypeError, KeyError, NotImplementedError):
        return update
    anchor = merged[-1].id if merged else "start"
    stamped = [
        m
        if m.id
        else m.model_copy(update={"id": str(uuid.uuid5(_IDS, f"{anchor}:{i}:{m.type}:{m.text}"))})
        for i, m in enumerate(messages)
    ]
    return stamped


_IDS = uuid.UUID("6f1c1a52-1f3e-4e0a-9a53-0c1b2a7d9e10")
"""Namespace of the ids given to messages that came without one."""


def add_transcript_batch(state: Messages | None, updates: Sequence[Messages]) -> list[Any]:
    """Apply `add_transcript` for each update, with stable ids (the `DeltaChannel` form)."""
    merged: list[Any] = list(state or ())
    for update in updates:
        added = add_transcript(merged, _stable_ids(merged, update))
        merged = added if isinstance(added, list) and added is not merged else list(added)
    return merged


def add_audit(
    left: Sequence[AuditRecord] | None, right: Sequence[AuditRecord] | AuditRecord | None
) -> list[AuditRecord]:
    """Append audit records; one that is not a well-formed record is dropped.

    Only the library writes records. A reducer cannot refuse a write by raising: LangGraph
    has saved the write by then, and it would fail every later read of the thread. So a
    forged or malformed record is not stored (`drive` refuses such input up front).
    """
    base = list(left or ())
    _extend_audit(base, right)
    return base


def _extend_audit(
    base: list[AuditRecord], right: Sequence[AuditRecord] | AuditRecord | None
) -> None:
    """Append to `base` (in place) the well-formed records of `right` (see `add_audit`)."""
    if right is None:
        return
    if type(right) is list:  # the usual write (checked first: an ABC check is a call)
        records: Sequence[Any] = right
    elif isinstance(right, Mapping) or not isinstance(right, Sequence):
        records = [right]
    else:
        records = right
    base.extend(record for record in records if is_audit_record(record))


def add_exceptions(
    left: Sequence[ExceptionRecord] | None,
    right: Sequence[ExceptionRecord] | ExceptionRecord | None,
) -> list[ExceptionRecord]:
    """Append new exception records; a record whose id is already queued replaces it.

    A malformed record is dropped (see `add_audit`).
    """
    merged = list(left or ())
    if right is None:
        return merged
    index = {record["id"]: i for i, record in enumerate(merged)}
    records = [right] if isinstance(right, Mapping) or not isinstance(right, Sequence) else right
    for record in records:
        if not is_exception_record(record):
            continue  # not a record: dropped, as `add_audit` says why
        if record["id"] in index:
            merged[index[record["id"]]] = record
        else:
            index[record["id"]] = len(merged)
            merged.append(record)
    return merged


def add_usage(
    left: Mapping[str, Usage] | None, right: Mapping[str, Usage] | None
) -> dict[str, Usage]:
    """Sum usage per participant; a malformed or negative entry is dropped (see `add_audit`)."""
    merged = dict(left or {})
    _merge_usage(merged, right)
    return merged


def _merge_usage(merged: dict[str, Usage], right: Mapping[str, Usage] | None) -> None:
    """Add `right` into `merged` (in place), dropping malformed entries (see `add_usage`)."""
    if not (type(right) is dict or isinstance(right, Mapping)):
        return
    for name, usage in right.items():
        if not (isinstance(name, str) and is_usage(usage)):
            continue
        merged[name] = sum_usage(merged[name], usage) if name in merged else usage


def sum_usage(left: Usage, right: Usage) -> Usage:
    """Add two usage records; tool, unknown and unpriced counts are kept, never dropped."""
    total: Usage = {
        "calls": left["calls"] + right["calls"],
        "input_tokens": left["input_tokens"] + right["input_tokens"],
        "output_tokens": left["output_tokens"] + right["output_tokens"],
        "latency_s": left["latency_s"] + right["latency_s"],
        "cost_usd": left["cost_usd"] + right["cost_usd"],
    }
    if "tool_calls" in left or "tool_calls" in right:
        total["tool_calls"] = left.get("tool_calls", 0) + right.get("tool_calls", 0)
        total["tool_errors"] = left.get("tool_errors", 0) + right.get("tool_errors", 0)
    unknown = left.get("unknown_usage_calls", 0) + right.get("unknown_usage_calls", 0)
    if unknown:
        total["unknown_usage_calls"] = unknown
    unpriced = left.get("unpriced_calls", 0) + right.get("unpriced_calls", 0)
    if unpriced:
        total["unpriced_calls"] = unpriced
    models = [*left.get("unpriced_models", ()), *right.get("unpriced_models", ())]
    if models:
        total["unpriced_models"] = list(dict.fromkeys(models))
    return total


def merge_dict(left: Mapping[str, Any] | None, right: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge `right` into `left`, key by key."""
    return {**(left or {}), **(right or {})}


def add_count(left: int | None, right: int | None) -> int:
    """Add `right` to the count `left`."""
    return (left or 0) + (right or 0)


def append_batch(state: Sequence[T] | None, updates: Sequence[Sequence[T] | T | None]) -> list[T]:
    """Apply `append` for each update in turn (the `DeltaChannel` form)."""
    merged = list(state or ())
    for update in updates:
        merged = append(merged, update)
    return merged


def add_audit_batch(
    state: Sequence[AuditRecord] | None,
    updates: Sequence[Sequence[AuditRecord] | AuditRecord | None],
) -> list[AuditRecord]:
    """Apply `add_audit` for each update in turn (the `DeltaChannel` form).

    A super-step's updates come in task order. The gates of a fan-out's branches are
    decided in any order across pauses (one approval today, the other tomorrow) and all
    land in the step that closes them: the updates made of approvals alone are put in
    the order they were decided, in the places the approvals held.
    """
    merged = list(state or ())
    for update in _approvals_in_time_order(updates) if len(updates) > 1 else updates:
        _extend_audit(merged, update)
    return merged


def _approvals_in_time_order(
    updates: Sequence[Sequence[AuditRecord] | AuditRecord | None],
) -> list[Sequence[AuditRecord] | AuditRecord | None]:
    """`updates` with those made of approval records only sorted by time among themselves."""
    ordered = list(updates)
    times = {i: _approval_time(update) for i, update in enumerate(ordered)}
    slots = [i for i, time in times.items() if time is not None]
    if len(slots) < 2:
        return ordered  # nothing to reorder
    decided = sorted(slots, key=lambda i: times[i] or "")
    for slot, index in zip(slots, decided, strict=True):
        ordered[slot] = updates[index]
    return ordered


def _approval_time(update: Sequence[AuditRecord] | AuditRecord | None) -> str | None:
    """When an update made of approval records only was decided; `None` for other updates."""
    records: list[Any] = [update] if isinstance(update, Mapping) else list(update or ())
    if not records or not all(
        isinstance(r, Mapping) and r.get("kind") == "approval" for r in records
    ):
        return None
    return str(records[0].get("ts", ""))


def add_exceptions_batch(
    state: Sequence[ExceptionRecord] | None,
    updates: Sequence[Sequence[ExceptionRecord] | ExceptionRecord | None],
) -> list[ExceptionRecord]:
    """Apply `add_exceptions` for each update in turn (the `DeltaChannel` form)."""
    merged = list(state or ())
    for update in updates:
        merged = add_exceptions(merged, update)
    return merged


def add_usage_batch(
    state: Mapping[str, Usage] | None, updates: Sequence[Mapping[str, Usage] | None]
) -> dict[str, Usage]:
    """Apply `add_usage` for each update in turn (the `DeltaChannel` form)."""
    merged = dict(state or {})
    for update in updates:
        _merge_usage(merged, update)
    return merged
