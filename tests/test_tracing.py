"""Usage and cost accounting, run configs, and the tracing contract (DESIGN §6).

The contract test runs real teams under an in-process tracer that keeps runs in
memory: no network, no LangSmith client.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run
from langgraph.graph.state import CompiledStateGraph

from langgraph_orchestra import Agent, TeamConfigError, create_concurrent, create_sequential
from langgraph_orchestra.state import cost_known, usage_known
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.tracing import (
    DEFAULT_PRICES,
    TAG,
    ModelPrice,
    call_config,
    merge_prices,
    node_metadata,
    usage_of,
)


def ai(text: str, tokens_in: int, tokens_out: int, model: str | None = "gpt-4o-mini") -> AIMessage:
    return AIMessage(
        text,
        usage_metadata={
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
        response_metadata={"model_name": model} if model else {},
    )


# --- usage_of ----------------------------------------------------------------------------------


def test_usage_of_sums_ai_messages_and_counts_tool_results() -> None:
    messages: list[BaseMessage] = [
        HumanMessage("task"),
        ai("", 100, 20),
        ToolMessage("42", tool_call_id="c1"),
        ai("answer", 150, 30),
    ]
    usage = usage_of(messages, 1.25, DEFAULT_PRICES)
    assert usage == {
        "calls": 2,
        "input_tokens": 250,
        "output_tokens": 50,
        "latency_s": 1.25,
        "cost_usd": pytest.approx((250 * 0.15 + 50 * 0.60) / 1e6),
        "tool_calls": 1,
        "tool_errors": 0,
    }


def test_usage_of_ai_message_without_usage_is_a_call_of_unknown_usage() -> None:
    usage = usage_of([AIMessage("plain"), ai("x", 10, 5)], 0.0, DEFAULT_PRICES)
    assert usage == {
        "calls": 2,
        "input_tokens": 10,
        "output_tokens": 5,
        "latency_s": 0.0,
        "cost_usd": pytest.approx((10 * 0.15 + 5 * 0.60) / 1e6),
        "unknown_usage_calls": 1,
    }
    assert not usage_known(usage) and not cost_known(usage)


def test_usage_of_fully_reported_calls_is_known() -> None:
    usage = usage_of([ai("x", 10, 5)], 0.0, DEFAULT_PRICES)
    assert "unknown_usage_calls" not in usage and "unpriced_calls" not in usage
    assert usage_known(usage) and cost_known(usage)


@pytest.mark.parametrize(
    ("model", "price"),
    [
        ("gpt-4o-mini-2024-07-18", DEFAULT_PRICES["gpt-4o-mini"]),
        ("gpt-4o-2024-11-20", DEFAULT_PRICES["gpt-4o"]),
        ("gpt-4.1-mini-2025-04-14", DEFAULT_PRICES["gpt-4.1-mini"]),
        ("gpt-4.1-2025-04-14", DEFAULT_PRICES["gpt-4.1"]),
        ("claude-sonnet-4-20250514", DEFAULT_PRICES["claude-sonnet-4"]),
    ],
)
def test_versioned_model_names_match_their_longest_listed_prefix(
    model: str, price: ModelPrice
) -> None:
    usage = usage_of([ai("x", 1_000_000, 1_000_000, model)], 0.0, DEFAULT_PRICES)
    assert usage["cost_usd"] == pytest.approx(price.input_per_mtok + price.output_per_mtok)


@pytest.mark.parametrize(
    ("model", "shown"),
    [("my-local-llama", "my-local-llama"), ("", "unnamed model"), (None, "unnamed model")],
)
def test_unknown_or_missing_model_is_unpriced_and_counts_tokens(
    model: str | None, shown: str
) -> None:
    usage = usage_of([ai("x", 100, 50, model), ai("y", 1, 1, model)], 0.0, DEFAULT_PRICES)
    assert (usage["input_tokens"], usage["output_tokens"], usage["cost_usd"]) == (101, 51, 0.0)
    assert (usage.get("unpriced_calls"), usage.get("unpriced_models")) == (2, [shown])
    assert usage_known(usage) and not cost_known(usage)


def test_a_name_that_is_only_part_of_a_listed_name_is_unpriced() -> None:
    usage = usage_of([ai("x", 100, 50, "gpt"), ai("y", 10, 10)], 0.0, DEFAULT_PRICES)
    assert usage["cost_usd"] == pytest.approx((10 * 0.15 + 10 * 0.60) / 1e6)
    assert (usage.get("unpriced_calls"), usage.get("unpriced_models")) == (1, ["gpt"])


def test_usage_of_counts_calls() -> None:
    assert usage_of([], 0.0, DEFAULT_PRICES)["calls"] == 1  # a turn is at least one call
    assert usage_of([HumanMessage("x")], 0.0, DEFAULT_PRICES)["calls"] == 1
    assert usage_of([ai("a", 1, 1), ai("b", 1, 1)], 0.0, DEFAULT_PRICES)["calls"] == 2
    assert usage_of([ai("a", 1, 1)], 0.0, DEFAULT_PRICES, calls=5)["calls"] == 5


# --- merge_prices ----------------------------------------------------------------------------


def test_merge_prices_without_extras_is_the_default_table() -> None:
    assert merge_prices(None) is DEFAULT_PRICES
    assert merge_prices({}) is DEFAULT_PRICES


def test_merge_prices_extends_and_overrides() -> None:
    mine = ModelPrice(1.0, 2.0)
    cheaper = ModelPrice(0.01, 0.02)
    table = merge_prices({"my-model": mine, "gpt-4o": cheaper})
    assert (table["my-model"], table["gpt-4o"]) == (mine, cheaper)
    assert table["gpt-4o-mini"] == DEFAULT_PRICES["gpt-4o-mini"]
    assert DEFAULT_PRICES["gpt-4o"] == ModelPrice(2.50, 10.00)  # the default is untouched
    usage = usage_of([ai("x", 1_000_000, 0, "my-model-v2")], 0.0, table)
    assert usage["cost_usd"] == pytest.approx(1.0)


def test_price_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_PRICES["free"] = ModelPrice(0, 0)  # type: ignore[index]
    with pytest.raises(TypeError):
        merge_prices({"m": ModelPrice(1, 1)})["m"] = ModelPrice(0, 0)  # type: ignore[index]


def test_merge_prices_refuses_a_malformed_entry() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "Price for model 'my-model' must be a ModelPrice(input_per_mtok, output_per_mtok), "
            "got (1.0, 2.0)"
        ),
    ):
        merge_prices({"my-model": (1.0, 2.0)})  # type: ignore[dict-item]


# --- call_config ------------------------------------------------------------------------------


def test_call_config_keeps_the_nodes_config_and_adds_names_tags_metadata() -> None:
    callbacks = object()
    configurable = {"thread_id": "t1"}
    base: Any = {
        "callbacks": callbacks,
        "configurable": configurable,
        "tags": ["mine"],
        "metadata": {"user": "u1"},
        "recursion_limit": 50,
    }
    config = call_config(base, pattern="group_chat", agent="manager", round=3, selected="writer")

    assert config["callbacks"] is callbacks
    assert config["configurable"] is configurable
    assert config["recursion_limit"] == 50
    assert config["run_name"] == "manager"
    assert config["tags"] == ["mine", TAG, "pattern:group_chat", "agent:manager"]
    assert config["metadata"] == {
        "user": "u1",
        "pattern": "group_chat",
        "agent": "manager",
        "round": 3,
        "selected": "writer",
    }
    # The node's config is not changed.
    assert base["tags"] == ["mine"] and base["metadata"] == {"user": "u1"}
    assert "run_name" not in base


def test_call_config_from_nothing() -> None:
    config = call_config(None, pattern="sequential", agent="a")
    assert config == {
        "run_name": "a",
        "tags": ["orchestra", "pattern:sequential", "agent:a"],
        "metadata": {"pattern": "sequential", "agent": "a"},
    }


def test_node_metadata() -> None:
    assert node_metadata("concurrent", "b") == {"pattern": "concurrent", "agent": "b"}


# --- the tracing contract ---------------------------------------------------------------------


class Collector(BaseTracer):
    """Keeps every finished run in memory (and sends nothing anywhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []
        self._lock = threading.Lock()

    def _persist_run(self, run: Run) -> None:
        """Nothing to persist: runs are kept in `runs` as they end."""

    def _end_trace(self, run: Run) -> None:
        super()._end_trace(run)
        with self._lock:
            self.runs.append(run)

    def named(self, name: str, run_type: str) -> list[Run]:
        return [r for r in self.runs if r.name == name and r.run_type == run_type]

    def by_id(self, run_id: Any) -> Run:
        [run] = [r for r in self.runs if r.id == run_id]
        return run


def _team(
    factory: Any, names: Sequence[str]
) -> tuple[CompiledStateGraph[Any], list[ScriptedModel]]:
    models = [ScriptedModel([f"{name} says hi"]) for name in names]
    agents = [Agent(name, model=model) for name, model in zip(names, models, strict=True)]
    return factory(agents).compile(), models


def _assert_contract(collector: Collector, pattern: str, names: Sequence[str]) -> None:
    for name in names:
        # The agent's node run.
        [node] = collector.named(name, "chain")
        assert node.metadata["pattern"] == pattern
        assert node.metadata["agent"] == name
        # The model call inside it.
        [call] = collector.named(name, "llm")
        assert {TAG, f"pattern:{pattern}", f"agent:{name}"} <= set(call.tags or ())
        assert (call.metadata["pattern"], call.metadata["agent"]) == (pattern, name)
        assert call.parent_run_id == node.id
        # No other agent's tag leaks into this call.
        others = {f"agent:{n}" for n in names if n != name}
        assert not others & set(call.tags or ())


@pytest.mark.parametrize(
    ("factory", "pattern"),
    [(create_sequential, "sequential"), (create_concurrent, "concurrent")],
)
def test_tracing_contract(factory: Any, pattern: str) -> None:
    names = ["researcher", "writer"]
    team, models = _team(factory, names)
    collector = Collector()

    result = team.invoke({"messages": [("user", "Say hi")]}, config={"callbacks": [collector]})

    assert result["stop_reason"] == "completed"
    _assert_contract(collector, pattern, names)
    for model in models:
        model.assert_complete()


@pytest.mark.parametrize(
    ("factory", "pattern"),
    [(create_sequential, "sequential"), (create_concurrent, "concurrent")],
)
async def test_tracing_contract_async(factory: Any, pattern: str) -> None:
    names = ["researcher", "writer"]
    team, _ = _team(factory, names)
    collector = Collector()

    await team.ainvoke({"messages": [("user", "Say hi")]}, config={"callbacks": [collector]})

    _assert_contract(collector, pattern, names)


def test_tool_agent_runs_carry_the_agents_tags() -> None:
    @tool
    def lookup(query: str) -> str:
        """Look something up."""
        return "42"

    model = ScriptedModel(
        [AIMessage("", tool_calls=[{"name": "lookup", "args": {"query": "q"}, "id": "c1"}]), "42"]
    )
    team = create_sequential([Agent("researcher", model=model, tools=[lookup])]).compile()
    collector = Collector()
    team.invoke({"messages": [("user", "Find it")]}, config={"callbacks": [collector]})

    # The agent's inner graph is one run named after the agent, under its node.
    graph_runs = [
        r
        for r in collector.named("researcher", "chain")
        if r.parent_run_id is not None and collector.by_id(r.parent_run_id).name == "researcher"
    ]
    assert len(graph_runs) == 1
    # Its model calls and tool call inherit the agent's tags.
    inner = [r for r in collector.runs if r.run_type in ("llm", "tool")]
    assert sorted(r.run_type for r in inner) == ["llm", "llm", "tool"]
    for run in inner:
        assert {TAG, "pattern:sequential", "agent:researcher"} <= set(run.tags or ())
        assert run.metadata["agent"] == "researcher"
    model.assert_complete()


def test_plain_function_agent_has_just_its_node_run() -> None:
    team = create_sequential([Agent("a", runnable=lambda ms: "done")]).compile()
    collector = Collector()
    team.invoke({"messages": [("user", "go")]}, config={"callbacks": [collector]})
    [node] = collector.named("a", "chain")
    assert (node.metadata["pattern"], node.metadata["agent"]) == ("sequential", "a")
    assert [r for r in collector.runs if r.parent_run_id == node.id] == []
