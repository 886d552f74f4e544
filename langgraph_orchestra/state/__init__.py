"""Typed shared state: schemas, records and reducers."""

from langgraph_orchestra.state.records import (
    AuditKind,
    AuditRecord,
    BranchTurn,
    ExceptionRecord,
    ExceptionStatus,
    RunStart,
    StopReason,
    Usage,
    audit_record,
)
from langgraph_orchestra.state.reducers import (
    add_count,
    add_exceptions,
    add_usage,
    append,
    merge_dict,
)
from langgraph_orchestra.state.schemas import (
    ConcurrentState,
    GroupChatState,
    OrchestraState,
    SequentialState,
    check_state_schema,
)

__all__ = [
    "AuditKind",
    "AuditRecord",
    "BranchTurn",
    "ConcurrentState",
    "ExceptionRecord",
    "ExceptionStatus",
    "GroupChatState",
    "OrchestraState",
    "RunStart",
    "SequentialState",
    "StopReason",
    "Usage",
    "add_count",
    "add_exceptions",
    "add_usage",
    "append",
    "audit_record",
    "check_state_schema",
    "merge_dict",
]
