"""State schemas: the base every pattern shares and the per-pattern extensions."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, get_type_hints

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.state.records import (
    AuditRecord,
    BranchTurn,
    ExceptionRecord,
    RunStart,
    Usage,
)
from langgraph_orchestra.state.reducers import (
    add_count,
    add_exceptions,
    add_usage,
    append,
    merge_dict,
)

__all__ = [
    "ConcurrentState",
    "GroupChatState",
    "OrchestraState",
    "SequentialState",
    "check_state_schema",
]


class OrchestraState(TypedDict):
    """The state every pattern shares.

    Extend it (as a `TypedDict` subclass or a pydantic model with the same fields) to
    carry your own keys; pass the subclass as `state_schema=` to any factory.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    """The shared transcript; each agent's messages carry its name."""
    audit: NotRequired[Annotated[list[AuditRecord], append]]
    """Append-only audit trail."""
    exceptions: NotRequired[Annotated[list[ExceptionRecord], add_exceptions]]
    """The exception queue."""
    usage: NotRequired[Annotated[dict[str, Usage], add_usage]]
    """Model usage per participant over the thread's runs, managers and aggregators
    included."""
    run_usage: NotRequired[Annotated[dict[str, Usage], add_usage]]
    """The same, for the current run only (budgets count this by default)."""
    run: NotRequired[RunStart]
    """The current run's start: id, time and the index of its input."""
    round: NotRequired[Annotated[int, add_count]]
    """Agent turns taken in the current run (a round is one speaker turn)."""
    final: NotRequired[str | None]
    """The answer: the real last (or partial) output when the run ended."""
    stop_reason: NotRequired[str | None]
    """Why the run ended (`completed`, `rejected`, `aborted`, `max_rounds`, ...)."""


class SequentialState(OrchestraState):
    """State of `create_sequential`: the base state, nothing more."""


class ConcurrentState(OrchestraState):
    """State of `create_concurrent`."""

    results: NotRequired[Annotated[dict[str, str | None], merge_dict]]
    """Each finished branch's output by agent name; `None` when it gave none (failed,
    skipped, rejected)."""
    dispatched: NotRequired[Annotated[list[str], append]]
    """The branches started in this run, in order."""
    outbox: NotRequired[Annotated[dict[str, BranchTurn], merge_dict]]
    """Branch turns accepted without a gate, by agent: each branch writes its messages,
    usage and audit records here in one write, and the aggregator moves them into
    `messages`, `usage` and `audit` in team order when the fan-out closes (one write per
    branch instead of four keeps large fan-outs cheap)."""


class GroupChatState(OrchestraState):
    """State of `create_group_chat` and `create_maker_checker`."""

    speaker: NotRequired[str | None]
    """The participant the manager last gave the floor to."""


def check_state_schema(schema: type[Any] | None, base: type[Any], *, pattern: str) -> type[Any]:
    """Return `schema` (or `base` when `None`) after checking it has `base`'s fields.

    A custom schema may be a `TypedDict` or a pydantic model; it must declare every key
    of `base` so the pattern's nodes can write them.

    Raises:
        TeamConfigError: if the schema is not a class or lacks some of `base`'s keys.
    """
    if schema is None:
        return base
    if not isinstance(schema, type):
        raise TeamConfigError(
            f"{pattern} state_schema must be a TypedDict or pydantic model class, got {schema!r}"
        )
    fields = getattr(schema, "model_fields", None)
    declared = set(fields) if isinstance(fields, dict) else set(get_type_hints(schema))
    missing = sorted(set(get_type_hints(base)) - declared)
    if missing:
        raise TeamConfigError(
            f"{pattern} state_schema {schema.__name__} lacks the keys {missing}: extend "
            f"{base.__name__} (or declare them with the same reducers)"
        )
    return schema
