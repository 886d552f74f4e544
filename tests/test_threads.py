"""Tests for driving a thread to its next pause or its end (`drive`, `adrive`)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from langgraph_orchestra import (
    Agent,
    AgentError,
    ApprovalDecision,
    DecisionError,
    HumanTurn,
    TeamConfigError,
    UnknownThreadError,
    create_concurrent,
    create_group_chat,
    create_handoff,
    create_magentic,
    create_planner_executor,
    create_sequential,
)
from langgraph_orchestra.nodes import (
    HandoffLimitDecision,
    PlanApprovalDecision,
    PlanReviewDecision,
    ToolApprovalDecision,
)
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import (
    RunEvent,
    RunInfo,
    adrive,
    aread_thread,
    consumed_replies,
    drive,
    read_thread,
    resume_value,
    run_config,
    used_replies,
)

TASK = {"messages": [("user", "Where is my refund?")]}
APPROVE = ApprovalDecision(action="approve", reviewer="ana")


def _gated(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A writer, then an editor whose output waits for approval."""
    return create_sequential(
        [
            Agent("writer", model=ScriptedModel(["Your refund is on its way."])),
            Agent("editor", model=ScriptedModel(["Refund issued today."]), approval="after"),
        ]
    ).compile(checkpointer=saver)


def _steps(events: list[RunEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.node) for e in events]


def _recorded(events: list[RunEvent]) -> list[tuple[str, str | None]]:
    return [(r["kind"], r["agent"]) for e in events for r in e.audit]


def test_drive_pauses_at_the_gate_then_resumes_to_the_end(
    checkpointer: BaseCheckpointSaver[Any],
) -> None:
    team = _gated(checkpointer)
    config = run_config("ticket-42", RunInfo(team="support", pattern="sequential"))
    events: list[RunEvent] = []

    paused = drive(team, TASK, config, on_event=events.append)

    assert paused.status == "waiting for approval"
    assert [(i.kind, i.agent) for i in paused.interrupts] == [("approval", "editor")]
    assert paused.interrupts[0].value["content"] == "Refund issued today."
    assert (paused.final, paused.stop_reason) == (None, None)
    assert paused.run == RunInfo(team="support", pattern="sequential")
    assert _steps(events) == [
        ("started", "writer"),
        ("finished", "writer"),
        ("started", "editor"),
        ("finished", "editor"),
        ("started", "approve_editor"),
    ]
    assert _recorded(events) == [("turn", "writer"), ("turn", "editor")]

    events.clear()
    done = drive(team, resume_value(paused.interrupts, APPROVE), config, on_event=events.append)

    assert done.status == "done"
    assert done.interrupts == ()
    assert (done.final, done.stop_reason) == ("Refund issued today.", "completed")
    assert _steps(events) == [
        ("started", "approve_editor"),
        ("finished", "approve_editor"),
        ("started", "finalize"),
        ("finished", "finalize"),
    ]
    assert _recorded(events) == [("approval", "editor"), ("termination", None)]
    assert done == read_thread(checkpointer, "ticket-42", graph=team)


def test_drive_without_a_callback_returns_the_same_thread() -> None:
    team = _gated(InMemorySaver())
    config = run_config("t", RunInfo())

    paused = drive(team, TASK, config)

    assert paused.status == "waiting for approval"
    assert [m.text for m in paused.messages][-1] == "Refund issued today."


async def test_adrive_pauses_and_resumes_on_async_stores(
    async_checkpointer: BaseCheckpointSaver[Any],
) -> None:
    team = _gated(async_checkpointer)
    config = run_config("ticket-7", RunInfo())
    nodes: list[str] = []

    paused = await adrive(team, TASK, config, on_event=lambda e: nodes.append(e.node))

    assert paused.status == "waiting for approval"
    assert [i.agent for i in paused.interrupts] == ["editor"]
    assert nodes == ["writer", "writer", "editor", "editor", "approve_editor"]
    assert paused == await aread_thread(async_checkpointer, "ticket-7", graph=team)

    done = await adrive(team, resume_value(paused.interrupts, APPROVE), config)

    assert (done.status, done.final, done.stop_reason) == (
        "done",
        "Refund issued today.",
        "completed",
    )


