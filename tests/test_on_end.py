"""Completion actions: `on_end=[...]` runs once when a run ends, whatever it ended with."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import (
    Agent,
    TeamConfigError,
    TokenBudget,
    create_group_chat,
    create_planner_executor,
    create_sequential,
)
from langgraph_orchestra.names import ON_END
from langgraph_orchestra.testing import ScriptedModel

TASK = {"messages": [("user", "task")]}


def _says(text: str) -> Any:
    def run(messages: list[BaseMessage]) -> str:
        return text

    return run


class Log:
    """Completion actions that note what they were given."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None, str | None]] = []

    def note(self, state: Mapping[str, Any]) -> None:
        self.seen.append(("note", state["final"], state["stop_reason"]))

    async def store(self, state: Mapping[str, Any]) -> None:
        await asyncio.sleep(0)
        self.seen.append(("store", state["final"], state["stop_reason"]))


def _completions(state: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    return [
        (r["detail"]["action"], r["detail"]["index"], r["detail"]["status"])
        for r in state["audit"]
        if r["kind"] == "completion"
    ]


def _config(thread: str = "t") -> Any:
    return {"configurable": {"thread_id": thread}}


def _pipeline(log: Log, **options: Any) -> Any:
    agents = [Agent("a", runnable=_says("A")), Agent("b", runnable=_says("B"))]
    return create_sequential(agents, on_end=[log.note, log.store], **options).compile(
        checkpointer=InMemorySaver()
    )


def test_actions_run_once_in_order_with_the_final_state() -> None:
    log = Log()
    state = _pipeline(log).invoke(TASK, _config())
    assert log.seen == [("note", "B", "completed"), ("store", "B", "completed")]
    assert _completions(state) == [("note", 0, "done"), ("store", 1, "done")]
    kinds = [r["kind"] for r in state["audit"]]
    assert kinds[-3:] == ["termination", "completion", "completion"]
    run_id = state["run"]["id"]
    assert {r["detail"]["run"] for r in state["audit"] if r["kind"] == "completion"} == {run_id}
    assert all(r["agent"] == ON_END for r in state["audit"] if r["kind"] == "completion")


async def test_async_graph_awaits_async_actions() -> None:
    log = Log()
    state = await _pipeline(log).ainvoke(TASK, _config())
    assert log.seen == [("note", "B", "completed"), ("store", "B", "completed")]
    assert _completions(state) == [("note", 0, "done"), ("store", 1, "done")]


def test_a_failing_action_is_an_exception_record_not_a_crash() -> None:
    log = Log()

    def notify(state: Mapping[str, Any]) -> None:
        raise ConnectionError("mail server down")

    agents = [Agent("a", runnable=_says("A"))]
    team = create_sequential(agents, on_end=[notify, log.note]).compile(
        checkpointer=InMemorySaver()
    )
    state = team.invoke(TASK, _config())
    assert (state["final"], state["stop_reason"]) == ("A", "completed")
    assert log.seen == [("note", "A", "completed")]  # the next action still ran
    [record] = state["exceptions"]
    assert {k: record[k] for k in ("agent", "error", "error_type", "input", "status")} == {
        "agent": ON_END,
        "error": "Completion action 'notify' failed: mail server down",
        "error_type": "ConnectionError",
        "input": "A",
        "status": "continued",
    }
    assert _completions(state) == [("notify", 0, "failed"), ("note", 1, "done")]
    failed = next(r for r in state["audit"] if r["kind"] == "completion")
    assert failed["detail"]["exception_id"] == record["id"]


@pytest.mark.parametrize("reason", ["max_rounds", "budget", "rejected", "error"])
def test_actions_run_whatever_the_stop_reason(reason: str) -> None:
    log = Log()
    config = _config()
    if reason == "max_rounds":
        team = create_group_chat(
            [Agent("a", runnable=_says("A")), Agent("b", runnable=_says("B"))],
            max_rounds=3,
            on_end=[log.note],
        ).compile(checkpointer=InMemorySaver())
        state = team.invoke(TASK, config)
        final: str | None = "A"
    elif reason == "budget":
        model = ScriptedModel(["A", "B"])
        team = create_group_chat(
            [Agent("a", model=model)],
            allow_repeat=True,
            termination=TokenBudget(1),
            on_end=[log.note],
        ).compile(checkpointer=InMemorySaver())
        state = team.invoke(TASK, config)
        final = "A"
    elif reason == "rejected":
        team = create_sequential(
            [Agent("a", runnable=_says("A"), approval="before")], on_end=[log.note]
        ).compile(checkpointer=InMemorySaver())
        team.invoke(TASK, config)
        assert log.seen == []  # a pause is not an end
        state = team.invoke(Command(resume={"action": "reject", "feedback": "no"}), config)
        final = None
    else:
        planner = ScriptedModel([{"steps": []}] * 3)
        team = create_planner_executor(
            [Agent("a", runnable=_says("A"))], planner_model=planner, on_end=[log.note]
        ).compile(checkpointer=InMemorySaver())
        state = team.invoke(TASK, config)
        final = None
    assert state["stop_reason"] == reason
    assert log.seen == [("note", final, reason)]
    assert _completions(state) == [("note", 0, "done")]


def test_each_run_of_a_thread_runs_the_actions_once() -> None:
    log = Log()
    team = _pipeline(log)
    team.invoke(TASK, _config())
    state = team.invoke({"messages": [("user", "again")]}, _config())
    assert [name for name, *_ in log.seen] == ["note", "store", "note", "store"]
    runs = [r["detail"]["run"] for r in state["audit"] if r["kind"] == "completion"]
    assert len(runs) == 4 and runs[0] == runs[1] != runs[2] == runs[3]


class Crash(BaseException):
    """Stands for the process dying inside an action (not an error the node catches)."""


def test_after_a_crash_and_resume_a_recorded_action_does_not_run_again() -> None:
    calls: list[str] = []
    crashes = [True]

    def first(state: Mapping[str, Any]) -> None:
        calls.append("first")

    def second(state: Mapping[str, Any]) -> None:
        calls.append("second")
        if crashes.pop() if crashes else False:
            raise Crash

    team = create_sequential([Agent("a", runnable=_says("A"))], on_end=[first, second]).compile(
        checkpointer=InMemorySaver()
    )
    with pytest.raises(Crash):
        team.invoke(TASK, _config())
    assert calls == ["first", "second"]
    state = team.invoke(None, _config())  # resume the thread
    # `first` was recorded in its own step: not run again; `second` was cut short: run
    # again (at least once).
    assert calls == ["first", "second", "second"]
    assert _completions(state) == [("first", 0, "done"), ("second", 1, "done")]
    assert state["stop_reason"] == "completed"


def test_on_end_draws_as_the_last_node() -> None:
    log = Log()
    graph = create_sequential(
        [Agent("a", runnable=_says("A"), approval="after")], on_end=[log.note]
    ).compile()
    mermaid = graph.get_graph().draw_mermaid()
    assert "finalize --> on_end;" in mermaid
    assert "on_end -.-> __end__;" in mermaid
    assert "finalize --> __end__" not in mermaid


def test_a_single_callable_is_one_action() -> None:
    log = Log()
    team = create_sequential([Agent("a", runnable=_says("A"))], on_end=log.note).compile()  # type: ignore[arg-type]
    team.invoke(TASK)
    assert log.seen == [("note", "A", "completed")]


def test_on_end_is_checked_at_build_time() -> None:
    agents = [Agent("a", runnable=_says("A"))]
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "on_end must be a list of callables state -> None (sync or async), got str"
        ),
    ):
        create_sequential(agents, on_end="notify")  # type: ignore[arg-type]
    with pytest.raises(
        TeamConfigError,
        match=re.escape("on_end action must be a callable state -> None (sync or async), got 3"),
    ):
        create_sequential(agents, on_end=[print, 3])  # type: ignore[list-item]


def test_no_agent_may_be_named_on_end() -> None:
    with pytest.raises(TeamConfigError, match="Agent name 'on_end' is reserved"):
        Agent(ON_END, runnable=_says("A"))
