"""The records kept in shared state: audit entries, exceptions and usage.

Records are plain `TypedDict`s so they serialize with any checkpointer and export as
JSON unchanged.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, get_args

from langchain_core.messages import AnyMessage
from typing_extensions import TypedDict

from langgraph_orchestra.events import emit_record

__all__ = [
    "AuditKind",
    "AuditRecord",
    "BranchTurn",
    "Evaluation",
    "ExceptionRecord",
    "ExceptionStatus",
    "PlannedStep",
    "ReplanRecord",
    "RunStart",
    "StepOutcome",
    "StepStatus",
    "StopReason",
    "SummaryRecord",
    "Usage",
    "audit_record",
    "cost_known",
    "is_audit_record",
    "is_exception_record",
    "is_usage",
    "new_id",
    "now",
    "usage_known",
]

AuditKind = Literal[
    "turn",
    "routing",
    "handoff",
    "approval",
    "exception",
    "plan",
    "termination",
    "completion",
    "fallback",
    "breaker",
    "write",
]
"""What an audit record describes (`fallback`: a call answered by a fallback model, or by
none; `breaker`: a model's circuit breaker opened, let a trial through, or closed;
`completion`: an `on_end` action ran; `write`: one record field written, old and new
value)."""

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
    "below_threshold",
    "max_retries",
    "finished",
    "quiet",
    "max_messages",
    "loop",
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
    missing: NotRequired[list[str]]
    """The required record fields that were absent (the agent did not run)."""
    field: NotRequired[str]
    """The record field in conflict (two fan-out branches wrote it)."""
    values: NotRequired[dict[str, Any]]
    """The values in question, by agent: a conflict's, or writes refused to an agent."""


class Usage(TypedDict):
    """Model usage of one participant (agents, managers, selectors, aggregators).

    Unknown is never recorded as 0: a call whose reply reported no token usage (a
    streamed reply from a server that sends none, a plain function agent) counts in
    `calls` and `unknown_usage_calls`, and adds nothing to the tokens and cost; a call
    of a model the price table does not list counts in `unpriced_calls`, its tokens
    are summed and its cost is not. `cost_usd` is exact only when neither is set
    (see `usage_known` and `cost_known`).
    """

    calls: int
    """Number of calls."""
    input_tokens: int
    """Input (prompt) tokens."""
    output_tokens: int
    """Output (completion) tokens."""
    latency_s: float
    """Wall time spent in calls, in seconds."""
    cost_usd: float
    """Cost of the priced calls, from the price table."""
    tool_calls: NotRequired[int]
    """Tool calls made in the participant's turns (one per tool result); absent: none."""
    tool_errors: NotRequired[int]
    """Of those, the ones that failed (a tool result with `status="error"`)."""
    unknown_usage_calls: NotRequired[int]
    """Calls whose reply carried no usage metadata: their tokens and cost are unknown."""
    unpriced_calls: NotRequired[int]
    """Calls with known tokens whose model the price table does not list: cost unknown."""
    unpriced_models: NotRequired[list[str]]
    """The names of those models (what to give a price for)."""


class SummaryRecord(TypedDict):
    """A running summary of the transcript (the `Summary` context policy), kept in state."""

    text: str
    """The summary of `messages[:upto]` (the run's task left out: it is shown as it is)."""
    upto: int
    """How many messages it covers, from the start of the transcript."""
    last_id: str | None
    """Id of the last message it covers, to tell a stale record from a good one."""
    calls: int
    """Summarizer calls that built it (each extended the previous summary)."""


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
    fields: NotRequired[dict[str, Any]]
    """The record fields the branch writes (applied when the fan-out closes)."""


StepStatus = Literal["pending", "running", "done", "failed", "skipped"]
"""Where a plan step stands: `done` gave an output; `failed` gave none (an error, a
rejection, a skip); `skipped` never ran because a step it depends on gave no output."""


class PlannedStep(TypedDict):
    """One step of a plan, as kept in state."""

    id: str
    """The step's id, unique in its plan."""
    agent: str
    """The agent that carries it out."""
    instruction: str
    """What the agent is asked to do (it sees this and its dependencies' outputs)."""
    depends_on: list[str]
    """Ids of the steps whose outputs it needs."""


class StepOutcome(TypedDict):
    """Where one step of the current plan stands."""

    status: StepStatus
    """Pending, running, done, failed or skipped."""
    output: str | None
    """The step's output, once done."""
    reason: str | None
    """Why it failed or was skipped."""