def test_a_branch_turn_is_reported_once_across_a_pause() -> None:
    # The branches' turns are held until the fan-out closes, which moves them into the
    # audit trail: they are reported when each branch finishes, not again at the close.
    team = create_concurrent(
        [
            Agent("a", model=ScriptedModel(["A"])),
            Agent("b", model=ScriptedModel(["B"]), approval="after"),
        ]
    ).compile(checkpointer=InMemorySaver())
    config = run_config("t", RunInfo())
    events: list[RunEvent] = []

    paused = drive(team, TASK, config, on_event=events.append)
    drive(team, resume_value(paused.interrupts, APPROVE), config, on_event=events.append)

    recorded = _recorded(events)
    assert recorded.count(("turn", "a")) == 1
    assert recorded.count(("turn", "b")) == 1
    assert recorded[-1] == ("termination", None)


def test_drive_lets_the_run_errors_through() -> None:
    saver = InMemorySaver()
    team = create_sequential(
        [Agent("writer", model=ScriptedModel([RuntimeError("model down")]))]
    ).compile(checkpointer=saver)
    config = run_config("t", RunInfo())

    with pytest.raises(AgentError, match="model down") as raised:
        drive(team, TASK, config)

    assert raised.value.agent == "writer"
    assert read_thread(saver, "t").status == "failed"


async def test_drive_needs_a_checkpointer() -> None:
    team = _gated(InMemorySaver()).copy(update={"checkpointer": None})
    message = (
        "drive needs a graph compiled with a checkpointer, got checkpointer=None; "
        "compile it with .compile(checkpointer=...) (e.g. open_checkpointer(url))"
    )

    with pytest.raises(TeamConfigError, match=re.escape(message)):
        drive(team, TASK, run_config("t", RunInfo()))
    with pytest.raises(TeamConfigError, match=re.escape(message)):
        await adrive(team, TASK, run_config("t", RunInfo()))


async def test_aread_thread_refuses_an_unknown_thread() -> None:
    with pytest.raises(UnknownThreadError, match=r"^no thread 'nope' in the store \("):
        await aread_thread(InMemorySaver(), "nope")


