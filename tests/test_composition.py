"""Composition: a compiled team is an `Agent(runnable=...)` inside another pattern."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from _meet import Meeting, MeetingModel
from _views import seen, whole
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, Interrupt

from langgraph_orchestra import Agent, create_concurrent, create_sequential
from langgraph_orchestra.testing import ScriptedModel

TASK = "Draft the launch note."
INPUT = {"messages": [("user", TASK)]}


def interrupts(result: Mapping[str, Any]) -> list[Interrupt]:
    found: list[Interrupt] = result.get("__interrupt__", [])
    return found


def named(result: Mapping[str, Any], name: str) -> list[str]:
    return [m.text for m in result["messages"] if m.name == name]


def writer(messages: list[BaseMessage]) -> str:
    return "We launch on Monday."


def pipeline(panel: Any, editor: ScriptedModel) -> Any:
    """writer -> panel (a whole team) -> editor, compiled with a checkpointer."""
    return create_sequential(
        [
            Agent("writer", runnable=writer),
            Agent("panel", "Reviews the draft", runnable=panel),
            Agent("editor", model=editor),
        ]
    ).compile(checkpointer=InMemorySaver())


# --- a concurrent stage in a sequential pipeline -------------------------------------


def test_concurrent_team_is_one_stage_of_a_sequential_pipeline() -> None:
    legal = ScriptedModel(["No legal issue."])
    brand = ScriptedModel(["Say 'launch', not 'ship'."])
    editor = ScriptedModel(["We launch on Monday (legal: ok)."])
    # The inner team is compiled without a checkpointer: it uses its parent's.
    panel = create_concurrent([Agent("legal", model=legal), Agent("brand", model=brand)]).compile()
    app = pipeline(panel, editor)
    config: RunnableConfig = {"configurable": {"thread_id": "stage"}}
    result = app.invoke(INPUT, config)

    inner_final = "legal: No legal issue.\n\nbrand: Say 'launch', not 'ship'."
    assert named(result, "panel") == [inner_final]
    assert named(result, "legal") == named(result, "brand") == []
    assert named(result, "aggregate") == []
    assert [m.name for m in result["messages"]] == [None, "writer", "panel", "editor"]
    assert result["final"] == "We launch on Monday (legal: ok)."
    assert result["stop_reason"] == "completed"
    # The panel's members answered the writer's draft; the editor the panel's verdict.
    for model in (legal, brand):
        assert seen(model.calls[0]) == [
            ("human", None, TASK),
            ("human", "writer", "We launch on Monday."),
        ]
    assert seen(editor.calls[0])[-1] == ("human", "panel", inner_final)
    # The inner team's usage appears under the stage's name.
    assert sorted(result["usage"]) == ["editor", "panel/brand", "panel/legal", "writer"]
    assert result["usage"]["panel/legal"]["calls"] == 1
    assert result["usage"]["panel/legal"]["input_tokens"] > 0
    for model in (legal, brand, editor):
        model.assert_complete()


async def test_concurrent_stage_runs_its_members_in_parallel_when_awaited() -> None:
    all_three = Meeting(3)  # the members' calls must be under way at the same time
    members = [Agent(n, model=MeetingModel([f"{n} ok"], all_three)) for n in ("x", "y", "z")]
    judge = ScriptedModel(["all ok"])
    panel = create_concurrent(members, aggregator=Agent("judge", model=judge)).compile()
    editor = ScriptedModel(["done"])
    app = pipeline(panel, editor)
    result = await app.ainvoke(INPUT, {"configurable": {"thread_id": "async-stage"}})
    assert named(result, "panel") == ["all ok"]
    assert result["final"] == "done"
    assert sorted(result["usage"]) == [
        "editor",
        "panel/judge",
        "panel/x",
        "panel/y",
        "panel/z",
        "writer",
    ]


def test_inner_gate_interrupt_surfaces_and_resumes_from_the_outer_graph() -> None:
    legal = ScriptedModel(["No legal issue."])
    brand = ScriptedModel(["Say 'ship'."])
    editor = ScriptedModel(["We launch on Monday."])
    panel = create_concurrent(
        [Agent("legal", model=legal), Agent("brand", model=brand, approval="after")]
    ).compile()
    app = pipeline(panel, editor)
    config: RunnableConfig = {"configurable": {"thread_id": "inner-gate"}}

    [pending] = interrupts(app.invoke(INPUT, config))
    assert pending.value["type"] == "approval"
    assert (pending.value["agent"], pending.value["content"]) == ("brand", "Say 'ship'.")
    assert app.get_state(config).next == ("panel",)

    result = app.invoke(Command(resume={"action": "edit", "content": "Say 'launch'."}), config)
    assert interrupts(result) == []
    assert named(result, "panel") == ["legal: No legal issue.\n\nbrand: Say 'launch'."]
    assert result["final"] == "We launch on Monday."
    assert result["stop_reason"] == "completed"
    # Resuming did not call the members again: the inner team resumed from its checkpoint.
    for model in (legal, brand, editor):
        model.assert_complete()


async def test_inner_gate_interrupt_surfaces_and_resumes_when_awaited() -> None:
    panel = create_concurrent(
        [
            Agent("legal", model=ScriptedModel(["ok"])),
            Agent("brand", model=ScriptedModel(["draft", "better"]), approval="after"),
        ]
    ).compile()
    app = pipeline(panel, ScriptedModel(["done"]))
    config: RunnableConfig = {"configurable": {"thread_id": "inner-gate-async"}}
    [pending] = interrupts(await app.ainvoke(INPUT, config))
    assert pending.value["content"] == "draft"
    result = await app.ainvoke(Command(resume={"action": "reject", "feedback": "More."}), config)
    [pending] = interrupts(result)
    assert (pending.value["content"], pending.value["revision"]) == ("better", 1)
    result = await app.ainvoke(Command(resume={"action": "approve"}), config)
    assert named(result, "panel") == ["legal: ok\n\nbrand: better"]
    assert result["final"] == "done"


# --- a sequential team as a branch of a concurrent one -------------------------------


def _drafter(messages: list[BaseMessage]) -> str:
    time.sleep(0.2)
    return "draft"


def _polisher(messages: list[BaseMessage]) -> str:
    time.sleep(0.2)
    return f"polished {messages[-1].text}"


def _solo(messages: list[BaseMessage]) -> str:
    time.sleep(0.3)
    return "solo view"


def test_sequential_team_is_one_branch_of_a_concurrent_team() -> None:
    both = Meeting(2)  # the inner team's first agent and the other branch run together

    def drafter(messages: list[BaseMessage]) -> str:
        both.wait()
        return "draft"

    def solo(messages: list[BaseMessage]) -> str:
        both.wait()
        return "solo view"

    polish = ScriptedModel(["polished draft"])
    pipe = create_sequential(
        [Agent("drafter", runnable=drafter), Agent("polisher", model=polish)]
    ).compile()
    team = create_concurrent([Agent("pipe", runnable=pipe), Agent("solo", runnable=solo)])
    result = whole(team.compile(), INPUT)
    assert result["results"] == {"pipe": "polished draft", "solo": "solo view"}
    assert result["final"] == "pipe: polished draft\n\nsolo: solo view"
    assert named(result, "pipe") == ["polished draft"]
    assert named(result, "drafter") == named(result, "polisher") == []
    assert seen(polish.calls[0]) == [("human", None, TASK), ("human", "drafter", "draft")]
    assert sorted(result["usage"]) == ["pipe/drafter", "pipe/polisher", "solo"]
    polish.assert_complete()


def test_gate_inside_a_sequential_branch_pauses_the_concurrent_team() -> None:
    pipe = create_sequential(
        [
            Agent("drafter", runnable=_drafter),
            Agent("polisher", runnable=_polisher, approval="after"),
        ]
    ).compile()
    team = create_concurrent([Agent("pipe", runnable=pipe), Agent("solo", runnable=_solo)])
    app = team.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "branch-gate"}}
    [pending] = interrupts(app.invoke(INPUT, config))
    assert (pending.value["agent"], pending.value["content"]) == ("polisher", "polished draft")
    assert app.get_state(config).values.get("final") is None
    result = app.invoke(Command(resume={"action": "approve"}), config)
    assert result["final"] == "pipe: polished draft\n\nsolo: solo view"
    assert result["stop_reason"] == "completed"


def test_a_nested_team_without_an_answer_is_a_failure_of_its_agent() -> None:
    inner = create_sequential(
        [Agent("gate", runnable=lambda m: "never", approval="before")]
    ).compile()
    outer = create_sequential(
        [
            Agent("panel", runnable=inner, on_error="continue"),
            Agent("after", runnable=lambda m: "ok"),
        ]
    ).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "no-answer"}}
    outer.invoke(INPUT, config)
    state = outer.invoke(Command(resume={"action": "reject"}), config)
    (record,) = state["exceptions"]
    assert record["error"] == (
        "Agent 'panel' is a team that ended without an answer (stop_reason='rejected')"
    )
    assert [m.name for m in state["messages"] if m.type == "ai"] == ["after"]
    assert (state["final"], state["stop_reason"]) == ("ok", "completed")
