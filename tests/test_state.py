"""State: reducers, schema checks and audit records."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
from langchain_core.messages import AnyMessage
from langgraph.channels import DeltaChannel
from langgraph.graph import StateGraph
from langgraph.graph.message import add_messages
from pydantic import BaseModel
from typing_extensions import TypedDict

from langgraph_orchestra import TeamConfigError
from langgraph_orchestra.state import (
    SNAPSHOT_EVERY,
    ConcurrentState,
    ExceptionRecord,
    OrchestraState,
    RunStart,
    SequentialState,
    Usage,
    add_audit_batch,
    add_count,
    add_exceptions,
    add_exceptions_batch,
    add_transcript_batch,
    add_usage,
    add_usage_batch,
    append,
    append_batch,
    audit_record,
    check_state_schema,
    merge_dict,
)
from langgraph_orchestra.state.records import AuditRecord, cost_known, usage_known

# --- append ------------------------------------------------------------------------------


def test_append_an_item() -> None:
    assert append([1, 2], 3) == [1, 2, 3]


def test_append_a_list_or_tuple() -> None:
    assert append([1], [2, 3]) == [1, 2, 3]
    assert append([1], (2, 3)) == [1, 2, 3]


def test_append_keeps_strings_and_mappings_whole() -> None:
    record = {"id": "x", "kind": "turn"}
    assert append(["a"], "bc") == ["a", "bc"]
    assert append([], record) == [record]


def test_append_none() -> None:
    assert append([1], None) == [1]
    assert append(None, None) == []
    assert append(None, [1]) == [1]  # type: ignore[arg-type]


def test_append_never_mutates_left() -> None:
    left = [1, 2]
    result = append(left, [3])
    assert left == [1, 2]
    assert result is not left
    assert append(left, None) is not left


# --- add_exceptions ----------------------------------------------------------------------------


def exception(id: str, status: Any = "open", error: str = "boom") -> ExceptionRecord:
    return {
        "id": id,
        "ts": "2025-01-01T00:00:00+00:00",
        "agent": "a",
        "error": error,
        "error_type": "ValueError",
        "input": "task",
        "status": status,
    }


def test_add_exceptions_appends_new_records() -> None:
    first, second = exception("1"), exception("2")
    assert add_exceptions([first], second) == [first, second]
    assert add_exceptions(None, [first, second]) == [first, second]
    assert add_exceptions([first], None) == [first]


def test_add_exceptions_replaces_by_id_in_place() -> None:
    left = [exception("1"), exception("2"), exception("3")]
    resolved = exception("2", status="retried")
    merged = add_exceptions(left, [resolved, exception("4")])
    assert [(r["id"], r["status"]) for r in merged] == [
        ("1", "open"),
        ("2", "retried"),
        ("3", "open"),
        ("4", "open"),
    ]
    assert [r["status"] for r in left] == ["open", "open", "open"]  # left untouched


def test_add_exceptions_same_new_id_twice_keeps_the_later() -> None:
    merged = add_exceptions([], [exception("9", error="first"), exception("9", error="second")])
    assert [(r["id"], r["error"]) for r in merged] == [("9", "second")]


# --- add_usage ---------------------------------------------------------------------------------


def usage(calls: int, tokens_in: int, tokens_out: int, latency: float, cost: float) -> Usage:
    return {
        "calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "latency_s": latency,
        "cost_usd": cost,
    }


def test_add_usage_sums_per_participant_and_adds_new_ones() -> None:
    left = {"a": usage(1, 10, 5, 0.5, 0.01), "b": usage(2, 20, 10, 1.0, 0.02)}
    right = {"a": usage(2, 30, 15, 0.25, 0.03), "manager": usage(1, 7, 3, 0.1, 0.0)}
    merged = add_usage(left, right)
    assert merged["a"] == pytest.approx(usage(3, 40, 20, 0.75, 0.04))
    assert merged["b"] == left["b"]
    assert merged["manager"] == right["manager"]
    assert list(merged) == ["a", "b", "manager"]
    assert left["a"] == usage(1, 10, 5, 0.5, 0.01)  # left untouched


def test_add_usage_with_none() -> None:
    one = {"a": usage(1, 1, 1, 0.1, 0.0)}
    assert add_usage(None, one) == one
    assert add_usage(one, None) == one


def test_add_usage_keeps_unknown_and_unpriced_calls() -> None:
    known = usage(1, 10, 5, 0.5, 0.01)
    unknown: Usage = {**usage(2, 0, 0, 1.0, 0.0), "unknown_usage_calls": 2}
    local: Usage = {
        **usage(1, 7, 3, 0.1, 0.0),
        "unpriced_calls": 1,
        "unpriced_models": ["llama3.1"],
    }
    other: Usage = {**local, "unpriced_models": ["qwen2.5"]}
    merged = add_usage(add_usage({"a": known}, {"a": unknown}), {"a": local})
    merged = add_usage(add_usage(merged, {"a": local}), {"a": other})
    models = merged["a"].pop("unpriced_models")  # type: ignore[misc]
    assert models == ["llama3.1", "qwen2.5"]
    assert merged["a"] == pytest.approx(
        {**usage(6, 31, 14, 1.8, 0.01), "unknown_usage_calls": 2, "unpriced_calls": 3}
    )
    assert not usage_known(merged["a"]) and not cost_known(merged["a"])
    assert usage_known(local) and not cost_known(local)


@pytest.mark.parametrize(
    "extra",
    [
        {"unknown_usage_calls": -1},
        {"unknown_usage_calls": 1.5},
        {"unpriced_calls": True},
        {"unpriced_models": "llama"},
        {"unpriced_models": [1]},
    ],
)
def test_add_usage_drops_malformed_unknown_counts(extra: dict[str, Any]) -> None:
    bad: Any = {**usage(1, 1, 1, 0.1, 0.0), **extra}
    assert add_usage({}, {"a": bad}) == {}


# --- merge_dict --------------------------------------------------------------------------------


def test_merge_dict() -> None:
    left = {"a": "x", "b": None}
    assert merge_dict(left, {"b": "y", "c": "z"}) == {"a": "x", "b": "y", "c": "z"}
    assert merge_dict(None, {"a": 1}) == {"a": 1}
    assert merge_dict({"a": 1}, None) == {"a": 1}
    assert left == {"a": "x", "b": None}


# --- the batch forms (what a DeltaChannel calls) ------------------------------------------------


def _usage(calls: int) -> Usage:
    return {
        "calls": calls,
        "input_tokens": 10 * calls,
        "output_tokens": calls,
        "latency_s": 0.5 * calls,
        "cost_usd": 0.0,
    }


def _record(rid: str, status: str) -> ExceptionRecord:
    return {
        "id": rid,
        "ts": "2026-12-01T00:00:00+00:00",
        "agent": "a",
        "error": "boom",
        "error_type": "ValueError",
        "input": "task",
        "status": status,  # type: ignore[typeddict-item]
    }


@pytest.mark.parametrize(
    ("batch", "updates"),
    [
        (append_batch, [[1], 2, None, [3, 4]]),
        (add_usage_batch, [{"a": _usage(1)}, None, {"a": _usage(2), "b": _usage(1)}]),
        (
            add_exceptions_batch,
            [[_record("x", "open")], _record("y", "open"), [_record("x", "retried")]],
        ),
    ],
    ids=["append", "usage", "exceptions"],
)
def test_batch_reducers_give_the_same_state_however_updates_are_batched(
    batch: Any, updates: list[Any]
) -> None:
    """DeltaChannel replays saved updates in batches of any size: the result must not move."""
    one_by_one: Any = None
    for update in updates:
        one_by_one = batch(one_by_one, [update])
    whole = batch(None, updates)
    split = batch(batch(None, updates[:1]), updates[1:])
    assert whole == split == one_by_one
    assert batch(None, []) in ([], {})


def test_add_exceptions_batch_replaces_a_queued_record_by_id() -> None:
    queue = add_exceptions_batch(
        [_record("x", "open")], [_record("y", "open"), [_record("x", "retried")]]
    )
    assert queue == [_record("x", "retried"), _record("y", "open")]


# --- the schemas use these reducers -------------------------------------------------------------


def _operators(schema: type[Any]) -> dict[str, Any]:
    """Each channel's reducer as LangGraph reads it from the schema (`None`: last value)."""
    channels = StateGraph(schema).channels
    return {
        key: getattr(channel, "operator", None) or getattr(channel, "reducer", None)
        for key, channel in channels.items()
    }


