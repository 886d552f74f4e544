"""Termination on every factory, the external stop, per-run accounting and the run record."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import (
    Agent,
    ExternalStop,
    FunctionCondition,
    MaxRounds,
    TeamConfigError,
    TextMention,
    TokenBudget,
    create_concurrent,
    create_sequential,
)
from langgraph_orchestra.testing import ScriptedModel


def say(text: str, calls: list[str] | None = None) -> Callable[[list[BaseMessage]], str]:
    def reply(messages: list[BaseMessage]) -> str:
        if calls is not None:
            calls.append(text)
        return text

    return reply


def task(text: str = "go") -> dict[str, Any]:
    return {"messages": [("user", text)]}


def test_sequential_max_rounds_ends_with_the_last_real_output() -> None:
    calls: list[str] = []
    team = create_sequential(
        [Agent(n, runnable=say(n.upper(), calls)) for n in ("a", "b", "c")],
        termination=MaxRounds(2),
    ).compile()
    result = team.invoke(task())
    assert calls == ["A", "B"]
    assert (result["final"], result["stop_reason"], result["round"]) == ("B", "max_rounds", 2)
    assert [r["kind"] for r in result["audit"]] == ["turn", "turn", "termination"]
    assert result["audit"][-1]["detail"] == {"reason": "max_rounds"}


def test_sequential_text_mention_stops_after_the_turn_that_said_it() -> None:
    calls: list[str] = []
    team = create_sequential(
        [
            Agent("a", runnable=say("draft", calls)),
            Agent("b", runnable=say("ship it DONE", calls)),
            Agent("c", runnable=say("never", calls)),
        ],
        termination=TextMention("DONE", reason="approved"),
    ).compile()
    result = team.invoke(task())
    assert calls == ["draft", "ship it DONE"]
    assert (result["final"], result["stop_reason"]) == ("ship it DONE", "approved")


def test_termination_before_a_gate_asks_nobody() -> None:
    team = create_sequential(
        [Agent("a", runnable=say("A")), Agent("b", runnable=say("B"), approval="before")],
        termination=MaxRounds(1),
    ).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    result = team.invoke(task(), config)
    assert "__interrupt__" not in result
    assert (result["final"], result["stop_reason"]) == ("A", "max_rounds")


def test_external_stop_set_during_a_run_ends_it_after_the_current_turn() -> None:
    stop = ExternalStop()
    calls: list[str] = []

    def first(messages: list[BaseMessage]) -> str:
        calls.append("a")
        stop.set()  # e.g. a user pressing "stop" in another thread
        return "partial answer"

    team = create_sequential(
        [Agent("a", runnable=first), Agent("b", runnable=say("B", calls))], termination=stop
    ).compile()
    result = team.invoke(task())
    assert calls == ["a"]
    assert (result["final"], result["stop_reason"]) == ("partial answer", "stopped")


def test_external_stop_before_a_fan_out_starts_no_branch() -> None:
    stop = ExternalStop()
    stop.set()
    calls: list[str] = []
    team = create_concurrent(
        [Agent(n, runnable=say(n, calls)) for n in ("a", "b")], termination=stop
    ).compile()
    result = team.invoke(task())
    assert calls == []
    assert (result["final"], result["stop_reason"]) == (None, "stopped")


def test_concurrent_budget_ends_before_the_synthesizer() -> None:
    judge = ScriptedModel([])  # never called
    team = create_concurrent(
        [
            Agent("a", model=ScriptedModel(["alpha " * 20])),
            Agent("b", model=ScriptedModel(["beta " * 20])),
        ],
        aggregator=Agent("judge", model=judge),
        termination=TokenBudget(10),
    ).compile()
    result = team.invoke(task())
    assert result["stop_reason"] == "budget"
    assert result["final"] == f"a: {'alpha ' * 20}\n\nb: {'beta ' * 20}"
    assert "judge" not in result["usage"]
    judge.assert_complete()


@pytest.mark.parametrize("factory", [create_sequential, create_concurrent])
def test_termination_must_be_a_condition(factory: Any) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            f"{factory.__name__.removeprefix('create_')} termination must be a condition "
            "(MaxRounds, TextMention, TokenBudget, CostBudget, Timeout, ExternalStop, "
            "FunctionCondition, combined with | and &), got 5"
        ),
    ):
        factory([Agent("a", runnable=say("A"))], termination=5)


# --- per-run accounting ------------------------------------------------------------------


def _model_team(**options: Any) -> Any:
    model = ScriptedModel(["first answer " * 10, "second answer " * 10])
    return create_sequential([Agent("a", model=model)], **options), model


def test_run_usage_is_the_current_run_and_usage_the_thread() -> None:
    graph, _ = _model_team()
    team = graph.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    first = team.invoke(task("one"), config)
    second = team.invoke(task("two"), config)
    assert first["run_usage"] == first["usage"]
    assert second["run_usage"]["a"]["calls"] == 1
    assert second["usage"]["a"]["calls"] == 2
    assert second["usage"]["a"]["input_tokens"] == (
        first["usage"]["a"]["input_tokens"] + second["run_usage"]["a"]["input_tokens"]
    )
    assert first["run"]["id"] != second["run"]["id"]
    assert second["round"] == 1


def test_a_budget_counts_the_run_unless_asked_for_the_thread() -> None:
    def per_run_tokens() -> int:
        graph, _ = _model_team()
        once = graph.compile().invoke(task("one"))
        return int(once["usage"]["a"]["input_tokens"] + once["usage"]["a"]["output_tokens"])

    budget = per_run_tokens() + 5  # one run fits, two do not
    for scope, expected in (("run", "completed"), ("thread", "budget")):
        team = create_sequential(
            [
                Agent("a", model=ScriptedModel(["first answer " * 10, "second answer " * 10])),
                Agent("b", runnable=say("checked")),
            ],
            termination=TokenBudget(budget, scope=scope),
        ).compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": scope}}
        assert team.invoke(task("one"), config)["stop_reason"] == "completed"
        second = team.invoke(task("two"), config)
        assert second["stop_reason"] == expected, scope


def test_the_run_record_points_at_the_input() -> None:
    team = create_sequential([Agent("a", runnable=say("A"))]).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    team.invoke(task("one"), config)
    result = team.invoke(task("two"), config)
    run = result["run"]
    assert result["messages"][run["task"]].text == "two"
    assert result["messages"][run["task"]].id == run["task_id"]
    assert run["started_at"] <= result["audit"][-1]["ts"]


def test_a_resumed_run_keeps_its_start() -> None:
    team = create_sequential(
        [Agent("a", runnable=say("A")), Agent("b", runnable=say("B"), approval="after")]
    ).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    paused = team.invoke(task(), config)
    result = team.invoke(Command(resume={"action": "approve"}), config)
    assert result["run"] == paused["run"]
    assert (result["final"], result["round"]) == ("B", 2)


def test_function_condition_reads_the_run_counters() -> None:
    seen: list[int] = []

    def rounds(state: Any) -> bool:
        seen.append(state.get("round", 0))
        return False

    team = create_sequential(
        [Agent(n, runnable=say(n)) for n in ("a", "b", "c")],
        termination=FunctionCondition(rounds),
    ).compile()
    team.invoke(task())
    assert seen == [0, 1, 2]  # asked before each step, after the previous one


def test_a_second_run_is_not_judged_by_the_first_runs_rounds() -> None:
    team = create_sequential(
        [Agent(n, runnable=say(n.upper())) for n in ("a", "b", "c")], termination=MaxRounds(2)
    ).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    assert team.invoke(task("one"), config)["round"] == 2
    second = team.invoke(task("two"), config)
    assert (second["final"], second["stop_reason"], second["round"]) == ("B", "max_rounds", 2)
