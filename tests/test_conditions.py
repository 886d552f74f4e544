"""Termination conditions: each one, their combinations, and their validation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langgraph_orchestra import (
    AllOf,
    AnyOf,
    CostBudget,
    ExternalStop,
    FunctionCondition,
    MaxRounds,
    TeamConfigError,
    TextMention,
    Timeout,
    TokenBudget,
    Usage,
)
from langgraph_orchestra.state import AuditRecord, audit_record


def usage(input_tokens: int = 0, output_tokens: int = 0, cost_usd: float = 0.0) -> Usage:
    return {
        "calls": 1,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "latency_s": 0.1,
        "cost_usd": cost_usd,
    }


def said(*texts: str) -> dict[str, Any]:
    return {"messages": [AIMessage(t, name="a") for t in texts]}


def record(kind: Any = "turn", *, ago: float = 0.0) -> AuditRecord:
    entry = audit_record(kind, "a")
    entry["ts"] = (datetime.now(UTC) - timedelta(seconds=ago)).isoformat()
    return entry


# --- each condition ------------------------------------------------------------------------


def test_module_example() -> None:
    stop = MaxRounds(12) | TextMention("DONE") | CostBudget(0.50)
    assert stop({"round": 12, "messages": []}) == "max_rounds"


@pytest.mark.parametrize(
    ("state", "reason"),
    [({"round": 2}, None), ({"round": 3}, "max_rounds"), ({"round": 7}, "max_rounds"), ({}, None)],
)
def test_max_rounds(state: dict[str, Any], reason: str | None) -> None:
    assert MaxRounds(3)(state) == reason


def test_text_mention_looks_at_the_latest_message_only() -> None:
    stop = TextMention("TERMINATE")
    assert stop(said("thinking", "all set. TERMINATE")) == "completed"
    assert stop(said("TERMINATE", "one more thing")) is None
    assert stop({"messages": []}) is None
    assert stop({}) is None


def test_text_mention_reads_content_blocks_and_custom_reason() -> None:
    message = AIMessage([{"type": "text", "text": "I give up"}], name="a")
    assert TextMention("give up", reason="stalled")({"messages": [message]}) == "stalled"


def test_token_budget_counts_everyones_input_and_output_in_the_run() -> None:
    state = {"run_usage": {"writer": usage(60, 30), "manager": usage(5, 5)}}
    assert TokenBudget(100)(state) == "budget"
    assert TokenBudget(101)(state) is None
    assert TokenBudget(10)({}) is None


def test_budgets_count_the_run_unless_asked_for_the_thread() -> None:
    # An earlier run on the thread used 1000 tokens and $1; this run 10 tokens and $0.01.
    state = {
        "usage": {"writer": usage(600, 400, cost_usd=1.0)},
        "run_usage": {"writer": usage(6, 4, cost_usd=0.01)},
    }
    assert TokenBudget(100)(state) is None
    assert TokenBudget(100, scope="thread")(state) == "budget"
    assert CostBudget(0.5)(state) is None
    assert CostBudget(0.5, scope="thread")(state) == "budget"


@pytest.mark.parametrize(
    "make", [lambda: TokenBudget(5, scope="all"), lambda: CostBudget(1, scope="x")]
)
def test_budget_scope_is_checked(make: Any) -> None:
    with pytest.raises(TeamConfigError, match=r"scope='(all|x)': allowed \['run', 'thread'\]"):
        make()


def test_cost_budget_counts_everyones_cost() -> None:
    state = {"run_usage": {"writer": usage(cost_usd=0.30), "manager": usage(cost_usd=0.25)}}
    assert CostBudget(0.55)(state) == "budget"
    assert CostBudget(0.56)(state) is None
    assert CostBudget(0.01)({"run_usage": {}}) is None


def _run(ago: float) -> dict[str, Any]:
    started = (datetime.now(UTC) - timedelta(seconds=ago)).isoformat()
    return {"run": {"id": "r", "started_at": started, "task": 0, "task_id": None}}


def test_timeout_after_the_limit() -> None:
    assert Timeout(60)(_run(ago=120)) == "timeout"
    assert Timeout(60)(_run(ago=5)) is None


def test_timeout_without_a_run_has_not_started() -> None:
    assert Timeout(1)({}) is None
    # The audit trail no longer says when a run started: the run record does.
    assert Timeout(1)({"audit": [record(ago=3600)]}) is None


def test_external_stop() -> None:
    stop = ExternalStop()
    assert stop({}) is None
    assert not stop.is_set()
    stop.set()
    assert stop({}) == "stopped"
    assert (MaxRounds(5) | stop)({"round": 1}) == "stopped"
    stop.clear()
    assert stop({}) is None
    assert ExternalStop("cancelled_by_user").__call__({}) is None
    late = ExternalStop("cancelled_by_user")
    late.set()
    assert late({}) == "cancelled_by_user"


@pytest.mark.parametrize(
    ("result", "reason"),
    [(True, "condition"), (False, None), (None, None), ("stalled", "stalled"), ("", None)],
)
def test_function_condition(result: Any, reason: str | None) -> None:
    seen: list[Any] = []

    def fn(state: Any) -> Any:
        seen.append(state)
        return result

    assert FunctionCondition(fn)({"round": 1}) == reason
    assert seen == [{"round": 1}]


def test_function_condition_custom_reason() -> None:
    assert FunctionCondition(lambda s: True, reason="done")({}) == "done"


# --- combinations ----------------------------------------------------------------------------


def test_or_stops_on_either_with_the_first_firing_reason() -> None:
    stop = MaxRounds(3) | TextMention("DONE")
    assert isinstance(stop, AnyOf)
    assert stop({"round": 1, **said("working")}) is None
    assert stop({"round": 3, **said("working")}) == "max_rounds"
    assert stop({"round": 1, **said("DONE")}) == "completed"
    assert stop({"round": 3, **said("DONE")}) == "max_rounds"


def test_and_needs_both_and_reports_the_last_reason() -> None:
    stop = MaxRounds(3) & TextMention("DONE")
    assert isinstance(stop, AllOf)
    assert stop({"round": 3, **said("working")}) is None
    assert stop({"round": 1, **said("DONE")}) is None
    assert stop({"round": 3, **said("DONE")}) == "completed"


def test_nested_combinations() -> None:
    stop = (MaxRounds(3) | TextMention("DONE")) & FunctionCondition(lambda s: "approved")
    assert stop({"round": 3, **said("x")}) == "approved"
    assert stop({"round": 1, **said("x")}) is None
    stop = MaxRounds(10) | (TextMention("DONE") & CostBudget(1.0))
    assert stop({"round": 1, **said("DONE"), "run_usage": {"a": usage(cost_usd=2)}}) == "budget"
    assert stop({"round": 1, **said("DONE"), "run_usage": {"a": usage(cost_usd=0.5)}}) is None


def _combine_error(kind: str) -> str:
    return re.escape(
        f"Cannot combine a condition with {kind}: use MaxRounds, TextMention, TokenBudget, "
        "CostBudget, Timeout, ExternalStop or FunctionCondition"
    )


@pytest.mark.parametrize(
    ("combine", "kind"),
    [
        (lambda: MaxRounds(3) | 5, "int"),  # type: ignore[operator]
        (lambda: MaxRounds(3) & "DONE", "str"),  # type: ignore[operator]
        (lambda: 5 | MaxRounds(3), "int"),
        (lambda: None & MaxRounds(3), "NoneType"),
        (lambda: MaxRounds(3) | (lambda s: True), "function"),  # type: ignore[operator]
        (lambda: AnyOf((MaxRounds(1), 5)), "int"),  # type: ignore[arg-type]
        (lambda: AllOf(("x",)), "str"),  # type: ignore[arg-type]
    ],
    ids=["or", "and", "ror", "rand", "function", "AnyOf", "AllOf"],
)
def test_combining_with_a_non_condition_is_refused(combine: Any, kind: str) -> None:
    with pytest.raises(TeamConfigError, match=_combine_error(kind)):
        combine()


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rounds", [0, -1, True, 2.5, "3"])
def test_max_rounds_validation(rounds: Any) -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape(f"MaxRounds needs a whole number >= 1, got {rounds!r}")
    ):
        MaxRounds(rounds)


@pytest.mark.parametrize("text", ["", None, 5])
def test_text_mention_validation(text: Any) -> None:
    with pytest.raises(TeamConfigError, match=re.escape("TextMention needs a non-empty text")):
        TextMention(text)


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (TokenBudget, "TokenBudget tokens"),
        (CostBudget, "CostBudget usd"),
        (Timeout, "Timeout seconds"),
    ],
)
@pytest.mark.parametrize("value", [0, -1, True, "10", float("nan"), float("inf")])
def test_positive_number_validation(make: Any, what: str, value: Any) -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape(f"{what} must be a positive number, got {value!r}")
    ):
        make(value)


def test_function_condition_validation() -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape("FunctionCondition needs a callable, got 'stop'")
    ):
        FunctionCondition("stop")  # type: ignore[arg-type]


def test_conditions_are_frozen_values() -> None:
    assert MaxRounds(3) == MaxRounds(3)
    assert len({TokenBudget(10), TokenBudget(10), CostBudget(1.0)}) == 2