def test_base_schema_channels_and_reducers() -> None:
    assert _operators(OrchestraState) == {
        "messages": add_transcript_batch,
        "audit": add_audit_batch,
        "exceptions": add_exceptions_batch,
        "usage": add_usage_batch,
        "run_usage": add_usage_batch,
        "run": None,
        "round": add_count,
        "summaries": merge_dict,
        "final": None,
        "stop_reason": None,
    }


def test_growing_channels_are_delta_channels_with_a_snapshot_frequency() -> None:
    channels = StateGraph(OrchestraState).channels
    growing = {k for k, c in channels.items() if isinstance(c, DeltaChannel)}
    assert growing == {"messages", "audit", "exceptions", "usage", "run_usage"}
    assert {channels[k].snapshot_frequency for k in growing} == {SNAPSHOT_EVERY}  # type: ignore[attr-defined]
    # LangGraph types each channel from its annotation: a usage table starts as a dict.
    assert channels["usage"].ValueType is dict
    assert channels["audit"].ValueType is list


def test_concurrent_schema_adds_results_and_dispatched() -> None:
    operators = _operators(ConcurrentState)
    assert (operators["results"], operators["dispatched"]) == (merge_dict, append)
    assert set(_operators(OrchestraState)) < set(operators)


# --- check_state_schema --------------------------------------------------------------------------


