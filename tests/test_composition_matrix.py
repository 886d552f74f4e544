"""Every pattern composes: its compiled team is one participant of an outer team.

For each pattern in the conformance registry, a team of `a` and `b` is nested as the
participant `team` of a sequential pipeline and of a group chat; the outer run answers
with the inner team's final, counts the inner participants' usage by path (`team/a`),
and keeps their audit records under the same paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from conformance.registry import CASES, LEDGER, PatternCase
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from langgraph_orchestra import (
    Agent,
    create_group_chat,
    create_hierarchical,
    create_magentic,
    create_planner_executor,
    create_sequential,
)
from langgraph_orchestra.testing import ScriptedModel

INPUT = {"messages": [("user", "Draft the launch note.")]}


def inner_agents() -> list[Agent]:
    return [Agent("a", runnable=lambda m: "A"), Agent("b", runnable=lambda m: "B")]


def audited(state: Mapping[str, Any]) -> set[str]:
    """The participants named in the run's turn records."""
    return {r["agent"] for r in state["audit"] if r["kind"] == "turn" and r["agent"]}


def check_nested(state: Mapping[str, Any], case: PatternCase) -> None:
    """The outer run answers with the inner team's final and names its members by path."""
    inner_final = case.final({"a": "A", "b": "B"})
    assert [m.text for m in state["messages"] if m.name == "team"] == [inner_final]
    assert state["final"] == inner_final
    assert {"team/a", "team/b"} <= set(state["usage"])
    assert state["usage"]["team/a"]["calls"] == state["usage"]["team/b"]["calls"] == 1
    assert "team" not in state["usage"]
    assert {"team/a", "team/b"} <= audited(state)
    # Nothing of the inner team joins the outer audit under its bare name.
    assert not {"a", "b"} & {r["agent"] for r in state["audit"]}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_team_of_every_pattern_is_one_stage_of_a_sequential_pipeline(case: PatternCase) -> None:
    inner = case.build(inner_agents()).compile()
    outer = create_sequential([Agent("team", runnable=inner)]).compile()
    state = outer.invoke(INPUT)
    check_nested(state, case)
    assert state["stop_reason"] == "completed"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_team_of_every_pattern_speaks_in_a_group_chat(case: PatternCase) -> None:
    inner = case.build(inner_agents()).compile()
    host = ScriptedModel(["Welcome."])
    outer = create_group_chat(
        [Agent("host", model=host), Agent("team", runnable=inner)],
        selector="round_robin",
        max_rounds=2,
    ).compile()
    state = outer.invoke(INPUT)
    check_nested(state, case)
    assert [m.name for m in state["messages"]] == [None, "host", "team"]
    assert state["stop_reason"] == "max_rounds"
    assert state["usage"]["host"]["calls"] == 1
    host.assert_complete()


# --- deeper nesting: orchestrated teams as workers --------------------------------------


def progress(speaker: str, *, done: bool = False) -> dict[str, Any]:
    return {
        "is_request_satisfied": done,
        "is_in_loop": False,
        "is_progress_being_made": True,
        "next_speaker": speaker,
        "instruction": f"{speaker}, your turn",
        "reason": "next in the plan",
    }


def test_magentic_manager_runs_a_group_chat_as_its_worker() -> None:
    writer = ScriptedModel(["Draft: we launch Monday."])
    critic = ScriptedModel(["Approved."])
    chat = create_group_chat(
        [Agent("writer", model=writer), Agent("critic", model=critic)],
        selector="round_robin",
        max_rounds=2,
    ).compile()
    manager = ScriptedModel([LEDGER, progress("chat"), progress("chat", done=True)])
    team = create_magentic(
        [Agent("chat", "Drafts and reviews", runnable=chat)],
        manager_model=manager,
        final_answer=False,
    ).compile()
    state = team.invoke(INPUT)

    assert state["final"] == "Approved."
    assert [m.text for m in state["messages"] if m.name == "chat"] == ["Approved."]
    # The chat's members never speak in the outer conversation; they are counted by path.
    assert not {"writer", "critic"} & {m.name for m in state["messages"]}
    assert state["usage"]["chat/writer"]["calls"] == state["usage"]["chat/critic"]["calls"] == 1
    assert state["usage"]["manager"]["calls"] == 3
    assert {"chat/writer", "chat/critic"} <= audited(state)
    # The critic answered the writer's draft inside the chat.
    assert critic.calls[0][-1].text == "Draft: we launch Monday."
    for model in (writer, critic, manager):
        model.assert_complete()


def delegate(worker: str, task: str) -> AIMessage:
    call = {"name": f"delegate_to_{worker}", "args": {"task": task}, "id": f"{worker}-0"}
    return AIMessage("", tool_calls=[call])


def test_hierarchical_worker_is_a_planner_executor_team() -> None:
    planner = ScriptedModel(
        [
            {
                "steps": [
                    {"id": "s1", "agent": "a", "instruction": "research", "depends_on": []},
                    {"id": "s2", "agent": "b", "instruction": "write", "depends_on": ["s1"]},
                ]
            }
        ]
    )
    seen: dict[str, str] = {}

    def step(name: str) -> Agent:
        def run(messages: list[BaseMessage]) -> str:
            seen[name] = messages[-1].text
            return f"{name} did {messages[-1].text}"

        return Agent(name, runnable=run)

    research = create_planner_executor([step("a"), step("b")], planner_model=planner).compile()
    manager = ScriptedModel([delegate("research", "Brief on e-bike rules"), "Brief delivered."])
    team = create_hierarchical(
        [Agent("research", "Plans and runs research", runnable=research)],
        manager_model=manager,
    ).compile()
    state = team.invoke(INPUT)

    assert state["final"] == "Brief delivered."
    # The manager received the planner-executor's final as the delegation's result.
    results = [m for m in manager.calls[1] if isinstance(m, ToolMessage)]
    assert [(m.status, m.text) for m in results] == [("success", "b did write")]
    assert seen["a"].endswith("research") and seen["b"].endswith("write")
    assert {"research/planner", "research/a", "research/b"} <= set(state["usage"])
    assert {"research/a", "research/b"} <= audited(state)
    for model in (planner, manager):
        model.assert_complete()
