"""Tool calls per participant: counted in `usage` next to tokens, latency and cost."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import ToolException, tool
from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console

from langgraph_orchestra import Agent, create_sequential
from langgraph_orchestra.cli.rendering import usage_table
from langgraph_orchestra.state import add_usage
from langgraph_orchestra.state.records import is_usage
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import RunInfo, ThreadInfo, usage_rows
from langgraph_orchestra.tracing import DEFAULT_PRICES, usage_of


@tool
def lookup(order: str) -> str:
    """Look an order up."""
    if order == "missing":
        raise ToolException(f"no order {order}")
    return f"order {order}: shipped"


lookup.handle_tool_error = True  # a failing call becomes a tool result with status="error"


def _calls(*orders: str) -> AIMessage:
    return AIMessage(
        "",
        tool_calls=[
            {"name": "lookup", "args": {"order": order}, "id": f"c{i}"}
            for i, order in enumerate(orders)
        ],
    )


def test_usage_of_counts_tool_results_and_failures() -> None:
    messages = [
        AIMessage("", tool_calls=[]),
        ToolMessage("ok", tool_call_id="1"),
        ToolMessage("boom", tool_call_id="2", status="error"),
        ToolMessage("ok", tool_call_id="3"),
        AIMessage("done"),
    ]
    usage = usage_of(messages, 0.5, DEFAULT_PRICES)
    assert (usage["calls"], usage.get("tool_calls"), usage.get("tool_errors")) == (2, 3, 1)
    assert "tool_calls" not in usage_of([AIMessage("no tools")], 0.0, DEFAULT_PRICES)


def test_an_agents_tool_calls_and_failures_are_counted_in_usage() -> None:
    model = ScriptedModel([_calls("A-1", "missing"), _calls("A-2"), "All looked up."])
    team = create_sequential([Agent("clerk", model=model, tools=[lookup])]).compile(
        checkpointer=InMemorySaver()
    )
    config: Any = {"configurable": {"thread_id": "t"}}
    state = team.invoke({"messages": [("user", "check my orders")]}, config)
    usage = state["usage"]["clerk"]
    assert (usage["calls"], usage["tool_calls"], usage["tool_errors"]) == (3, 3, 1)
    assert state["run_usage"]["clerk"]["tool_calls"] == 3
    # A second run on the thread adds to the thread's totals.
    model2 = ScriptedModel([_calls("missing"), "Still missing."])
    team2 = create_sequential([Agent("clerk", model=model2, tools=[lookup])]).compile(
        checkpointer=team.checkpointer
    )
    state = team2.invoke({"messages": [("user", "and again?")]}, config)
    usage = state["usage"]["clerk"]
    assert (usage["calls"], usage["tool_calls"], usage["tool_errors"]) == (5, 4, 2)
    assert (
        state["run_usage"]["clerk"]["tool_calls"],
        state["run_usage"]["clerk"]["tool_errors"],
    ) == (1, 1)


def _usage(calls: int, tools: int | None = None, errors: int = 0) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "calls": calls,
        "input_tokens": 10,
        "output_tokens": 5,
        "latency_s": 0.5,
        "cost_usd": 0.0,
    }
    if tools is not None:
        usage.update(tool_calls=tools, tool_errors=errors)
    return usage


def test_add_usage_sums_tool_counts_and_keeps_usage_without_them() -> None:
    merged = add_usage({"a": _usage(1, 2, 1), "b": _usage(1)}, {"a": _usage(1), "b": _usage(1)})
    assert (merged["a"]["tool_calls"], merged["a"]["tool_errors"]) == (2, 1)
    assert "tool_calls" not in merged["b"]
    merged = add_usage(merged, {"b": _usage(1, 1, 0)})
    assert (merged["b"]["calls"], merged["b"]["tool_calls"], merged["b"]["tool_errors"]) == (
        3,
        1,
        0,
    )


def test_malformed_tool_counts_are_refused() -> None:
    assert is_usage(_usage(1, 2, 1))
    assert not is_usage(_usage(1, -1, 0))
    assert not is_usage(_usage(1, 2, 1.5))  # type: ignore[arg-type]
    assert add_usage({}, {"a": _usage(1, -1, 0)}) == {}


def test_usage_rows_and_table_show_tool_calls_failures_and_error_rate() -> None:
    usage: Any = {"clerk": _usage(3, 4, 1), "writer": _usage(1)}
    rows = usage_rows(usage)
    assert [(r.participant, r.tool_calls, r.tool_errors, r.error_rate) for r in rows] == [
        ("clerk", 4, 1, 0.25),
        ("writer", 0, 0, None),
        ("total", 4, 1, 0.25),
    ]
    info = ThreadInfo("t", "done", "2026-01-01T00:00:00+00:00", RunInfo(), {"usage": usage})
    console = Console(width=120, record=True)
    console.print(usage_table(info))
    lines = console.export_text().splitlines()
    assert "tools (failed)" in lines[2]
    [clerk] = [line for line in lines if "clerk" in line]
    [writer] = [line for line in lines if "writer" in line]
    assert clerk.split("│")[-2].strip() == "4 (1, 25%)"
    assert writer.split("│")[-2].strip() == "-"
