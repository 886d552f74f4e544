"""`create_hierarchical`: parallel delegation, context isolation, review, nesting."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _meet import Meeting
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import Agent, TeamConfigError, create_hierarchical
from langgraph_orchestra.prompts import DELEGATION_PENDING, REVISION_REQUEST
from langgraph_orchestra.testing import ScriptedModel

TASK = {"messages": [("user", "Write a one-page market brief on e-bikes")]}


def delegate(*tasks: tuple[str, str]) -> AIMessage:
    calls = [
        {"name": f"delegate_to_{w}", "args": {"task": t}, "id": f"{w}-{i}"}
        for i, (w, t) in enumerate(tasks)
    ]
    return AIMessage("", tool_calls=calls)


def worker(name: str, seen: dict[str, list[list[str]]], *, meeting: Meeting | None = None) -> Agent:
    def run(messages: list[BaseMessage]) -> str:
        seen.setdefault(name, []).append([m.text for m in messages])
        if meeting is not None:
            meeting.wait()  # passes only once every worker of the meeting runs
        return f"{name}: {messages[-1].text}"

    return Agent(name, f"The {name}", runnable=run)


def valid_history(messages: list[BaseMessage]) -> None:
    pending: list[str] = []
    for message in messages:
        if isinstance(message, ToolMessage):
            assert message.tool_call_id == pending.pop(0)
            continue
        if isinstance(message, AIMessage) and message.name == "manager":
            assert not pending
            pending = [c["id"] for c in message.tool_calls]
    assert not pending


def test_parallel_delegations_all_reach_the_manager_and_overlap_in_time() -> None:
    seen: dict[str, list[list[str]]] = {}
    all_three = Meeting(3)
    manager = ScriptedModel(
        [
            delegate(
                ("market", "size the market"), ("rivals", "list rivals"), ("prices", "price bands")
            ),
            "Brief: market, rivals and prices covered.",
        ]
    )
    team = create_hierarchical(
        [worker(n, seen, meeting=all_three) for n in ("market", "rivals", "prices")],
        manager_model=manager,
    ).compile()
    result = team.invoke(TASK)
    assert (result["final"], result["stop_reason"]) == (
        "Brief: market, rivals and prices covered.",
        "completed",
    )
    # Every result is in the manager's next prompt, in the order it delegated.
    results = [m.text for m in manager.calls[1] if isinstance(m, ToolMessage)]
    assert results == ["market: size the market", "rivals: list rivals", "prices: price bands"]
    valid_history(result["messages"])
    assert result["usage"]["manager"]["calls"] == 2
    assert {"market", "rivals", "prices"} <= set(result["usage"])


def test_workers_see_only_their_task_and_the_brief() -> None:
    seen: dict[str, list[list[str]]] = {}
    manager = ScriptedModel([delegate(("a", "task for a"), ("b", "task for b")), "done"])
    create_hierarchical(
        [worker("a", seen), worker("b", seen)], manager_model=manager, brief="Audience: CFOs"
    ).compile().invoke(TASK)
    assert seen == {
        "a": [["Context for your task:\nAudience: CFOs", "task for a"]],
        "b": [["Context for your task:\nAudience: CFOs", "task for b"]],
    }


def test_refused_delegations_get_error_results_in_order() -> None:
    seen: dict[str, list[list[str]]] = {}
    manager = ScriptedModel(
        [delegate(("a", "one"), ("ghost", "boo"), ("a", "two")), "done with a's one"]
    )
    result = create_hierarchical([worker("a", seen)], manager_model=manager).compile().invoke(TASK)
    tool_results = [m for m in manager.calls[1] if isinstance(m, ToolMessage)]
    assert [(m.tool_call_id, m.status) for m in tool_results] == [
        ("a-0", "success"),
        ("ghost-1", "error"),
        ("a-2", "error"),
    ]
    assert tool_results[1].text == "Delegation refused: there is no worker 'ghost'; workers: a."
    assert tool_results[2].text == (
        "Delegation refused: 'a' already has a task in this message; one task per worker."
    )
    assert seen["a"] == [["one"]]
    valid_history(result["messages"])


def test_the_manager_reviews_and_corrects_within_max_rounds() -> None:
    seen: dict[str, list[list[str]]] = {}
    manager = ScriptedModel(
        [delegate(("a", "draft")), delegate(("a", "shorter, please")), "final text"]
    )
    result = create_hierarchical([worker("a", seen)], manager_model=manager).compile().invoke(TASK)
    assert (result["final"], result["round"]) == ("final text", 2)
    assert seen["a"] == [["draft"], ["shorter, please"]]

    manager = ScriptedModel([delegate(("a", "draft")), delegate(("a", "again"))])
    result = (
        create_hierarchical([worker("a", {})], manager_model=manager, max_rounds=2)
        .compile()
        .invoke(TASK)
    )
    # The bound ends the run with the real latest output, not a canned text.
    assert (result["final"], result["stop_reason"]) == ("a: again", "max_rounds")


def test_without_review_the_manager_answers_after_one_round() -> None:
    manager = ScriptedModel([delegate(("a", "draft")), delegate(("a", "more"))])
    result = (
        create_hierarchical([worker("a", {})], manager_model=manager, review=False)
        .compile()
        .invoke(TASK)
    )
    assert result["stop_reason"] == "completed"
    assert result["round"] == 1
    valid_history(result["messages"])


def test_three_levels_with_a_gate_at_the_bottom_resumed_in_a_fresh_process(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    script = textwrap.dedent(
        f"""
        import json, sys
        from langchain_core.messages import AIMessage
        from langgraph.types import Command
        from langgraph_orchestra import (
            Agent, create_hierarchical, create_sequential, open_checkpointer
        )
        from langgraph_orchestra.testing import ScriptedModel

        def delegate(worker, task):
            call = {{"name": "delegate_to_" + worker, "args": {{"task": task}}, "id": worker}}
            return AIMessage("", tool_calls=[call])

        start = sys.argv[1] == "start"
        writer = Agent("writer", runnable=lambda m: "draft: " + m[-1].text, approval="after")
        bottom = create_sequential([writer]).compile()
        mid_manager = ScriptedModel(
            [delegate("bottom", "write the intro")] if start else ["mid: intro approved"]
        )
        mid = create_hierarchical(
            [Agent("bottom", runnable=bottom)], manager_model=mid_manager
        ).compile()
        top_manager = ScriptedModel(
            [delegate("mid", "get the intro")] if start else ["top: done"]
        )
        top = create_hierarchical([Agent("mid", runnable=mid)], manager_model=top_manager)
        config = {{"configurable": {{"thread_id": "h"}}}}
        with open_checkpointer("sqlite:///{db}") as saver:
            app = top.compile(checkpointer=saver)
            if start:
                out = app.invoke({{"messages": [("user", "report")]}}, config)
                print(json.dumps([i.value for i in out["__interrupt__"]]))
            else:
                out = app.invoke(Command(resume={{"action": "approve", "reviewer": "cfo"}}), config)
                nested = sorted({{r["agent"] for r in out["audit"] if "/" in (r["agent"] or "")}})
                print(json.dumps([out["final"], out["stop_reason"], sorted(out["usage"]), nested]))
        """
    )

    def run(step: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-W", "error", "-c", script, step],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    [request] = run("start")
    assert (request["type"], request["agent"], request["content"]) == (
        "approval",
        "writer",
        "draft: write the intro",
    )
    final, reason, usage, nested = run("resume")
    assert (final, reason) == ("top: done", "completed")
    # Usage and audit are named by path: the top manager, the mid team's manager and its
    # bottom team's writer (whose approval, given at the top, is in the top's audit).
    assert usage == ["manager", "mid/bottom/writer", "mid/manager"]
    assert nested == ["mid/bottom", "mid/bottom/writer", "mid/manager"]


def calls_answered_at_once(messages: list[BaseMessage]) -> None:
    """Every message with tool calls is followed directly by one result per call, in order."""
    for i, message in enumerate(messages):
        if isinstance(message, AIMessage) and message.tool_calls:
            ids = [c["id"] for c in message.tool_calls]
            after = messages[i + 1 : i + 1 + len(ids)]
            assert [getattr(m, "tool_call_id", None) for m in after] == ids, [
                (type(m).__name__, m.text) for m in messages
            ]


def test_a_gated_worker_leaves_the_manager_calls_answered_at_once() -> None:
    manager = ScriptedModel(
        [delegate(("writer", "write the intro"), ("editor", "fix the title")), "Brief: done."]
    )
    drafts = iter(["intro v1", "intro v2"])
    writer = Agent("writer", runnable=lambda m: next(drafts), approval="after")
    editor = Agent("editor", runnable=lambda m: "title fixed")
    team = create_hierarchical([writer, editor], manager_model=manager).compile(
        checkpointer=InMemorySaver()
    )
    config: Any = {"configurable": {"thread_id": "gated"}}
    first = team.invoke(TASK, config)
    assert [i.value["content"] for i in first["__interrupt__"]] == ["intro v1"]
    # Paused: the manager's calls already have their (placeholder) results after them.
    paused = team.get_state(config).values["messages"]
    calls_answered_at_once(paused)
    assert [m.text for m in paused if isinstance(m, ToolMessage)] == [
        DELEGATION_PENDING.format(worker="writer"),
        DELEGATION_PENDING.format(worker="editor"),
    ]
    second = team.invoke(Command(resume={"action": "reject", "feedback": "shorter"}), config)
    assert [i.value["content"] for i in second["__interrupt__"]] == ["intro v2"]
    result = team.invoke(Command(resume={"action": "approve"}), config)
    assert (result["final"], result["stop_reason"]) == ("Brief: done.", "completed")
    messages = result["messages"]
    calls_answered_at_once(messages)
    call = next(i for i, m in enumerate(messages) if isinstance(m, AIMessage) and m.tool_calls)
    # The call, its two results (the workers' outputs, in call order), then what the
    # workers and the reviewer said, then the manager's answer.
    assert [(type(m).__name__, m.name, m.text) for m in messages[call:]] == [
        ("AIMessage", "manager", ""),
        ("ToolMessage", "delegate_to_writer", "intro v2"),
        ("ToolMessage", "delegate_to_editor", "title fixed"),
        ("AIMessage", "writer", "intro v1"),
        (
            "HumanMessage",
            "reviewer",
            REVISION_REQUEST.format(reviewer="human", draft="intro v1", feedback="shorter"),
        ),
        ("AIMessage", "writer", "intro v2"),
        ("AIMessage", "editor", "title fixed"),
        ("AIMessage", "manager", "Brief: done."),
    ]
    # The manager's second call saw the results, not the placeholders.
    assert [m.text for m in manager.calls[1] if isinstance(m, ToolMessage)] == [
        "intro v2",
        "title fixed",
    ]
    manager.assert_complete()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"manager_model": None},
            "hierarchical needs manager_model: the chat model that delegates and answers",
        ),
        ({"max_rounds": 0}, "max_rounds must be a whole number >= 1, got 0"),
        ({"review": "no"}, "review must be True or False, got 'no'"),
        ({"brief": 5}, "brief must be a string, got int"),
    ],
)
def test_bad_arguments(options: dict[str, Any], message: str) -> None:
    arguments = {"manager_model": ScriptedModel([]), **options}
    with pytest.raises(TeamConfigError, match="^" + re.escape(message) + "$"):
        create_hierarchical([Agent("a", runnable=lambda m: "x")], **arguments)
