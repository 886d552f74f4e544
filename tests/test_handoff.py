"""`create_handoff` and tool-call approval: each failure mode of handoff teams prevented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel, ValidationError

from langgraph_orchestra import (
    Agent,
    OrchestraError,
    TeamConfigError,
    create_handoff,
    create_sequential,
)
from langgraph_orchestra.prompts import DEFAULT_PROMPTS
from langgraph_orchestra.testing import ScriptedModel

TASK = {"messages": [("user", "I was charged twice for order A-1")]}


def thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def transfer(target: str, call_id: str, **args: Any) -> AIMessage:
    return AIMessage(
        "", tool_calls=[{"name": f"transfer_to_{target}", "args": args, "id": call_id}]
    )


def valid_history(messages: Sequence[BaseMessage]) -> None:
    """As a strict provider checks: every tool call has exactly one result, right after it."""
    pending: list[str] = []
    for message in messages:
        if isinstance(message, ToolMessage):
            assert pending and message.tool_call_id == pending.pop(0), message
            continue
        assert not pending, f"tool calls without results before {message!r}"
        if isinstance(message, AIMessage):
            pending = [c["id"] for c in message.tool_calls]
    assert not pending


def handoffs(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"agent": r["agent"], **r["detail"]} for r in state["audit"] if r["kind"] == "handoff"]


class RefundCase(BaseModel):
    order: str
    amount: float


def support(
    triage: list[Any], billing: list[Any], tech: list[Any] | None = None, **options: Any
) -> Any:
    agents = [
        Agent("triage", "Routes customers", model=ScriptedModel(triage, name="triage")),
        Agent(
            "billing",
            "Refunds and invoices",
            model=ScriptedModel(billing, name="billing"),
            handoff_input=RefundCase,
        ),
        Agent("tech", "Technical problems", model=ScriptedModel(tech or [], name="tech")),
    ]
    return create_handoff(agents, entry="triage", **options)


# --- transfers ----------------------------------------------------------------------------


def test_a_transfer_with_a_typed_payload_reaches_the_target() -> None:
    billing = ["Refunded 20 on A-1."]
    team = support([transfer("billing", "c1", order="A-1", amount=20)], billing).compile(
        checkpointer=InMemorySaver()
    )
    result = team.invoke(TASK, thread())
    assert (result["final"], result["stop_reason"], result["active_agent"]) == (
        "Refunded 20 on A-1.",
        "completed",
        "billing",
    )
    assert result["handoff"] == {
        "from": "triage",
        "to": "billing",
        "payload": {"order": "A-1", "amount": 20.0},
    }
    assert handoffs(result) == [
        {"agent": "triage", "to": "billing", "payload": {"order": "A-1", "amount": 20.0}}
    ]
    valid_history(result["messages"])
    seen = team.get_graph()  # drawable
    assert "triage" in seen.nodes


def test_the_target_sees_the_payload_and_the_tool_is_described_from_its_description() -> None:
    triage = ScriptedModel([transfer("billing", "c1", order="A-1", amount=20)])
    billing = ScriptedModel(["ok"])
    create_handoff(
        [
            Agent("triage", "Routes", model=triage),
            Agent("billing", "Refunds and invoices", model=billing, handoff_input=RefundCase),
        ],
        entry="triage",
    ).compile().invoke(TASK)
    note = billing.calls[0][-1]
    assert note.text == DEFAULT_PROMPTS.handoff_context.format(
        source="triage", payload=json.dumps({"order": "A-1", "amount": 20.0}, indent=2)
    )


def test_an_injected_transfer_to_an_undeclared_agent_is_refused_and_audited() -> None:
    triage = [
        transfer("tech", "c1"),  # declared for nobody here
        transfer("root_admin", "c2"),  # not an agent at all
        "I can help with billing only.",
    ]
    team = support(triage, [], handoffs={"triage": ["billing"]}).compile()
    result = team.invoke(TASK)
    assert (result["final"], result["stop_reason"], result["active_agent"]) == (
        "I can help with billing only.",
        "completed",
        "triage",
    )
    refusals = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert [m.text for m in refusals] == [
        DEFAULT_PROMPTS.handoff_refused.format(target="tech", allowed="billing"),
        DEFAULT_PROMPTS.handoff_refused.format(target="root_admin", allowed="billing"),
    ]
    assert all(m.status == "error" for m in refusals)
    assert handoffs(result) == [
        {"agent": "triage", "refused": "tech", "reason": "undeclared"},
        {"agent": "triage", "refused": "root_admin", "reason": "undeclared"},
    ]
    valid_history(result["messages"])


def test_two_transfers_in_one_message_the_first_wins_and_all_calls_are_answered() -> None:
    both = AIMessage(
        "",
        tool_calls=[
            {"name": "transfer_to_tech", "args": {}, "id": "c1"},
            {"name": "transfer_to_billing", "args": {"order": "A-1", "amount": 1}, "id": "c2"},
        ],
    )
    result = support([both], [], ["Rebooted."]).compile().invoke(TASK)
    assert (result["final"], result["active_agent"]) == ("Rebooted.", "tech")
    results = {m.tool_call_id: m for m in result["messages"] if isinstance(m, ToolMessage)}
    assert results["c1"].status == "success"
    assert results["c2"].text == DEFAULT_PROMPTS.handoff_second.format(target="billing")
    valid_history(result["messages"])


def test_a_tool_call_and_a_transfer_in_one_message_both_resolve() -> None:
    looked: list[str] = []

    @tool
    def lookup_order(order: str) -> str:
        """Look an order up."""
        looked.append(order)
        return f"{order}: charged twice"

    mixed = AIMessage(
        "",
        tool_calls=[
            {"name": "lookup_order", "args": {"order": "A-1"}, "id": "c1"},
            {"name": "transfer_to_billing", "args": {"order": "A-1", "amount": 5}, "id": "c2"},
        ],
    )
    agents = [
        Agent("triage", model=ScriptedModel([mixed]), tools=[lookup_order]),
        Agent("billing", model=ScriptedModel(["Refunded."]), handoff_input=RefundCase),
    ]
    result = create_handoff(agents, entry="triage").compile().invoke(TASK)
    assert looked == ["A-1"]
    assert (result["final"], result["active_agent"]) == ("Refunded.", "billing")
    valid_history(result["messages"])


def test_an_invalid_payload_is_refused_and_the_model_can_fix_it() -> None:
    triage = [
        transfer("billing", "c1", order="A-1"),
        transfer("billing", "c2", order="A-1", amount=3),
    ]
    result = support(triage, ["Done."]).compile().invoke(TASK)
    first = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert first.status == "error"
    assert first.text.startswith(
        "Transfer to 'billing' refused: its details are not valid (amount:"
    )
    assert result["active_agent"] == "billing"
    assert handoffs(result)[0]["reason"] == "invalid payload"
    valid_history(result["messages"])


# --- bounds --------------------------------------------------------------------------------


def ping_pong(**options: Any) -> Any:
    def bounce(target: str) -> Any:
        counter = iter(range(100))
        return lambda messages: transfer(target, f"{target}{next(counter)}")

    agents = [
        Agent("a", "first", model=ScriptedModel([bounce("b")] * 10)),
        Agent("b", "second", model=ScriptedModel([bounce("a")] * 10)),
    ]
    return create_handoff(agents, entry="a", **options)


def test_ping_pong_ends_within_its_bound() -> None:
    result = ping_pong(max_ping_pong=2, on_limit="end").compile().invoke(TASK)
    assert result["stop_reason"] == "handoff_limit"
    assert result["handoffs"] == [["a", "b"], ["b", "a"], ["a", "b"], ["b", "a"]]
    assert handoffs(result)[-1] == {"agent": "a", "refused": "b", "reason": "ping_pong"}
    valid_history(result["messages"])


def test_max_handoffs_bounds_a_chain() -> None:
    agents = [
        Agent(n, model=ScriptedModel([transfer(t, f"c{n}")] if t else ["end"]))
        for n, t in (("a", "b"), ("b", "c"), ("c", "d"), ("d", None))
    ]
    result = (
        create_handoff(agents, entry="a", max_handoffs=2, max_ping_pong=5, on_limit="end")
        .compile()
        .invoke(TASK)
    )
    assert result["stop_reason"] == "handoff_limit"
    assert result["handoffs"] == [["a", "b"], ["b", "c"]]
    assert handoffs(result)[-1] == {"agent": "c", "refused": "d", "reason": "max_handoffs"}


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        ({"action": "end"}, ("handoff_limit", None)),
        (
            {"action": "answer", "content": "A human will call you."},
            ("completed", "A human will call you."),
        ),
    ],
)
def test_a_limit_escalates_to_a_person(decision: dict[str, Any], expected: tuple[Any, Any]) -> None:
    team = ping_pong(max_ping_pong=1).compile(checkpointer=InMemorySaver())
    paused = team.invoke(TASK, thread())
    (request,) = [i.value for i in paused["__interrupt__"]]
    assert request == {
        "type": "handoff_limit",
        "agent": "a",
        "target": "b",
        "reason": "ping_pong",
        "handoffs": [["a", "b"], ["b", "a"]],
        "agents": ["a", "b"],
        "actions": ["continue", "answer", "end"],
    }
    result = team.invoke(Command(resume={**decision, "reviewer": "lead"}), thread())
    assert result["stop_reason"] == expected[0]
    if expected[1] is not None:
        assert result["final"] == expected[1]
    approval = next(r for r in result["audit"] if r["detail"].get("when") == "handoff_limit")
    assert (approval["detail"]["action"], approval["detail"]["reviewer"]) == (
        decision["action"],
        "lead",
    )


def test_a_malformed_limit_decision_is_refused_and_the_pause_stays() -> None:
    team = ping_pong(max_ping_pong=1).compile(checkpointer=InMemorySaver())
    team.invoke(TASK, thread())
    before = team.get_state(thread())
    with pytest.raises(ValidationError):
        team.invoke(Command(resume={"action": "answer"}), thread())
    assert team.get_state(thread()).values == before.values
    assert (
        team.invoke(Command(resume={"action": "end"}), thread())["stop_reason"] == "handoff_limit"
    )


# --- the active agent -----------------------------------------------------------------------


def test_the_active_agent_keeps_control_across_runs() -> None:
    billing = ["Refunded.", "You're welcome."]
    team = support([transfer("billing", "c1", order="A-1", amount=5)], billing).compile(
        checkpointer=InMemorySaver()
    )
    team.invoke(TASK, thread())
    second = team.invoke({"messages": [("user", "Thanks!")]}, thread())
    assert (second["final"], second["active_agent"]) == ("You're welcome.", "billing")
    assert second["handoffs"] == []  # counted per run
    routing = [r for r in second["audit"] if r["kind"] == "routing"][-1]
    assert routing["detail"] == {"active_agent": "billing", "resumed": True}


def test_the_active_agent_is_kept_when_the_team_is_nested() -> None:
    inner = support(
        [transfer("billing", "c1", order="A-1", amount=5)], ["Refunded.", "Still here."]
    ).compile(checkpointer=True)  # the team keeps its own state in the parent's thread
    outer = create_sequential([Agent("desk", runnable=inner)]).compile(checkpointer=InMemorySaver())
    first = outer.invoke(TASK, thread())
    assert first["final"] == "Refunded."
    second = outer.invoke({"messages": [("user", "and now?")]}, thread())
    assert second["final"] == "Still here."


def test_interactive_waits_for_the_user_instead_of_ending() -> None:
    team = support(["What is the order number?"], [], interactive=True).compile(
        checkpointer=InMemorySaver()
    )
    paused = team.invoke(TASK, thread())
    assert [i.value for i in paused["__interrupt__"]] == [
        {"type": "user_turn", "agent": "triage", "last": "What is the order number?"}
    ]


def test_a_router_hands_off_between_non_model_agents() -> None:
    def route(state: Any) -> str | None:
        return "b" if state["active_agent"] == "a" else None

    agents = [Agent("a", runnable=lambda m: "A"), Agent("b", runnable=lambda m: "B")]
    result = create_handoff(agents, entry="a", router=route).compile().invoke(TASK)
    assert (result["final"], result["handoffs"]) == ("B", [["a", "b"]])

    def rogue(state: Any) -> str | None:
        return "a"

    with pytest.raises(
        OrchestraError,
        match=re.escape(
            "Handoff router 'rogue' chose 'a', to whom 'a' may not transfer; allowed: ['b']"
        ),
    ):
        create_handoff(agents, entry="a", router=rogue).compile().invoke(TASK)


def test_escalate_to_human_asks_a_person_and_uses_the_answer() -> None:
    ask = AIMessage(
        "",
        tool_calls=[{"name": "escalate_to_human", "args": {"question": "Refund 500?"}, "id": "h1"}],
    )
    team = support([ask, "The lead says yes."], [], escalate_to_human=["triage"]).compile(
        checkpointer=InMemorySaver()
    )
    paused = team.invoke(TASK, thread())
    assert [i.value for i in paused["__interrupt__"]] == [
        {"type": "human_help", "agent": "triage", "question": "Refund 500?"}
    ]
    result = team.invoke(Command(resume={"content": "Yes, approved."}), thread())
    answer = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert answer.text == "Yes, approved."
    assert result["final"] == "The lead says yes."
    valid_history(result["messages"])


# --- tool-call approval --------------------------------------------------------------------


ISSUED: list[tuple[str, float]] = []


@tool
def issue_refund(order: str, amount: float) -> str:
    """Refund an order."""
    ISSUED.append((order, amount))
    return f"refunded {amount} on {order}"


def refund_team(replies: list[Any]) -> Any:
    call = AIMessage(
        "",
        tool_calls=[{"name": "issue_refund", "args": {"order": "A-1", "amount": 50}, "id": "r1"}],
    )
    billing = Agent(
        "billing",
        model=ScriptedModel([call, *replies]),
        tools=[issue_refund],
        approve_tools=["issue_refund"],
    )
    return create_sequential([billing]).compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize(
    ("decision", "issued", "result_text"),
    [
        ({"action": "approve"}, [("A-1", 50.0)], "refunded 50.0 on A-1"),
        (
            {"action": "edit", "args": {"order": "A-1", "amount": 20}},
            [("A-1", 20.0)],
            "refunded 20.0 on A-1",
        ),
        (
            {"action": "reject", "feedback": "over the limit"},
            [],
            DEFAULT_PROMPTS.tool_rejected.format(reviewer="kim", feedback="over the limit"),
        ),
    ],
)
def test_tool_approval(decision: dict[str, Any], issued: list[Any], result_text: str) -> None:
    ISSUED.clear()
    team = refund_team(["Done."])
    paused = team.invoke(TASK, thread())
    assert [i.value for i in paused["__interrupt__"]] == [
        {
            "type": "tool_approval",
            "agent": "billing",
            "tool": "issue_refund",
            "args": {"order": "A-1", "amount": 50},
            "tool_call_id": "r1",
            "actions": ["approve", "reject", "edit"],
        }
    ]
    assert ISSUED == []
    result = team.invoke(Command(resume={**decision, "reviewer": "kim"}), thread())
    assert ISSUED == issued
    tool_result = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert tool_result.text == result_text
    assert result["final"] == "Done."
    record = next(r for r in result["audit"] if r["kind"] == "approval")
    assert record["agent"] == "billing"
    assert {k: record["detail"][k] for k in ("when", "tool", "action", "reviewer")} == {
        "when": "tool",
        "tool": "issue_refund",
        "action": decision["action"],
        "reviewer": "kim",
    }
    valid_history(result["messages"])


def test_a_malformed_tool_decision_is_refused() -> None:
    team = refund_team(["Done."])
    team.invoke(TASK, thread())
    with pytest.raises(ValidationError):
        team.invoke(Command(resume={"action": "edit"}), thread())
    assert team.invoke(Command(resume={"action": "approve"}), thread())["final"] == "Done."


def test_tool_approval_resumes_in_a_fresh_process(tmp_path: Path) -> None:
    db, log = tmp_path / "t.db", tmp_path / "issued.txt"
    script = textwrap.dedent(
        f"""
        import json, sys
        from langchain_core.messages import AIMessage
        from langchain_core.tools import tool
        from langgraph.types import Command
        from langgraph_orchestra import Agent, create_sequential, open_checkpointer
        from langgraph_orchestra.testing import ScriptedModel

        @tool
        def issue_refund(order: str, amount: float) -> str:
            \"\"\"Refund an order.\"\"\"
            with open({str(log)!r}, "a") as f:
                f.write(f"{{order}} {{amount}}\\n")
            return "refunded"

        args = {{"order": "A-1", "amount": 9}}
        call = AIMessage("", tool_calls=[{{"name": "issue_refund", "args": args, "id": "r1"}}])
        replies = [call, "Done."] if sys.argv[1] == "start" else ["Done."]
        billing = Agent(
            "billing", model=ScriptedModel(replies), tools=[issue_refund], approve_tools=True
        )
        team = create_sequential([billing])
        config = {{"configurable": {{"thread_id": "x"}}}}
        with open_checkpointer("sqlite:///{db}") as saver:
            app = team.compile(checkpointer=saver)
            if sys.argv[1] == "start":
                out = app.invoke({{"messages": [("user", "refund")]}}, config)
                print(json.dumps([i.value["tool"] for i in out["__interrupt__"]]))
            else:
                decision = {{"action": "approve", "reviewer": "night"}}
                out = app.invoke(Command(resume=decision), config)
                print(json.dumps([out["final"], [r["kind"] for r in out["audit"]]]))
        """
    )

    def run(step: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-W", "error", "-c", script, step],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert run("start") == ["issue_refund"]
    assert run("resume") == ["Done.", ["approval", "turn", "termination"]]
    assert log.read_text() == "A-1 9.0\n"


# --- bad input -------------------------------------------------------------------------------


def _pair() -> list[Agent]:
    return [
        Agent("triage", model=ScriptedModel([])),
        Agent("billing", model=ScriptedModel([])),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"entry": "sales"}, "Unknown entry agent 'sales'; known agents: ['triage', 'billing']"),
        (
            {"entry": "triage", "handoffs": {"triage": ["refunds"]}},
            "Unknown handoff target 'refunds' for agent 'triage'; known agents: ['billing']",
        ),
        (
            {"entry": "triage", "handoffs": {"sales": ["billing"]}},
            "Unknown agent 'sales' in handoffs; known agents: ['triage', 'billing']",
        ),
        (
            {"entry": "triage", "on_limit": "ignore"},
            "on_limit='ignore': allowed ['escalate', 'end']",
        ),
        ({"entry": "triage", "max_handoffs": 0}, "max_handoffs must be a whole number >= 1, got 0"),
        (
            {"entry": "triage", "escalate_to_human": ["ghost"]},
            "escalate_to_human names unknown agents ['ghost']; known agents: ['triage', 'billing']",
        ),
    ],
)
def test_bad_arguments(options: dict[str, Any], message: str) -> None:
    with pytest.raises(TeamConfigError, match="^" + re.escape(message) + "$"):
        create_handoff(_pair(), **options)


def test_non_model_agents_need_a_router() -> None:
    agents = [Agent("a", runnable=lambda m: "A"), Agent("b", runnable=lambda m: "B")]
    with pytest.raises(TeamConfigError, match=re.escape("Agent 'a' is not a model")):
        create_handoff(agents, entry="a")


def test_approve_tools_must_name_the_agents_tools() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "Agent 'b' approve_tools names unknown tools ['wire_money']; its tools: "
            "['issue_refund']"
        ),
    ):
        Agent("b", model=ScriptedModel([]), tools=[issue_refund], approve_tools=["wire_money"])


def test_a_model_that_keeps_asking_for_refused_transfers_is_bounded() -> None:
    stubborn = ScriptedModel([transfer("root_admin", f"c{i}") for i in range(5)])
    agents = [Agent("triage", model=stubborn), Agent("billing", model=ScriptedModel([]))]
    result = create_handoff(agents, entry="triage").compile().invoke(TASK)
    stubborn.assert_complete()  # five calls in the turn, then it ends
    assert (result["stop_reason"], result["active_agent"]) == ("completed", "triage")
    assert len(handoffs(result)) == 5
    assert result["usage"]["triage"]["calls"] == 5
    valid_history(result["messages"])


def test_a_call_to_a_tool_the_agent_lacks_gets_an_error_result() -> None:
    wrong = AIMessage("", tool_calls=[{"name": "delete_account", "args": {}, "id": "d1"}])
    agents = [
        Agent("triage", model=ScriptedModel([wrong, "Sorry, I cannot do that."])),
        Agent("billing", model=ScriptedModel([])),
    ]
    result = create_handoff(agents, entry="triage").compile().invoke(TASK)
    error = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert error.text == DEFAULT_PROMPTS.unknown_tool.format(
        tool="delete_account", tools="transfer_to_billing"
    )
    assert result["final"] == "Sorry, I cannot do that."
    valid_history(result["messages"])