class WithTicket(SequentialState):
    ticket: str


class PydanticState(BaseModel):
    messages: Annotated[list[AnyMessage], add_messages]
    audit: list[AuditRecord] = []
    exceptions: list[ExceptionRecord] = []
    usage: dict[str, Usage] = {}
    run_usage: dict[str, Usage] = {}
    run: RunStart | None = None
    round: int = 0
    final: str | None = None
    stop_reason: str | None = None
    ticket: str = ""


class PydanticPartial(BaseModel):
    messages: list[AnyMessage]
    final: str | None = None


class TypedPartial(TypedDict):
    messages: list[AnyMessage]
    usage: dict[str, Usage]


def test_no_schema_gives_the_base() -> None:
    assert check_state_schema(None, SequentialState, pattern="sequential") is SequentialState


def test_typeddict_extension_is_accepted() -> None:
    assert check_state_schema(WithTicket, SequentialState, pattern="sequential") is WithTicket


def test_pydantic_model_with_all_fields_is_accepted() -> None:
    assert check_state_schema(PydanticState, SequentialState, pattern="sequential") is PydanticState


@pytest.mark.parametrize(
    ("schema", "missing"),
    [
        (
            PydanticPartial,
            ["audit", "exceptions", "round", "run", "run_usage", "stop_reason", "usage"],
        ),
        (
            TypedPartial,
            ["audit", "exceptions", "final", "round", "run", "run_usage", "stop_reason"],
        ),
    ],
)
def test_missing_keys_are_refused(schema: type[Any], missing: list[str]) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            f"sequential state_schema {schema.__name__} lacks the keys {missing}: extend "
            "SequentialState (or declare them with the same reducers)"
        ),
    ):
        check_state_schema(schema, SequentialState, pattern="sequential")


def test_missing_pattern_keys_are_refused() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "concurrent state_schema WithTicket lacks the keys ['dispatched', 'outbox', "
            "'results']: extend ConcurrentState (or declare them with the same reducers)"
        ),
    ):
        check_state_schema(WithTicket, ConcurrentState, pattern="concurrent")


@pytest.mark.parametrize("schema", ["SequentialState", WithTicket(messages=[], ticket="t"), 3])
def test_non_class_is_refused(schema: Any) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            f"sequential state_schema must be a TypedDict or pydantic model class, got {schema!r}"
        ),
    ):
        check_state_schema(schema, SequentialState, pattern="sequential")


# --- audit_record -------------------------------------------------------------------------


def test_audit_record_shape() -> None:
    before = datetime.now(UTC)
    entry = audit_record("routing", "manager", selected="writer", reason="drafts first")
    after = datetime.now(UTC)

    assert list(entry) == ["id", "ts", "kind", "agent", "detail"]
    assert (entry["kind"], entry["agent"]) == ("routing", "manager")
    assert entry["detail"] == {"selected": "writer", "reason": "drafts first"}
    assert re.fullmatch(r"[0-9a-f]{32}", entry["id"])
    ts = datetime.fromisoformat(entry["ts"])
    assert ts.tzinfo is not None
    assert before <= ts <= after


def test_audit_records_have_fresh_ids_and_no_agent_is_allowed() -> None:
    first, second = audit_record("termination", None), audit_record("termination", None)
    assert first["id"] != second["id"]
    assert (first["agent"], first["detail"]) == (None, {})
