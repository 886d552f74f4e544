"""Honest usage: unknown usage is recorded and shown as unknown, unpriced cost as unpriced."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console

from langgraph_orchestra import Agent, CostBudget, TokenBudget, create_sequential
from langgraph_orchestra.cli.rendering import one_line_usage, usage_table
from langgraph_orchestra.state import Usage
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import read_thread, usage_rows
from langgraph_orchestra.tracing import ModelPrice


def _usage(calls: int, tokens_in: int, tokens_out: int, cost: float, **extra: Any) -> Usage:
    record: Any = {
        "calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "latency_s": 0.5,
        "cost_usd": cost,
        **extra,
    }
    return record  # type: ignore[no-any-return]


def _rendered(table: Any) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def _cells(text: str) -> dict[str, list[str]]:
    return {
        cells[1].strip(): [c.strip() for c in cells[2:-1]]
        for line in text.splitlines()
        if len(cells := line.split("│")) > 3
    }


def test_rows_show_known_partial_unknown_and_unpriced_and_the_total_agrees() -> None:
    rows = usage_rows(
        {
            "known": _usage(2, 100, 20, 0.0012),
            "partly": _usage(3, 50, 10, 0.0003, unknown_usage_calls=1),
            "silent": _usage(1, 0, 0, 0.0, unknown_usage_calls=1),
            "local": _usage(2, 40, 8, 0.0, unpriced_calls=2, unpriced_models=["llama3.1"]),
        }
    )
    shown = {
        r.participant: (r.tokens(r.input_tokens), r.tokens(r.output_tokens), r.cost) for r in rows
    }
    assert shown == {
        "known": ("100", "20", "$0.0012"),
        "partly": ("≥ 50", "≥ 10", "≥ $0.0003"),
        "silent": ("unknown", "unknown", "unknown"),
        "local": ("40", "8", "unpriced"),
        "total": ("≥ 190", "≥ 38", "≥ $0.0015"),
    }
    total = rows[-1]
    assert (total.calls, total.unknown_usage_calls, total.unpriced_calls) == (8, 2, 2)
    assert total.unpriced_models == ("llama3.1",)
    assert not total.tokens_known and not total.cost_known


def test_rows_of_fully_known_usage_are_exact() -> None:
    [row, total] = usage_rows({"a": _usage(1, 10, 5, 0.25)})
    assert (row.cost, total.cost, total.tokens(15)) == ("$0.2500", "$0.2500", "15")
    assert row.tokens_known and row.cost_known


def _team(*models: ScriptedModel, prices: dict[str, ModelPrice] | None = None) -> Any:
    agents = [Agent(f"agent{i}", model=m) for i, m in enumerate(models, start=1)]
    return create_sequential(agents, prices=prices).compile(checkpointer=InMemorySaver())


def test_a_streamed_reply_without_usage_is_recorded_and_shown_as_unknown() -> None:
    silent = ScriptedModel(["first answer"], usage=False, model_name="gpt-4o-mini")
    metered = ScriptedModel(["second answer"])
    team = _team(silent, metered)
    config: Any = {"configurable": {"thread_id": "t1"}}

    chunks = list(team.stream({"messages": [("user", "go")]}, config, stream_mode="messages"))

    assert any(meta["langgraph_node"] == "agent1" for _, meta in chunks)  # tokens streamed
    state = team.get_state(config).values
    assert state["usage"]["agent1"] == {
        "calls": 1,
        "input_tokens": 0,
        "output_tokens": 0,
        "latency_s": pytest.approx(state["usage"]["agent1"]["latency_s"]),
        "cost_usd": 0.0,
        "unknown_usage_calls": 1,
    }
    assert "unknown_usage_calls" not in state["usage"]["agent2"]
    assert state["usage"]["agent2"]["input_tokens"] > 0
    assert [r["detail"].get("tokens") for r in state["audit"][:2]] == [
        None,
        state["usage"]["agent2"]["input_tokens"] + state["usage"]["agent2"]["output_tokens"],
    ]

    info = read_thread(team.checkpointer, "t1")
    text = _rendered(usage_table(info))
    cells = _cells(text)
    assert cells["agent1"][1:3] == ["unknown", "unknown"]
    assert cells["agent1"][4] == "unknown"
    tokens = state["usage"]["agent2"]["input_tokens"]
    assert cells["total"][1] == f"≥ {tokens}"
    assert "usage unknown for 1 call: the reply carried no token usage" in text
    assert (cells["agent2"][4], cells["total"][4]) == ("$0.0000", "≥ $0.0000")  # scripted: free
    assert one_line_usage(info).startswith("2 model calls · ≥ ")


def test_an_unpriced_model_shows_as_unpriced_until_given_a_price() -> None:
    local = ScriptedModel(["answer"], model_name="llama3.1")
    team = _team(local)
    team.invoke({"messages": [("user", "go")]}, {"configurable": {"thread_id": "t"}})
    info = read_thread(team.checkpointer, "t")
    text = _rendered(usage_table(info))
    assert _cells(text)["agent1"][4] == _cells(text)["total"][4] == "unpriced"
    assert "unpriced: llama3.1: give a price with --price MODEL=IN/OUT" in text

    priced = _team(
        ScriptedModel(["answer"], model_name="llama3.1"),
        prices={"llama3.1": ModelPrice(1_000_000.0, 0.0)},
    )
    priced.invoke({"messages": [("user", "go")]}, {"configurable": {"thread_id": "t"}})
    usage = priced.get_state({"configurable": {"thread_id": "t"}}).values["usage"]["agent1"]
    assert "unpriced_calls" not in usage
    assert usage["cost_usd"] == pytest.approx(usage["input_tokens"])  # $1 per input token
    info = read_thread(priced.checkpointer, "t")
    assert _cells(_rendered(usage_table(info)))["total"][4] == f"${usage['cost_usd']:.4f}"


def test_budgets_count_known_usage_only() -> None:
    state: Any = {
        "run_usage": {
            "a": _usage(1, 0, 0, 0.0, unknown_usage_calls=1),
            "b": _usage(1, 40, 10, 0.5, unpriced_calls=1, unpriced_models=["m"]),
        }
    }
    assert TokenBudget(50)(state) == "budget"
    assert TokenBudget(51)(state) is None
    assert CostBudget(0.5)(state) == "budget"
    assert CostBudget(0.51)(state) is None


def test_scripted_model_without_usage_still_reports_its_model_name() -> None:
    model = ScriptedModel(["hi", "again"], usage=False, model_name="m")
    reply = model.invoke("x")
    assert reply.usage_metadata is None and reply.response_metadata["model_name"] == "m"
    streamed = list(model.stream("x"))
    assert all(chunk.usage_metadata is None for chunk in streamed)
    model.assert_complete()