def _with_a_person(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A group chat: the writer, then the person `ana`, then the writer again."""
    return create_group_chat(
        [Agent("writer", model=ScriptedModel(["Draft.", "Draft, shorter."]))],
        human="ana",
        allow_repeat=True,
        max_rounds=3,
    ).compile(checkpointer=saver)


def test_a_human_turn_is_resumed_with_the_persons_message() -> None:
    saver = InMemorySaver()
    team = _with_a_person(saver)
    config = run_config("t-human", RunInfo())
    paused = drive(team, TASK, config)
    assert paused.status == "waiting for approval"
    [pending] = paused.interrupts
    assert (pending.kind, pending.agent) == ("human_turn", "ana")
    assert pending.value == {
        "type": "human_turn",
        "participant": "ana",
        "last": "Draft.",
        "round": 1,
    }
    command = resume_value(paused.interrupts, HumanTurn(content="Shorter, please."))
    assert command.resume == {pending.id: {"content": "Shorter, please."}}
    done = drive(team, command, config)
    assert (done.final, done.stop_reason) == ("Draft, shorter.", "max_rounds")
    assert [(m.name, m.text) for m in done.messages[1:]] == [
        ("writer", "Draft."),
        ("ana", "Shorter, please."),
        ("writer", "Draft, shorter."),
    ]


def test_a_decision_of_another_kind_is_refused_for_a_human_turn() -> None:
    saver = InMemorySaver()
    paused = drive(_with_a_person(saver), TASK, run_config("t-human", RunInfo()))
    with pytest.raises(DecisionError) as caught:
        resume_value(paused.interrupts, APPROVE)
    assert (str(caught.value), caught.value.hint) == (
        "the decision is for an approval, but the thread waits for a person's turn (ana)",
        "decide it with --say TEXT",
    )
    gated = _gated(saver)
    config = run_config("t-gated", RunInfo())
    waiting = drive(gated, TASK, config)
    with pytest.raises(DecisionError) as caught:
        resume_value(waiting.interrupts, HumanTurn(content="Hello"))
    assert (str(caught.value), caught.value.hint) == (
        "the decision is for a person's turn, but the thread waits for an approval (editor)",
        "decide it with --approve, --reject TEXT, --edit FILE or --answer TEXT",
    )


# -- the handoff pattern's and tool approval's interrupts -------------------------------


@tool
def refund(order_id: str) -> str:
    """Refund an order."""
    return f"refunded {order_id}"


def _call(name: str, call_id: str, **args: Any) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}])


def _desk(
    saver: BaseCheckpointSaver[Any], **options: Any
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Triage transfers to billing, whose refunds wait for approval."""
    return create_handoff(
        [
            Agent("triage", model=ScriptedModel([_call("transfer_to_billing", "t1")])),
            Agent(
                "billing",
                model=ScriptedModel([_call("refund", "r1", order_id="A-1"), "Refunded."]),
                tools=[refund],
                approve_tools=["refund"],
            ),
        ],
        entry="triage",
        **options,
    ).compile(checkpointer=saver)


def test_a_tool_call_waits_for_a_tool_decision() -> None:
    saver = InMemorySaver()
    team = _desk(saver)
    config = run_config("t-tool", RunInfo())
    paused = drive(team, TASK, config)
    [pending] = paused.interrupts
    assert (pending.kind, pending.agent, pending.value["args"]) == (
        "tool_approval",
        "billing",
        {"order_id": "A-1"},
    )
    # billing's first call is in its paused turn, not yet in the thread's state
    assert consumed_replies(paused.values) == {"triage": 1}
    assert used_replies(saver, "t-tool") == {"triage": 1, "billing": 1}

    with pytest.raises(DecisionError) as caught:
        resume_value(paused.interrupts, APPROVE)
    assert (str(caught.value), caught.value.hint) == (
        "the decision is for an approval, but the thread waits for a tool call's approval "
        "(billing)",
        "decide it with --approve, --reject TEXT or --edit FILE (the arguments as JSON)",
    )
    edit = ToolApprovalDecision(action="edit", args={"order_id": "A-2"}, reviewer="ana")
    command = resume_value(paused.interrupts, edit)
    assert command.resume == {
        pending.id: {
            "action": "edit",
            "feedback": "",
            "args": {"order_id": "A-2"},
            "reviewer": "ana",
        }
    }
    done = drive(team, command, config)
    assert (done.final, done.stop_reason) == ("Refunded.", "completed")
    assert [m.text for m in done.messages if m.type == "tool"][-1] == "refunded A-2"
    assert used_replies(saver, "t-tool") == {"triage": 1, "billing": 2}


def _ping_pong(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    """a and b transfer to each other until the one-transfer limit."""
    return create_handoff(
        [
            Agent("a", model=ScriptedModel([_call("transfer_to_b", "c1")])),
            Agent("b", model=ScriptedModel([_call("transfer_to_a", "c2")])),
        ],
        entry="a",
        max_handoffs=1,
    ).compile(checkpointer=saver)


def test_a_handoff_limit_waits_for_a_limit_decision() -> None:
    team = _ping_pong(InMemorySaver())
    config = run_config("t-limit", RunInfo())
    paused = drive(team, TASK, config)
    [pending] = paused.interrupts
    assert pending.kind == "handoff_limit"
    assert {k: pending.value[k] for k in ("agent", "target", "reason", "handoffs")} == {
        "agent": "b",
        "target": "a",
        "reason": "max_handoffs",
        "handoffs": [["a", "b"]],
    }
    with pytest.raises(DecisionError) as caught:
        resume_value(paused.interrupts, HumanTurn(content="hi"))
    assert (str(caught.value), caught.value.hint) == (
        "the decision is for a person's turn, but the thread waits for a decision at a "
        "handoff limit (b)",
        "decide it with --continue AGENT, --answer TEXT or --end",
    )
    answer = HandoffLimitDecision(action="answer", content="A person will call you.")
    done = drive(team, resume_value(paused.interrupts, answer), config)
    assert (done.final, done.stop_reason) == ("A person will call you.", "completed")


def test_the_users_reply_and_a_persons_help_are_resumed_with_a_message() -> None:
    saver = InMemorySaver()
    team = create_handoff(
        [
            Agent(
                "helper",
                model=ScriptedModel(
                    [
                        _call("escalate_to_human", "e1", question="May I refund?"),
                        "Which order?",
                        "Done.",
                    ]
                ),
            )
        ],
        entry="helper",
        interactive=True,
        escalate_to_human=True,
    ).compile(checkpointer=saver)
    config = run_config("t-user", RunInfo())
    asked = drive(team, TASK, config)
    [help_request] = asked.interrupts
    assert (help_request.kind, help_request.value["question"]) == ("human_help", "May I refund?")
    waiting = drive(team, resume_value(asked.interrupts, HumanTurn(content="Yes.")), config)
    [user_turn] = waiting.interrupts
    assert (user_turn.kind, user_turn.agent, user_turn.value["last"]) == (
        "user_turn",
        "helper",
        "Which order?",
    )
    with pytest.raises(DecisionError) as caught:
        resume_value(waiting.interrupts, APPROVE)
    assert caught.value.hint == "decide it with --say TEXT"
    reply = resume_value(waiting.interrupts, HumanTurn(content="A-1"))
    again = drive(team, reply, config)
    assert [m.text for m in again.messages][-2:] == ["A-1", "Done."]
    assert [i.kind for i in again.interrupts] == ["user_turn"]


# -- the magentic pattern's plan review ---------------------------------------------------


def _ledger(*plan: str) -> dict[str, Any]:
    return {
        "facts_given": [],
        "facts_to_look_up": [],
        "facts_to_derive": [],
        "educated_guesses": [],
        "plan": list(plan),
    }


PROGRESS = {
    "is_request_satisfied": False,
    "is_in_loop": False,
    "is_progress_being_made": True,
    "next_speaker": "writer",
    "instruction": "Draft it.",
    "reason": "nothing is written yet",
}


def test_a_plan_review_waits_for_a_plan_decision() -> None:
    manager = ScriptedModel(
        [
            _ledger("writer drafts"),
            _ledger("writer drafts", "writer shortens"),  # the replan after the rejection
            PROGRESS,
            {**PROGRESS, "is_request_satisfied": True, "reason": "drafted"},
        ]
    )
    team = create_magentic(
        [Agent("writer", "Drafts", model=ScriptedModel(["A draft."]))],
        manager_model=manager,
        plan_review=True,
        final_answer=False,
    ).compile(checkpointer=InMemorySaver())
    config = run_config("t-plan", RunInfo())
    paused = drive(team, TASK, config)
    [pending] = paused.interrupts
    assert (pending.kind, pending.agent, pending.value["ledger"]["plan"]) == (
        "plan_review",
        "manager",
        ["writer drafts"],
    )
    with pytest.raises(DecisionError) as caught:
        resume_value(paused.interrupts, APPROVE)
    assert (str(caught.value), caught.value.hint) == (
        "the decision is for an approval, but the thread waits for a plan review (manager)",
        "decide it with --approve, --reject TEXT or --edit FILE (the plan's steps, one per line)",
    )
    reject = PlanReviewDecision(action="reject", feedback="Add a step.", reviewer="ana")
    command = resume_value(paused.interrupts, reject)
    assert command.resume == {
        pending.id: {"action": "reject", "feedback": "Add a step.", "reviewer": "ana"}
    }
    again = drive(team, command, config)
    [second] = again.interrupts
    assert (second.value["revision"], second.value["ledger"]["plan"]) == (
        1,
        ["writer drafts", "writer shortens"],
    )
    assert "Add a step." in manager.calls[1][0].text  # the manager replanned with it
    edit = PlanReviewDecision(action="edit", plan=["writer drafts in one line"], reviewer="ana")
    done = drive(team, resume_value(again.interrupts, edit), config)
    assert (done.final, done.stop_reason) == ("A draft.", "completed")
    assert done.values["task_ledger"]["plan"] == ["writer drafts in one line"]
    assert [
        (r["detail"]["action"], r["detail"]["when"]) for r in done.audit if r["kind"] == "approval"
    ] == [
        ("reject", "plan"),
        ("edit", "plan"),
    ]
    manager.assert_complete()


def test_the_managers_records_are_described_in_a_few_words() -> None:
    from langgraph_orchestra.threads import describe_audit

    stalled = {**PROGRESS, "is_progress_being_made": False}
    refusal = "there is no worker 'x'; workers: a"
    described = [
        describe_audit({"kind": kind, "detail": detail})
        for kind, detail in (
            ("plan", {"decision": "replan", "ledger": _ledger("a looks", "b checks")}),
            ("plan", {"decision": "reset", "resets": 1}),
            ("plan", {"decision": "failed", "error": "no ledger"}),
            ("routing", {"decision": "progress", "ledger": stalled}),
            ("routing", {"decision": "invalid_ledger", "error": "bad speaker"}),
            ("routing", {"delegated": "a", "task": "look it up"}),
            ("routing", {"refused": "delegate_to_x", "reason": refusal}),
        )
    ]
    assert described == [
        "replan: 1. a looks 2. b checks",
        "the agents start afresh (reset 1)",
        "no valid plan: no ledger",
        "writer acts (a stall): Draft it.",
        "invalid ledger: bad speaker",
        "delegated to a: look it up",
        "delegate_to_x refused: there is no worker 'x'; workers: a",
    ]


# -- the planner-executor pattern's plan approval -----------------------------------------

STEP_A = {"id": "a", "agent": "writer", "instruction": "Draft it.", "depends_on": []}
STEP_B = {"id": "b", "agent": "writer", "instruction": "Shorten it.", "depends_on": ["a"]}


def test_a_plan_approval_waits_for_a_plan_decision() -> None:
    planner = ScriptedModel([{"steps": [STEP_A]}, {"steps": [STEP_A, STEP_B]}])
    team = create_planner_executor(
        [Agent("writer", "Drafts", model=ScriptedModel(["A long draft.", "A draft."]))],
        planner_model=planner,
        plan_approval=True,
    ).compile(checkpointer=InMemorySaver())
    config = run_config("t-plan-approval", RunInfo())
    paused = drive(team, TASK, config)
    [pending] = paused.interrupts
    assert (pending.kind, pending.agent, pending.value["plan"]) == (
        "plan_approval",
        "planner",
        [STEP_A],
    )
    with pytest.raises(DecisionError) as caught:
        resume_value(paused.interrupts, PlanReviewDecision(action="approve"))
    assert (str(caught.value), caught.value.hint) == (
        "the decision is for a plan review, but the thread waits for a plan approval (planner)",
        'decide it with --approve, --reject TEXT or --edit FILE (the plan as JSON {"steps": '
        "[...]})",
    )
    reject = PlanApprovalDecision(action="reject", feedback="Shorten it too.", reviewer="ana")
    command = resume_value(paused.interrupts, reject)
    assert command.resume == {
        pending.id: {"action": "reject", "feedback": "Shorten it too.", "reviewer": "ana"}
    }
    again = drive(team, command, config)
    [second] = again.interrupts
    assert (second.value["revision"], second.value["plan"]) == (1, [STEP_A, STEP_B])
    assert "Shorten it too." in planner.calls[1][-1].text  # the planner replanned with it
    done = drive(
        team, resume_value(again.interrupts, PlanApprovalDecision(action="approve")), config
    )
    assert (done.final, done.stop_reason) == ("A draft.", "completed")
    assert [
        (r["detail"]["action"], r["detail"]["when"]) for r in done.audit if r["kind"] == "approval"
    ] == [
        ("reject", "plan"),
        ("approve", "plan"),
    ]
    planner.assert_complete()


def test_a_plan_approval_decision_is_checked_before_the_thread_resumes() -> None:
    with pytest.raises(ValueError, match="the steps a -> a form a cycle"):
        PlanApprovalDecision(
            action="edit",
            plan={"steps": [{**STEP_A, "depends_on": ["a"]}]},  # type: ignore[arg-type]
        )


def test_the_planners_records_are_described_in_a_few_words() -> None:
    from langgraph_orchestra.threads import describe_audit, describe_step

    described = [
        describe_audit({"kind": kind, "detail": detail})
        for kind, detail in (
            ("plan", {"decision": "plan", "plan": [STEP_A, STEP_B]}),
            ("plan", {"decision": "steps", "steps": {"a": {"status": "done"}}}),
            (
                "plan",
                {"decision": "evaluated", "score": 0.5, "reasons": ["thin"], "threshold": 0.7},
            ),
            ("plan", {"decision": "failed", "error": "no valid plan"}),
            ("routing", {"decision": "run", "steps": ["a", "c"]}),
            ("routing", {"decision": "synthesize"}),
            ("routing", {"decision": "best_so_far", "replans": 2}),
        )
    ]
    assert described == [
        "plan: a (writer); b (writer)",
        "a done",
        "scored 0.5 (threshold 0.7): thin",
        "no valid plan: no valid plan",
        "steps run: a, c",
        "every step is done: the synthesizer writes the answer",
        "the best result so far is the answer (2 replans)",
    ]
    assert describe_step(STEP_B) == "b (writer, after a): Shorten it."


def test_a_concurrent_synthesis_is_described_by_its_branches_not_as_a_plans_end() -> None:
    from langgraph_orchestra.threads import describe_audit

    detail = {"decision": "synthesize", "succeeded": ["a", "b"], "failed": ["c"], "quorum": 1}
    assert describe_audit({"kind": "routing", "detail": detail}) == (
        "synthesize: 2 of 3 branches succeeded (quorum 1)"
    )


def test_a_resume_does_not_replay_what_an_earlier_run_reported() -> None:
    # Both branches pause at a gate; deciding one leaves the other's finished task in the
    # step, whose writes LangGraph replays on the next resume: they are not reported again.
    team = create_concurrent(
        [
            Agent("a", model=ScriptedModel(["A"]), approval="after"),
            Agent("b", model=ScriptedModel(["B"]), approval="after"),
        ]
    ).compile(checkpointer=InMemorySaver())
    config = run_config("t", RunInfo())
    runs: list[list[RunEvent]] = [[], [], []]

    paused = drive(team, TASK, config, on_event=runs[0].append)
    b = next(i.id for i in paused.interrupts if i.agent == "b")
    half = drive(
        team,
        resume_value(paused.interrupts, APPROVE, interrupt_id=b),
        config,
        on_event=runs[1].append,
    )
    drive(team, resume_value(half.interrupts, APPROVE), config, on_event=runs[2].append)

    first, *rest = [_recorded(run) for run in runs]
    # The branches run in one step: their turns are reported in the order they finish.
    assert (first[0], sorted(first[1:])) == (("routing", None), [("turn", "a"), ("turn", "b")])
    assert rest == [
        [("approval", "b")],
        [("approval", "a"), ("routing", None), ("termination", None)],
    ]
    ids = [r["id"] for run in runs for e in run for r in e.audit]
    assert len(ids) == len(set(ids))
