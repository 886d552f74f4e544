"""Reducers for the shared state channels: small pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from langgraph_orchestra.state.records import ExceptionRecord, Usage

__all__ = ["add_count", "add_exceptions", "add_usage", "append", "merge_dict"]

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


def add_exceptions(
    left: Sequence[ExceptionRecord] | None,
    right: Sequence[ExceptionRecord] | ExceptionRecord | None,
) -> list[ExceptionRecord]:
    """Append new exception records; a record whose id is already queued replaces it."""
    merged = list(left or ())
    if right is None:
        return merged
    index = {record["id"]: i for i, record in enumerate(merged)}
    for record in [right] if isinstance(right, Mapping) else right:
        if record["id"] in index:
            merged[index[record["id"]]] = record
        else:
            index[record["id"]] = len(merged)
            merged.append(record)
    return merged


def add_usage(
    left: Mapping[str, Usage] | None, right: Mapping[str, Usage] | None
) -> dict[str, Usage]:
    """Sum usage per participant."""
    merged = dict(left or {})
    for name, usage in (right or {}).items():
        if name in merged:
            old = merged[name]
            merged[name] = {
                "calls": old["calls"] + usage["calls"],
                "input_tokens": old["input_tokens"] + usage["input_tokens"],
                "output_tokens": old["output_tokens"] + usage["output_tokens"],
                "latency_s": old["latency_s"] + usage["latency_s"],
                "cost_usd": old["cost_usd"] + usage["cost_usd"],
            }
        else:
            merged[name] = usage
    return merged


def merge_dict(left: Mapping[str, Any] | None, right: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge `right` into `left`, key by key."""
    return {**(left or {}), **(right or {})}


def add_count(left: int | None, right: int | None) -> int:
    """Add `right` to the count `left`."""
    return (left or 0) + (right or 0)
