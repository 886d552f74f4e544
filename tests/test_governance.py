"""Tests for the governance nodes in a sequential team: approval gates, the exception
queue and escalation, validators, retries and timeouts, audit and termination."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Mapping
from typing import Any

import pytest
from _views import audit_trail as _audit
from _views import seen_by as _seen
from _views import shape as _shape
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, RetryPolicy
from pydantic import ValidationError

from langgraph_orchestra import (
    Agent,
    AgentError,
    AgentTimeoutError,
    ApprovalDecision,
    EscalationDecision,
    OutputValidationError,
    create_sequential,
)
from langgraph_orchestra.prompts import REVISION_REQUEST
from langgraph_orchestra.testing import ScriptedModel

Graph = CompiledStateGraph[Any, Any, Any, Any]
TASK = ("HumanMessage", None, "task")
APPROVAL_ACTIONS = ["approve", "reject", "edit", "respond"]
ESCALATION_ACTIONS = ["retry", "skip", "supply", "abort"]

# --- helpers ---------------------------------------------------------------------------


def _details(state: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["detail"] for r in state["audit"] if r["kind"] == kind]


def _pending(state: Mapping[str, Any]) -> dict[str, Any]:
    """The value of the one open interrupt."""
    interrupts = state["__interrupt__"]
    assert len(interrupts) == 1
    value: dict[str, Any] = interrupts[0].value
    return value


def _compile(agents: list[Agent], **kwargs: Any) -> Graph:
    return create_sequential(agents, **kwargs).compile(checkpointer=InMemorySaver())


def _start(team: Graph, config: RunnableConfig) -> dict[str, Any]:
    state: dict[str, Any] = team.invoke({"messages": [("user", "task")]}, config)
    return state


def _resume(team: Graph, config: RunnableConfig, **decision: Any) -> dict[str, Any]:
    state: dict[str, Any] = team.invoke(Command(resume=decision), config)
    return state


def _approval(agent: str, when: str, content: str, revision: int = 0, limit: int = 3) -> Any:
    return {
        "type": "approval",
        "agent": agent,
        "when": when,
        "content": content,
        "actions": APPROVAL_ACTIONS,
        "revision": revision,
        "max_revisions": limit,
    }


# --- 3. after-gate ---------------------------------------------------------------------


def _after_team(
    drafts: list[Any], *, editor: list[Any] | None = None, **kwargs: Any
) -> tuple[Graph, ScriptedModel, ScriptedModel]:
    writer = ScriptedModel(drafts)
    last = ScriptedModel(editor if editor is not None else ["edited"])
    team = _compile(
        [
            Agent("researcher", runnable=lambda messages: "notes"),
            Agent("writer", model=writer, approval="after"),
            Agent("editor", model=last),
        ],
        **kwargs,
    )
    return team, writer, last


def test_after_gate_interrupt_payload_and_approve(thread: RunnableConfig) -> None:
    team, writer, editor = _after_team(["draft"])
    paused = _start(team, thread)
    assert _pending(paused) == _approval("writer", "after", "draft")
    interrupt = paused["__interrupt__"][0]
    assert interrupt.response_schema == ApprovalDecision.model_json_schema()
    assert editor.calls == []  # the run waits at the gate
    assert team.get_state(thread).next == ("approve_writer",)

    state = _resume(team, thread, action="approve", reviewer="alice")
    assert (state["final"], state["stop_reason"]) == ("edited", "completed")
    assert _audit(state) == [
        ("turn", "researcher"),
        ("turn", "writer"),
        ("approval", "writer"),
        ("turn", "editor"),
        ("termination", None),
    ]
    assert _details(state, "approval") == [
        {"when": "after", "action": "approve", "reviewer": "alice", "feedback": "", "revision": 0}
    ]
    assert _seen(editor) == [[TASK, ("HumanMessage", "writer", "draft")]]
    writer.assert_complete()
    editor.assert_complete()


def test_after_gate_edit_replaces_the_output_in_place(thread: RunnableConfig) -> None:
    team, _, editor = _after_team(["draft"])
    paused = _start(team, thread)
    draft_id = paused["messages"][-1].id
    state = _resume(team, thread, action="edit", content="better draft", reviewer="alice")

    messages = state["messages"]
    assert _shape(messages) == [
        TASK,
        ("AIMessage", "researcher", "notes"),
        ("AIMessage", "writer", "better draft"),
        ("AIMessage", "editor", "edited"),
    ]
    assert messages[2].id == draft_id
    assert _details(state, "approval") == [
        {
            "when": "after",
            "action": "edit",
            "reviewer": "alice",
            "feedback": "",
            "revision": 0,
            "original": "draft",
        }
    ]
    assert _seen(editor) == [[TASK, ("HumanMessage", "writer", "better draft")]]


def test_after_gate_reject_sends_the_agent_back_with_feedback(thread: RunnableConfig) -> None:
    team, writer, editor = _after_team(["draft 1", "draft 2"])
    _start(team, thread)
    paused = _resume(team, thread, action="reject", feedback="Too long.", reviewer="alice")
    assert _pending(paused) == _approval("writer", "after", "draft 2", revision=1)

    request = REVISION_REQUEST.format(reviewer="alice", feedback="Too long.", draft="draft 1")
    assert _seen(writer) == [
        [TASK, ("HumanMessage", "researcher", "notes")],
        [
            TASK,
            ("HumanMessage", "researcher", "notes"),
            ("AIMessage", "writer", "draft 1"),
            ("HumanMessage", "reviewer", request),
        ],
    ]
    state = _resume(team, thread, action="approve")
    assert (state["final"], state["stop_reason"]) == ("edited", "completed")
    # The transcript keeps the first draft and the request; the next step sees the revision.
    assert _shape(state["messages"])[2:5] == [
        ("AIMessage", "writer", "draft 1"),
        ("HumanMessage", "reviewer", request),
        ("AIMessage", "writer", "draft 2"),
    ]
    assert _seen(editor) == [[TASK, ("HumanMessage", "writer", "draft 2")]]
    assert [(d["action"], d["revision"], d["reviewer"]) for d in _details(state, "approval")] == [
        ("reject", 1, "alice"),
        ("approve", 1, "human"),
    ]
    assert _details(state, "approval")[0]["feedback"] == "Too long."
    assert state["usage"]["writer"]["calls"] == 2
    writer.assert_complete()


def test_after_gate_respond_answers_the_agent(thread: RunnableConfig) -> None:
    team, writer, _ = _after_team(["Which tone?", "formal draft"])
    _start(team, thread)
    paused = _resume(team, thread, action="respond", content="Formal, please.")
    # An answer is not a revision: the count stays, so it can never end as "rejected".
    assert _pending(paused) == _approval("writer", "after", "formal draft", revision=0)
    assert _seen(writer)[1][-2:] == [
        ("AIMessage", "writer", "Which tone?"),
        ("HumanMessage", "reviewer", "Formal, please."),
    ]
    state = _resume(team, thread, action="approve")
    assert state["final"] == "edited"
    assert _details(state, "approval")[0]["action"] == "respond"


def test_after_gate_respond_does_not_use_up_revisions(thread: RunnableConfig) -> None:
    team, _, _ = _after_team(["q1", "q2", "answer"], max_revisions=0)
    _start(team, thread)
    _resume(team, thread, action="respond", content="a1")
    paused = _resume(team, thread, action="respond", content="a2")
    request = _pending(paused)
    assert (request["content"], request["revision"]) == ("answer", 0)
    state = _resume(team, thread, action="approve")
    assert (state["final"], state["stop_reason"]) == ("edited", "completed")


def test_after_gate_rejections_exhaust_max_revisions(thread: RunnableConfig) -> None:
    team, writer, editor = _after_team(["draft 1", "draft 2"], editor=[], max_revisions=1)
    paused = _start(team, thread)
    assert _pending(paused)["max_revisions"] == 1
    paused = _resume(team, thread, action="reject", feedback="again")
    assert _pending(paused) == _approval("writer", "after", "draft 2", revision=1, limit=1)
    state = _resume(team, thread, action="reject", feedback="still no")

    assert state["stop_reason"] == "rejected"
    assert state["final"] == "draft 2"  # the last real draft, not a canned string
    assert _audit(state)[-2:] == [("approval", "writer"), ("termination", None)]
    assert state["audit"][-1]["detail"] == {"reason": "rejected"}
    assert editor.calls == []
    writer.assert_complete()


def test_zero_revisions_stop_at_the_first_rejection(thread: RunnableConfig) -> None:
    team, writer, editor = _after_team(["draft"], editor=[], max_revisions=0)
    _start(team, thread)
    state = _resume(team, thread, action="reject", feedback="no")
    assert (state["final"], state["stop_reason"]) == ("draft", "rejected")
    assert len(writer.calls) == 1 and editor.calls == []


def test_after_gate_on_the_last_agent_finalizes(thread: RunnableConfig) -> None:
    team = _compile(
        [
            Agent("a", runnable=lambda messages: "A"),
            Agent("b", runnable=lambda messages: "B", approval="after"),
        ]
    )
    _start(team, thread)
    state = _resume(team, thread, action="edit", content="B, edited")
    assert (state["final"], state["stop_reason"]) == ("B, edited", "completed")
    assert _audit(state)[-2:] == [("approval", "b"), ("termination", None)]


# --- 3. before-gate --------------------------------------------------------------------


def _before_team() -> tuple[Graph, ScriptedModel, ScriptedModel]:
    writer = ScriptedModel(["draft"])
    editor = ScriptedModel(["polished"])
    team = _compile(
        [
            Agent("researcher", runnable=lambda messages: "notes"),
            Agent("writer", model=writer, approval="before"),
            Agent("editor", model=editor),
        ]
    )
    return team, writer, editor


def test_before_gate_approve(thread: RunnableConfig) -> None:
    team, writer, editor = _before_team()
    paused = _start(team, thread)
    assert _pending(paused) == _approval("writer", "before", "notes")
    assert writer.calls == []
    state = _resume(team, thread, action="approve", reviewer="carol")
    assert (state["final"], state["stop_reason"]) == ("polished", "completed")
    assert _seen(writer) == [[TASK, ("HumanMessage", "researcher", "notes")]]
    assert _audit(state) == [
        ("turn", "researcher"),
        ("approval", "writer"),
        ("turn", "writer"),
        ("turn", "editor"),
        ("termination", None),
    ]
    assert _details(state, "approval") == [
        {"when": "before", "action": "approve", "reviewer": "carol", "feedback": ""}
    ]
    writer.assert_complete()
    editor.assert_complete()


def test_before_gate_edit_replaces_the_agents_input(thread: RunnableConfig) -> None:
    team, writer, _ = _before_team()
    _start(team, thread)
    state = _resume(team, thread, action="edit", content="better notes")
    # The agent answers the edited input instead of the original one.
    assert _seen(writer) == [[TASK, ("HumanMessage", "reviewer", "better notes")]]
    assert _shape(state["messages"])[1:3] == [
        ("AIMessage", "researcher", "notes"),
        ("HumanMessage", "reviewer", "better notes"),
    ]
    assert state["final"] == "polished"


def test_before_gate_reject_stops_without_calling_the_agent(thread: RunnableConfig) -> None:
    writer = ScriptedModel([])
    editor = ScriptedModel([])
    team = _compile(
        [
            Agent("researcher", runnable=lambda messages: "notes"),
            Agent("writer", model=writer, approval="before"),
            Agent("editor", model=editor),
        ]
    )
    _start(team, thread)
    state = _resume(team, thread, action="reject", feedback="out of scope", reviewer="dan")
    assert (state["final"], state["stop_reason"]) == ("notes", "rejected")
    assert writer.calls == [] and editor.calls == []
    assert _details(state, "approval") == [
        {"when": "before", "action": "reject", "reviewer": "dan", "feedback": "out of scope"}
    ]
    assert _audit(state)[-1] == ("termination", None)


def test_before_gate_on_the_first_agent_rejected_has_no_answer(thread: RunnableConfig) -> None:
    writer = ScriptedModel([])
    team = _compile([Agent("writer", model=writer, approval="before")])
    paused = _start(team, thread)
    assert _pending(paused) == _approval("writer", "before", "task")
    state = _resume(team, thread, action="reject")
    assert (state["final"], state["stop_reason"]) == (None, "rejected")


def test_before_gate_respond_skips_the_agent(thread: RunnableConfig) -> None:
    writer = ScriptedModel([])
    editor = ScriptedModel(["polished"])
    team = _compile(
        [
            Agent("researcher", runnable=lambda messages: "notes"),
            Agent("writer", model=writer, approval="before"),
            Agent("editor", model=editor),
        ]
    )
    _start(team, thread)
    state = _resume(team, thread, action="respond", content="a human draft")
    assert writer.calls == []
    assert _shape(state["messages"])[2] == ("AIMessage", "writer", "a human draft")
    assert _seen(editor) == [[TASK, ("HumanMessage", "writer", "a human draft")]]
    assert state["final"] == "polished"
    assert "writer" not in state["usage"]  # nobody called the writer's model


def test_before_and_after_gates_on_one_agent(thread: RunnableConfig) -> None:
    team = _compile([Agent("solo", runnable=lambda messages: "out", approval="both")])
    paused = _start(team, thread)
    assert _pending(paused)["when"] == "before"
    paused = _resume(team, thread, action="approve")
    assert _pending(paused) == _approval("solo", "after", "out")
    state = _resume(team, thread, action="approve")
    assert (state["final"], state["stop_reason"]) == ("out", "completed")
    assert [d["when"] for d in _details(state, "approval")] == ["before", "after"]


# --- 3. malformed decisions ------------------------------------------------------------

BAD_APPROVALS = [
    {"action": "maybe"},
    {"action": "edit"},
    {"action": "edit", "content": ""},
    {"action": "respond"},
    {"action": "approve", "note": "extra key"},
    {"action": "approve", "reviewer": ""},
    {"feedback": "no action"},
    "approve",
]


@pytest.mark.parametrize("decision", BAD_APPROVALS, ids=repr)
def test_malformed_approval_is_refused_and_the_interrupt_stays(
    decision: Any, thread: RunnableConfig
) -> None:
    team, writer, editor = _after_team(["draft"])
    paused = _start(team, thread)
    before = team.get_state(thread)

    with pytest.raises(ValidationError) as caught:
        team.invoke(Command(resume=decision), thread)
    assert caught.value.title == "ApprovalDecision"

    after = team.get_state(thread)
    assert after.values == before.values
    assert after.next == ("approve_writer",)
    assert after.config == before.config  # no new checkpoint
    assert after.tasks[0].interrupts == before.tasks[0].interrupts
    assert len(writer.calls) == 1 and editor.calls == []

    state = _resume(team, thread, action="approve")
    assert (state["final"], state["stop_reason"]) == ("edited", "completed")
    assert state["audit"][: len(paused["audit"])] == paused["audit"]
    assert [d["action"] for d in _details(state, "approval")] == ["approve"]


def test_malformed_decision_at_a_before_gate_is_refused(thread: RunnableConfig) -> None:
    team, writer, _ = _before_team()
    _start(team, thread)
    before = team.get_state(thread)
    with pytest.raises(ValidationError):
        team.invoke(Command(resume={"action": "respond", "content": None}), thread)
    assert team.get_state(thread).values == before.values
    assert writer.calls == []
    assert _resume(team, thread, action="approve")["final"] == "polished"


# --- 4. on_error="raise" ---------------------------------------------------------------


def test_raise_wraps_the_error_and_leaves_a_consistent_checkpoint(
    thread: RunnableConfig,
) -> None:
    attempts: list[str] = []

    def flaky(messages: list[BaseMessage]) -> str:
        attempts.append(messages[-1].text)
        if len(attempts) == 1:
            raise KeyError("boom")
        return "B"

    team = _compile(
        [
            Agent("a", runnable=lambda messages: "A"),
            Agent("b", runnable=flaky),
            Agent("c", runnable=lambda messages: "C"),
        ]
    )
    with pytest.raises(AgentError) as caught:
        _start(team, thread)
    error = caught.value
    assert str(error) == "Agent 'b' failed: KeyError: 'boom'"
    assert error.agent == "b"
    assert isinstance(error.__cause__, KeyError) and error.__cause__.args == ("boom",)

    saved = team.get_state(thread)
    assert saved.next == ("b",)
    assert _shape(saved.values["messages"]) == [TASK, ("AIMessage", "a", "A")]
    assert _audit(saved.values) == [("turn", "a")]
    assert saved.values.get("exceptions", []) == []
    assert saved.values.get("final") is None

    # The checkpoint resumes at the failed step; earlier steps are not redone.
    state = team.invoke(None, thread)
    assert (state["final"], state["stop_reason"]) == ("C", "completed")
    assert attempts == ["A", "A"]
    assert _audit(state) == [("turn", "a"), ("turn", "b"), ("turn", "c"), ("termination", None)]


def test_raise_keeps_an_orchestra_error_as_it_is(thread: RunnableConfig) -> None:
    team = _compile(
        [Agent("a", runnable=lambda messages: "A", timeout=5)],
        validators={"a": lambda text: "too short"},
    )
    with pytest.raises(OutputValidationError) as caught:
        _start(team, thread)
    assert str(caught.value) == "Output of agent 'a' refused by validator '<lambda>': too short"
    assert (caught.value.agent, caught.value.output) == ("a", "A")


# --- 4. on_error="continue" ------------------------------------------------------------


def test_continue_records_the_failure_and_goes_on(thread: RunnableConfig) -> None:
    failing = ScriptedModel([ValueError("rate limited")])
    last = ScriptedModel(["C"])
    team = _compile(
        [
            Agent("a", runnable=lambda messages: "A"),
            Agent("b", model=failing, on_error="continue"),
            Agent("c", model=last),
        ]
    )
    state = _start(team, thread)
    assert (state["final"], state["stop_reason"]) == ("C", "completed")
    [record] = state["exceptions"]
    assert {k: v for k, v in record.items() if k not in ("id", "ts")} == {
        "agent": "b",
        "error": "rate limited",
        "error_type": "ValueError",
        "input": "A",
        "status": "continued",
    }
    assert _seen(last) == [[TASK, ("HumanMessage", "a", "A")]]
    assert _audit(state) == [
        ("turn", "a"),
        ("exception", "b"),
        ("turn", "c"),
        ("termination", None),
    ]
    assert _details(state, "exception") == [
        {
            "error": "rate limited",
            "error_type": "ValueError",
            "status": "continued",
            "exception_id": record["id"],
        }
    ]
    assert "b" not in state["usage"]


def test_continue_on_the_last_agent_ends_with_the_partial_answer(
    thread: RunnableConfig,
) -> None:
    team = _compile(
        [
            Agent("a", runnable=lambda messages: "A"),
            Agent("b", model=ScriptedModel([RuntimeError("down")]), on_error="continue"),
        ]
    )
    state = _start(team, thread)
    assert state["final"] == "A"
    assert [r["status"] for r in state["exceptions"]] == ["continued"]
    assert _audit(state)[-1] == ("termination", None)


def test_continue_skips_the_gate_of_a_failed_agent(thread: RunnableConfig) -> None:
    team = _compile(
        [
            Agent(
                "a",
                model=ScriptedModel([ValueError("x")]),
                approval="after",
                on_error="continue",
            ),
            Agent("b", runnable=lambda messages: f"b({messages[-1].text})"),
        ]
    )
    state = _start(team, thread)  # no interrupt: there is no output to review
    assert (state["final"], state["stop_reason"]) == ("b(task)", "completed")
    assert _audit(state) == [("exception", "a"), ("turn", "b"), ("termination", None)]


# --- 4. on_error="escalate" ------------------------------------------------------------


def _escalating(script: list[Any], *, last: list[Any] | None = None) -> tuple[Graph, Any, Any]:
    failing = ScriptedModel(script)
    after = ScriptedModel(last if last is not None else ["C"])
    team = _compile(
        [
            Agent("a", runnable=lambda messages: "A"),
            Agent("b", model=failing, on_error="escalate"),
            Agent("c", model=after),
        ]
    )
    return team, failing, after


def _escalation(paused: Mapping[str, Any], error: str = "x", error_type: str = "ValueError") -> Any:
    [record] = paused["exceptions"]
    assert record["status"] == "open"
    return {
        "type": "exception",
        "exception_id": record["id"],
        "agent": "b",
        "error": error,
        "error_type": error_type,
        "input": "A",
        "output": None,
        "actions": ESCALATION_ACTIONS,
    }


def test_escalate_interrupts_with_the_failure(thread: RunnableConfig) -> None:
    team, _, after = _escalating([ValueError("x")], last=[])
    paused = _start(team, thread)
    assert _pending(paused) == _escalation(paused)
    assert paused["__interrupt__"][0].response_schema == EscalationDecision.model_json_schema()
    assert team.get_state(thread).next == ("escalate",)
    assert _audit(paused) == [("turn", "a"), ("exception", "b")]
    assert after.calls == []


def test_escalate_retry_runs_the_agent_again(thread: RunnableConfig) -> None:
    team, failing, after = _escalating([ValueError("x"), "B"])
    paused = _start(team, thread)
    exception_id = paused["exceptions"][0]["id"]
    state = _resume(team, thread, action="retry", reviewer="erin")
    assert (state["final"], state["stop_reason"]) == ("C", "completed")
    assert _seen(failing) == [[TASK, ("HumanMessage", "a", "A")]] * 2
    [record] = state["exceptions"]  # the same record, resolved
    assert record["id"] == exception_id
    assert record["status"] == "retried"
    assert record["resolution"] == {"action": "retry", "reviewer": "erin"}
    assert _audit(state) == [
        ("turn", "a"),
        ("exception", "b"),
        ("exception", "b"),
        ("turn", "b"),
        ("turn", "c"),
        ("termination", None),
    ]
    assert [(d["status"], d["exception_id"]) for d in _details(state, "exception")] == [
        ("open", exception_id),
        ("retried", exception_id),
    ]
    assert _details(state, "exception")[1]["reviewer"] == "erin"
    assert _seen(after) == [[TASK, ("HumanMessage", "b", "B")]]
    failing.assert_complete()


def test_escalate_retry_that_fails_again_opens_a_new_record(thread: RunnableConfig) -> None:
    team, _, _ = _escalating([ValueError("x"), KeyError("y"), "B"])
    first = _start(team, thread)
    second = _resume(team, thread, action="retry")
    assert _pending(second) == {
        **_escalation(first),
        "exception_id": second["exceptions"][1]["id"],
        "error": "'y'",
        "error_type": "KeyError",
    }
    assert [r["status"] for r in second["exceptions"]] == ["retried", "open"]
    state = _resume(team, thread, action="retry")
    assert [r["status"] for r in state["exceptions"]] == ["retried", "retried"]
    assert state["final"] == "C"


def test_escalate_skip_goes_on_without_the_output(thread: RunnableConfig) -> None:
    team, _, after = _escalating([ValueError("x")])
    _start(team, thread)
    state = _resume(team, thread, action="skip")
    assert (state["final"], state["stop_reason"]) == ("C", "completed")
    assert _seen(after) == [[TASK, ("HumanMessage", "a", "A")]]
    assert [(r["status"], r["resolution"]) for r in state["exceptions"]] == [
        ("skipped", {"action": "skip", "reviewer": "human"})
    ]
    assert all(m.name != "b" for m in state["messages"])


def test_escalate_supply_uses_the_content_as_the_output(thread: RunnableConfig) -> None:
    team, _, after = _escalating([ValueError("x")])
    _start(team, thread)
    state = _resume(team, thread, action="supply", content="B by hand")
    assert _shape(state["messages"])[2] == ("AIMessage", "b", "B by hand")
    assert _seen(after) == [[TASK, ("HumanMessage", "b", "B by hand")]]
    assert state["final"] == "C"
    [record] = state["exceptions"]
    assert record["status"] == "supplied"
    assert record["resolution"] == {"action": "supply", "content": "B by hand", "reviewer": "human"}


def test_escalate_supply_on_the_last_agent_is_the_answer(thread: RunnableConfig) -> None:
    team = _compile(
        [
            Agent("a", runnable=lambda messages: "A"),
            Agent("b", model=ScriptedModel([ValueError("x")]), on_error="escalate"),
        ]
    )
    _start(team, thread)
    state = _resume(team, thread, action="supply", content="B by hand")
    assert (state["final"], state["stop_reason"]) == ("B by hand", "completed")


def test_escalate_abort_ends_with_the_last_real_output(thread: RunnableConfig) -> None:
    team, _, after = _escalating([ValueError("x")], last=[])
    _start(team, thread)
    state = _resume(team, thread, action="abort", reviewer="erin")
    assert (state["final"], state["stop_reason"]) == ("A", "aborted")
    assert after.calls == []
    assert [r["status"] for r in state["exceptions"]] == ["aborted"]
    assert _audit(state)[-2:] == [("exception", "b"), ("termination", None)]
    assert state["audit"][-1]["detail"] == {"reason": "aborted"}


@pytest.mark.parametrize(
    "decision",
    [{"action": "supply"}, {"action": "ignore"}, {"action": "skip", "content": "x", "why": 1}],
    ids=["supply-without-content", "unknown-action", "extra-key"],
)
def test_malformed_escalation_decision_is_refused(
    decision: dict[str, Any], thread: RunnableConfig
) -> None:
    team, _, after = _escalating([ValueError("x")])
    _start(team, thread)
    before = team.get_state(thread)
    with pytest.raises(ValidationError) as caught:
        team.invoke(Command(resume=decision), thread)
    assert caught.value.title == "EscalationDecision"
    after_state = team.get_state(thread)
    assert after_state.values == before.values
    assert after_state.next == ("escalate",)
    assert after.calls == []
    assert _resume(team, thread, action="skip")["final"] == "C"


# --- 4. retries and timeouts -----------------------------------------------------------


def test_retry_policy_retries_inside_the_turn(thread: RunnableConfig) -> None:
    model = ScriptedModel([ValueError("x"), "B"])
    policy = RetryPolicy(max_attempts=2, initial_interval=0, jitter=False, retry_on=ValueError)
    team = _compile([Agent("a", runnable=lambda m: "A"), Agent("b", model=model, retry=policy)])
    state = _start(team, thread)
    assert (state["final"], state["stop_reason"]) == ("B", "completed")
    assert len(model.calls) == 2
    assert state["exceptions"] == []
    assert _audit(state) == [("turn", "a"), ("turn", "b"), ("termination", None)]
    model.assert_complete()


def test_retry_policy_leaves_other_errors_to_on_error(thread: RunnableConfig) -> None:
    model = ScriptedModel([KeyError("k")])
    policy = RetryPolicy(max_attempts=3, initial_interval=0, jitter=False, retry_on=ValueError)
    team = _compile([Agent("b", model=model, retry=policy, on_error="continue")])
    state = _start(team, thread)
    assert len(model.calls) == 1
    assert [(r["error_type"], r["status"]) for r in state["exceptions"]] == [
        ("KeyError", "continued")
    ]
    assert state["final"] is None


def test_retries_exhausted_go_to_on_error(thread: RunnableConfig) -> None:
    model = ScriptedModel([ValueError("1"), ValueError("2")])
    policy = RetryPolicy(max_attempts=2, initial_interval=0, jitter=False, retry_on=ValueError)
    team = _compile([Agent("b", model=model, retry=policy)])
    with pytest.raises(AgentError, match=re.escape("Agent 'b' failed: ValueError: 2")):
        _start(team, thread)
    model.assert_complete()


async def _asleepy(messages: list[BaseMessage]) -> str:
    await asyncio.sleep(1.0)
    return "late"


def test_timeout_sync(thread: RunnableConfig) -> None:
    released, finished = threading.Event(), threading.Event()

    def slow(messages: list[BaseMessage]) -> str:
        released.wait(30.0)
        finished.set()
        return "late"

    team = _compile([Agent("slow", runnable=slow, timeout=0.05)])
    try:
        with pytest.raises(AgentTimeoutError) as caught:
            _start(team, thread)
        assert not finished.is_set()  # the call was abandoned, not awaited
    finally:
        released.set()
    assert str(caught.value) == "Agent 'slow' timed out after 0.05 s"
    assert caught.value.agent == "slow"
    assert isinstance(caught.value, TimeoutError)


async def test_timeout_async(thread: RunnableConfig) -> None:
    team = _compile([Agent("slow", runnable=_asleepy, timeout=0.05)])
    with pytest.raises(AgentTimeoutError, match=re.escape("Agent 'slow' timed out after 0.05 s")):
        await team.ainvoke({"messages": [("user", "task")]}, thread)


async def test_timeout_with_continue_is_an_exception_record(thread: RunnableConfig) -> None:
    team = _compile(
        [
            Agent("a", runnable=lambda m: "A"),
            Agent("slow", runnable=_asleepy, timeout=0.05, on_error="continue"),
        ]
    )
    state = await team.ainvoke({"messages": [("user", "task")]}, thread)
    assert [(r["error_type"], r["error"], r["status"]) for r in state["exceptions"]] == [
        ("AgentTimeoutError", "Agent 'slow' timed out after 0.05 s", "continued")
    ]
    assert state["final"] == "A"


# --- 5. validators ---------------------------------------------------------------------


def _no_digits(text: str) -> None:
    if any(ch.isdigit() for ch in text):
        raise ValueError("digits found")


def _short(text: str) -> bool:
    return len(text) < 10


def _polite(text: str) -> str:
    return "" if "please" in text else "not polite"


@pytest.mark.parametrize(
    ("validator", "output", "error"),
    [
        (
            _no_digits,
            "42 reasons",
            "Output of agent 'b' refused by validator '_no_digits': digits found",
        ),
        (
            _short,
            "far too long an answer",
            "Output of agent 'b' refused by validator '_short': returned False",
        ),
        (_polite, "do it", "Output of agent 'b' refused by validator '_polite': not polite"),
    ],
    ids=["raises", "false", "reason"],
)
def test_refused_output_is_an_exception_record(
    validator: Any, output: str, error: str, thread: RunnableConfig
) -> None:
    model = ScriptedModel(
        [
            AIMessage(
                output, usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
            )
        ]
    )
    after = ScriptedModel(["C"])
    team = _compile(
        [
            Agent("a", runnable=lambda m: "A"),
            Agent("b", model=model, on_error="continue"),
            Agent("c", model=after),
        ],
        validators={"b": validator},
    )
    state = _start(team, thread)
    [record] = state["exceptions"]
    assert record["error"] == error
    assert record["error_type"] == "OutputValidationError"
    assert record["output"] == output
    assert record["status"] == "continued"
    # The refused output stays out of the transcript, but its call is counted.
    assert all(m.name != "b" for m in state["messages"])
    assert _seen(after) == [[TASK, ("HumanMessage", "a", "A")]]
    usage = state["usage"]["b"]
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (1, 3, 4)


def test_accepting_validators_let_the_output_pass(thread: RunnableConfig) -> None:
    seen: list[str] = []

    def record(text: str) -> None:
        seen.append(text)

    team = _compile(
        [Agent("a", runnable=lambda m: "short")],
        validators={"a": [record, _short, _no_digits, lambda text: True, lambda text: ""]},
    )
    state = _start(team, thread)
    assert (state["final"], state["exceptions"]) == ("short", [])
    assert seen == ["short"]


def test_refused_output_escalates_with_the_output(thread: RunnableConfig) -> None:
    model = ScriptedModel(["42", "forty-two"])
    team = _compile(
        [Agent("a", runnable=lambda m: "A"), Agent("b", model=model, on_error="escalate")],
        validators={"b": [_no_digits]},
    )
    paused = _start(team, thread)
    request = _pending(paused)
    assert request["output"] == "42"
    assert request["error_type"] == "OutputValidationError"
    assert request["error"] == "Output of agent 'b' refused by validator '_no_digits': digits found"
    state = _resume(team, thread, action="retry")
    assert (state["final"], state["stop_reason"]) == ("forty-two", "completed")
    assert [r["status"] for r in state["exceptions"]] == ["retried"]
    assert state["usage"]["b"]["calls"] == 2


# --- 7. every checkpointer -------------------------------------------------------------


def _durable_team(saver: BaseCheckpointSaver[Any]) -> tuple[Graph, list[ScriptedModel]]:
    models = [
        ScriptedModel(["notes"]),
        ScriptedModel(["draft 1", "draft 2"]),
        ScriptedModel([ValueError("flaky"), "polished"]),
    ]
    team = create_sequential(
        [
            Agent("researcher", model=models[0]),
            Agent("writer", model=models[1], approval="after"),
            Agent("editor", model=models[2], on_error="escalate"),
        ]
    ).compile(checkpointer=saver)
    return team, models


def _check_durable_run(state: Mapping[str, Any], models: list[ScriptedModel]) -> None:
    assert (state["final"], state["stop_reason"]) == ("polished", "completed")
    assert _audit(state) == [
        ("turn", "researcher"),
        ("turn", "writer"),
        ("approval", "writer"),
        ("turn", "writer"),
        ("approval", "writer"),
        ("exception", "editor"),
        ("exception", "editor"),
        ("turn", "editor"),
        ("termination", None),
    ]
    assert [r["status"] for r in state["exceptions"]] == ["retried"]
    assert _seen(models[2])[-1] == [TASK, ("HumanMessage", "writer", "draft 2")]
    for model in models:
        model.assert_complete()


def test_gates_and_escalation_on_every_checkpointer(
    checkpointer: BaseCheckpointSaver[Any], thread: RunnableConfig
) -> None:
    team, models = _durable_team(checkpointer)
    assert _pending(_start(team, thread))["content"] == "draft 1"
    paused = _resume(team, thread, action="reject", feedback="more")
    assert _pending(paused)["content"] == "draft 2"
    paused = _resume(team, thread, action="approve")
    assert _pending(paused)["type"] == "exception"
    state = _resume(team, thread, action="retry")
    _check_durable_run(state, models)
    assert team.get_state(thread).values["final"] == "polished"


async def test_gates_and_escalation_async_on_every_checkpointer(
    async_checkpointer: BaseCheckpointSaver[Any], thread: RunnableConfig
) -> None:
    team, models = _durable_team(async_checkpointer)
    paused = await team.ainvoke({"messages": [("user", "task")]}, thread)
    assert _pending(paused)["content"] == "draft 1"
    paused = await team.ainvoke(Command(resume={"action": "reject", "feedback": "more"}), thread)
    assert _pending(paused)["content"] == "draft 2"
    paused = await team.ainvoke(Command(resume={"action": "approve"}), thread)
    assert _pending(paused)["type"] == "exception"
    with pytest.raises(ValidationError):
        await team.ainvoke(Command(resume={"action": "supply"}), thread)
    state = await team.ainvoke(Command(resume={"action": "retry"}), thread)
    _check_durable_run(state, models)
    assert (await team.aget_state(thread)).values["final"] == "polished"