class Evaluation(TypedDict):
    """The evaluator's score of one executed plan's result."""

    score: float
    """From 0 to 1."""
    reasons: list[str]
    """Why."""
    threshold: float
    """The score needed."""
    result: str | None
    """The result that was scored."""


class ReplanRecord(TypedDict):
    """Why the planner planned again, and what the plan it replaced had done."""

    reason: Literal["rejected", "below_threshold"]
    """A reviewer rejected the plan, or its result scored below the threshold."""
    feedback: str
    """The reviewer's feedback (`rejected`)."""
    evaluation: Evaluation | None
    """The score of the replaced plan's result (`below_threshold`)."""
    plan: list[PlannedStep]
    """The replaced plan."""
    steps: dict[str, StepOutcome]
    """What each of its steps did."""


def now() -> str:
    """Return the current UTC time as an ISO 8601 string."""
    return datetime.now(UTC).isoformat()


def new_id() -> str:
    """Return a fresh unique id: 128 random bits as hex (like `uuid4().hex`, 4x cheaper)."""
    return os.urandom(16).hex()


def audit_record(kind: AuditKind, agent: str | None, **detail: Any) -> AuditRecord:
    """Build an audit record stamped with a fresh id and the current time.

    The record is also streamed, as it is made, as a custom stream event
    (`langgraph_orchestra.events`).
    """
    record: AuditRecord = {
        "id": new_id(),
        "ts": now(),
        "kind": kind,
        "agent": agent,
        "detail": detail,
    }
    emit_record(record["id"], kind, agent, detail)
    return record


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _amount(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


_AUDIT_KINDS = frozenset(get_args(AuditKind))
"""The kinds an audit record may have (checked on every record written)."""
_USAGE_COUNTS = ("calls", "input_tokens", "output_tokens")
_USAGE_AMOUNTS = ("latency_s", "cost_usd")
_USAGE_EXTRA_COUNTS = ("tool_calls", "tool_errors", "unknown_usage_calls", "unpriced_calls")


def is_audit_record(record: object) -> bool:
    """Whether `record` is a well-formed `AuditRecord`."""
    if not (type(record) is dict or isinstance(record, Mapping)):
        return False
    agent = record.get("agent")
    return (
        _text(record.get("id"))
        and _text(record.get("ts"))
        and record.get("kind") in _AUDIT_KINDS
        and (agent is None or isinstance(agent, str))
        and (type(detail := record.get("detail")) is dict or isinstance(detail, Mapping))
    )


def is_exception_record(record: object) -> bool:
    """Whether `record` is a well-formed `ExceptionRecord`."""
    return (
        isinstance(record, Mapping)
        and all(_text(record.get(key)) for key in ("id", "ts", "agent", "error", "error_type"))
        and isinstance(record.get("input"), str)
        and record.get("status") in get_args(ExceptionStatus)
    )


def is_usage(usage: object) -> bool:
    """Whether `usage` is a well-formed `Usage`: counts and amounts, none negative or NaN."""
    if not (type(usage) is dict or isinstance(usage, Mapping)):
        return False
    # Checked on every usage write: plain ints and floats take the short path.
    if not _counts(usage, _USAGE_COUNTS, None):
        return False
    for key in _USAGE_AMOUNTS:
        value = usage.get(key)
        if not (value.__class__ is float and 0 <= value < math.inf) and not _amount(value):
            return False
    if len(usage) > 5:  # beyond the five required keys: the optional counts and models
        return _optional_usage(usage)
    return True


def _counts(usage: Mapping[str, Any], keys: tuple[str, ...], missing: int | None) -> bool:
    """Whether `usage` holds a count at each of `keys` (`missing`: the value of an absent one)."""
    for key in keys:
        value = usage.get(key, missing)
        if not (value.__class__ is int and value >= 0) and not _count(value):
            return False
    return True


def _optional_usage(usage: Mapping[str, Any]) -> bool:
    """Whether the optional entries of `usage` (if present) are well formed."""
    return _counts(usage, _USAGE_EXTRA_COUNTS, 0) and (
        "unpriced_models" not in usage
        or (
            isinstance(usage["unpriced_models"], list)
            and all(isinstance(name, str) for name in usage["unpriced_models"])
        )
    )


def usage_known(usage: Mapping[str, Any]) -> bool:
    """Whether every call of `usage` reported its tokens (its token counts are exact)."""
    return not usage.get("unknown_usage_calls")


def cost_known(usage: Mapping[str, Any]) -> bool:
    """Whether the cost of every call of `usage` is known (`cost_usd` is exact)."""
    return usage_known(usage) and not usage.get("unpriced_calls")
