"""The records kept in shared state: audit entries, exceptions and usage.

Records are plain `TypedDict`s so they serialize with any checkpointer and export as
JSON unchanged.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired

from langchain_core.messages import AnyMessage
from typing_extensions import TypedDict

__all__ = [
    "AuditKind",
    "AuditRecord",
    "BranchTurn",
    "ExceptionRecord",
    "ExceptionStatus",
    "RunStart",
    "StopReason",
    "Usage",
    "audit_record",
    "new_id",
    "now",
]

AuditKind = Literal["turn", "routing", "handoff", "approval", "exception", "plan", "termination"]
"""What an audit record describes."""

ExceptionStatus = Literal["open", "continued", "retried", "skipped", "supplied", "aborted"]
"""Where an exception stands: `open` waits for a human; the others are resolutions."""

StopReason = Literal[
    "completed",
    "max_rounds",
    "budget",
    "timeout",
    "stalled",
    "handoff_limit",
    "rejected",
    "aborted",
    "quorum_not_met",
    "error",
    "condition",
    "stopped",
    "approved",
    "max_revisions",
]
"""Why a run ended."""


class AuditRecord(TypedDict):
    """One entry of the append-only audit trail."""

    id: str
    """Unique id of the record."""
    ts: str
    """UTC timestamp, ISO 8601."""
    kind: AuditKind
    """What happened."""
    agent: str | None
    """The participant concerned, if any."""
    detail: dict[str, Any]
    """Kind-specific facts: decision, reviewer, reason, latency, tokens, ..."""


class ExceptionRecord(TypedDict):
    """One entry of the exception queue."""

    id: str
    """Unique id; a later record with the same id updates this one."""
    ts: str
    """UTC timestamp of the failure, ISO 8601."""
    agent: str
    """The agent that failed."""
    error: str
    """The error message."""
    error_type: str
    """The error's class name."""
    input: str
    """The text the agent was answering when it failed."""
    output: NotRequired[str | None]
    """The refused output, when a validator refused it."""
    status: ExceptionStatus
    """Where the exception stands."""
    resolution: NotRequired[dict[str, Any]]
    """How a human resolved it: action, reviewer, supplied content."""


class Usage(TypedDict):
    """Model usage of one participant (agents, managers, selectors, aggregators)."""

    calls: int
    """Number of calls."""
    input_tokens: int
    """Input (prompt) tokens."""
    output_tokens: int
    """Output (completion) tokens."""
    latency_s: float
    """Wall time spent in calls, in seconds."""
    cost_usd: float
    """Cost from the price table; 0 for models it does not list."""


class RunStart(TypedDict):
    """The start of the current run, written once by the node that starts it."""

    id: str
    """Unique id of the run."""
    started_at: str
    """UTC timestamp of the run's start, ISO 8601 (`Timeout` counts from it)."""
    task: int | None
    """Index in `messages` of the run's input (the task), `None` when it has none."""
    task_id: str | None
    """Id of that message, to tell a stale index from a good one."""


class BranchTurn(TypedDict):
    """A fan-out branch's accepted turn, held until the fan-out closes."""

    text: str
    """The branch's output."""
    messages: list[AnyMessage]
    """The branch's new messages."""
    usage: dict[str, Usage]
    """The branch's usage by participant."""
    audit: list[AuditRecord]
    """The branch's audit records."""


def now() -> str:
    """Return the current UTC time as an ISO 8601 string."""
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    """Return a fresh unique id: 128 random bits as hex (like `uuid4().hex`, 4x cheaper)."""
    return os.urandom(16).hex()


def audit_record(kind: AuditKind, agent: str | None, **detail: Any) -> AuditRecord:
    """Build an audit record stamped with a fresh id and the current time."""
    return {"id": new_id(), "ts": now(), "kind": kind, "agent": agent, "detail": detail}
