"""`create_network`: peers message each other; bounds, mailboxes and resume."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _meet import Meeting, MeetingModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from langgraph_orchestra import Agent, TeamConfigError, create_network
from langgraph_orchestra.prompts import (
    NETWORK_FINISH_ACK,
    NETWORK_FINISH_EMPTY,
    NETWORK_MESSAGE,
    NETWORK_QUIET,
    NETWORK_REFUSED,
    NETWORK_SENT,
    NETWORK_SENT_NOTE,
    UNKNOWN_TOOL,
)
from langgraph_orchestra.testing import ScriptedModel

TASK = {"messages": [("user", "Price the new plan")]}


def send(*messages: tuple[str, str], text: str = "", tag: str = "") -> AIMessage:
    calls = [
        {"name": f"send_to_{peer}", "args": {"message": m}, "id": f"{tag}{peer}-{i}"}
        for i, (peer, m) in enumerate(messages)
    ]
    return AIMessage(text, tool_calls=calls)


def finish(answer: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": "finish", "args": {"answer": answer}, "id": "fin"}])


def texts(messages: list[BaseMessage]) -> list[str]:
    return [m.text for m in messages]


def one_result_per_call(messages: list[BaseMessage]) -> None:
    calls = [c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    results = [m.tool_call_id for m in messages if isinstance(m, ToolMessage)]
    assert sorted(calls) == sorted(results)


def test_a_message_reaches_its_peer_and_finish_ends_the_run() -> None:
    a = ScriptedModel([send(("b", "What margin?")), finish("Price: 12 EUR")])
    b = ScriptedModel([send(("a", "30% margin"))])
    team = create_network(
        [Agent("a", model=a), Agent("b", model=b)], entry=["a"], max_messages=5
    ).compile()
    result = team.invoke(TASK)
    assert (result["final"], result["stop_reason"]) == ("Price: 12 EUR", "finished")
    # b was given the task and a's message; a then got b's answer.
    assert texts(b.calls[0])[-1] == NETWORK_MESSAGE.format(sender="a", message="What margin?")
    assert texts(a.calls[1])[-1] == NETWORK_MESSAGE.format(sender="b", message="30% margin")
    assert result["sent"] == 2
    tool_results = [m.text for m in result["messages"] if isinstance(m, ToolMessage)]
    sent = [NETWORK_SENT.format(peer="b"), NETWORK_SENT.format(peer="a")]
    assert tool_results == [*sent, NETWORK_FINISH_ACK]
    one_result_per_call(result["messages"])
    a.assert_complete()
    b.assert_complete()


def test_messages_of_a_round_are_delivered_together_and_recipients_run_concurrently() -> None:
    a = ScriptedModel([send(("c", "from a"), ("d", "to d from a"))])
    b = ScriptedModel([send(("c", "from b"), ("d", "to d from b"))])
    both = Meeting(2)  # c and d must be called at the same time
    c = MeetingModel(["c read both"], both)
    d = MeetingModel(["d read both"], both)
    agents = [Agent(n, model=m) for n, m in zip("abcd", (a, b, c, d), strict=True)]
    team = create_network(agents, entry=["a", "b"]).compile()
    result = team.invoke(TASK)
    # c ran once, with both messages; the run ends after a round without messages.
    assert texts(c.calls[0])[-2:] == [
        NETWORK_MESSAGE.format(sender="a", message="from a"),
        NETWORK_MESSAGE.format(sender="b", message="from b"),
    ]
    assert (result["final"], result["stop_reason"]) == ("d read both", "quiet")
    for model in (a, b, c, d):
        model.assert_complete()


def test_a_send_to_an_unlinked_peer_is_refused_and_the_agent_goes_on() -> None:
    a = ScriptedModel(
        [
            AIMessage(
                "",
                tool_calls=[
                    {"name": "send_to_c", "args": {"message": "psst"}, "id": "x1"},
                    {"name": "search", "args": {}, "id": "x2"},
                ],
            ),
            "I will answer myself: 10 EUR",
        ]
    )
    c = ScriptedModel([])
    team = create_network(
        [Agent("a", model=a), Agent("b", runnable=lambda m: "b idle"), Agent("c", model=c)],
        links={"a": ["b"]},
        entry=["a"],
    ).compile()
    result = team.invoke(TASK)
    refused, unknown = (m for m in result["messages"] if isinstance(m, ToolMessage))
    assert (refused.text, refused.status) == (
        NETWORK_REFUSED.format(peer="c", allowed="b"),
        "error",
    )
    assert unknown.text == UNKNOWN_TOOL.format(tool="search", tools="send_to_b, finish")
    assert (result["final"], result["stop_reason"]) == ("I will answer myself: 10 EUR", "quiet")
    refusals = [r["detail"] for r in result["audit"] if r["detail"].get("refused")]
    assert refusals == [{"refused": "c", "sender": "a"}]
    one_result_per_call(result["messages"])
    a.assert_complete()


def test_an_agent_with_its_own_tools_runs_them_beside_the_network_tools() -> None:
    from langchain_core.tools import tool

    @tool
    def margin(plan: str) -> str:
        """Return the margin of a plan."""
        return f"{plan}: 30%"

    lookup = {"name": "margin", "args": {"plan": "pro"}, "id": "m1"}
    a = ScriptedModel([AIMessage("", tool_calls=[lookup]), send(("b", "pro: 30%"))])
    b = ScriptedModel(["b: noted"])
    team = create_network(
        [Agent("a", model=a, tools=[margin]), Agent("b", model=b)], entry=["a"]
    ).compile()
    result = team.invoke(TASK)
    # The tool ran; the send was answered by the pattern and ended a's turn.
    assert texts(a.calls[1])[-1] == "pro: 30%"
    assert texts(b.calls[0])[-1] == NETWORK_MESSAGE.format(sender="a", message="pro: 30%")
    assert (result["final"], result["stop_reason"]) == ("b: noted", "quiet")
    one_result_per_call(result["messages"])
    a.assert_complete()


def test_a_draft_sent_back_by_a_reviewer_delivers_none_of_its_messages() -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    a = ScriptedModel(["a: got v2"])
    b = ScriptedModel([send(("a", "v1"), text="draft", tag="1"), send(("a", "v2"), text="fixed")])
    team = create_network(
        [Agent("a", model=a), Agent("b", model=b, approval="after")], entry=["b"]
    ).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    team.invoke(TASK, config)
    team.invoke(Command(resume={"action": "reject", "feedback": "say v2"}), config)
    result = team.invoke(Command(resume={"action": "approve"}), config)
    assert [m.text for m in a.calls[0]][-1] == NETWORK_MESSAGE.format(sender="b", message="v2")
    assert (result["final"], result["stop_reason"], result["sent"]) == ("a: got v2", "quiet", 1)
    a.assert_complete()
    b.assert_complete()


def two_peers_for_three_rounds(**options: Any) -> tuple[ScriptedModel, dict[str, Any]]:
    """a and b message each other in rounds 1 and 2; a finishes in round 3."""
    a = ScriptedModel(
        [send(("b", "hi b"), tag="1"), send(("b", "second to b"), tag="2"), finish("done")]
    )
    b = ScriptedModel(
        [send(("a", "hi a"), tag="1"), send(("a", "second to a"), tag="2"), "b: noted"]
    )
    team = create_network([Agent("a", model=a), Agent("b", model=b)], **options).compile()
    result = team.invoke(TASK)
    assert (result["final"], result["stop_reason"], result["sent"]) == ("done", "finished", 4)
    a.assert_complete()
    b.assert_complete()
    return a, result


def test_a_peer_sees_its_conversation_with_its_peers_across_rounds() -> None:
    a, result = two_peers_for_three_rounds()
    # In round 3, a sees (default context "own") the task, what it sent and what it was
    # sent in rounds 1 and 2, each where it was delivered, then this round's mail.
    assert [(type(m).__name__, m.name, m.text) for m in a.calls[2]] == [
        ("HumanMessage", None, "Price the new plan"),
        ("AIMessage", "a", NETWORK_SENT_NOTE.format(peer="b", message="hi b")),
        ("HumanMessage", "b", NETWORK_MESSAGE.format(sender="b", message="hi a")),
        ("AIMessage", "a", NETWORK_SENT_NOTE.format(peer="b", message="second to b")),
        ("HumanMessage", "b", NETWORK_MESSAGE.format(sender="b", message="second to a")),
    ]
    assert [(m["from"], m["to"], m["text"]) for m in result["mail"]] == [
        ("a", "b", "hi b"),
        ("b", "a", "hi a"),
        ("a", "b", "second to b"),
        ("b", "a", "second to a"),
    ]


def test_the_conversation_across_rounds_is_bounded_by_the_context_policy() -> None:
    a, _ = two_peers_for_three_rounds(context="last")
    # "last": the task, the latest message before this round (a's own send of round 2),
    # then this round's mail; the round-1 messages are out.
    assert texts(a.calls[2]) == [
        "Price the new plan",
        NETWORK_SENT_NOTE.format(peer="b", message="second to b"),
        NETWORK_MESSAGE.format(sender="b", message="second to a"),
    ]


def test_a_peer_does_not_see_mail_between_other_peers() -> None:
    a = ScriptedModel([send(("b", "for b only"), ("c", "for c"))])
    b = ScriptedModel([send(("c", "b to c"))])
    c = ScriptedModel(["c: one", "c: two"])
    agents = [Agent(n, model=m) for n, m in zip("abc", (a, b, c), strict=True)]
    result = create_network(agents, entry=["a"], context="full").compile().invoke(TASK)
    assert result["stop_reason"] == "quiet"
    # c, in round 3, sees a's message to it (round 1) but not a's message to b.
    seen = texts(c.calls[1])
    assert NETWORK_MESSAGE.format(sender="a", message="for c") in seen
    assert not any("for b only" in text for text in seen)
    assert seen[-1] == NETWORK_MESSAGE.format(sender="b", message="b to c")


def test_an_empty_finish_is_refused_and_the_agent_answers_again() -> None:
    a = ScriptedModel([finish(" "), finish("Price: 9 EUR")])
    team = create_network([Agent("a", model=a)]).compile()
    result = team.invoke(TASK)
    refused = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert (refused.text, refused.status) == (NETWORK_FINISH_EMPTY, "error")
    assert (result["final"], result["stop_reason"]) == ("Price: 9 EUR", "finished")


def test_max_messages_ends_the_run_without_delivering_over_the_budget() -> None:
    a = ScriptedModel([send(("b", "one")), send(("b", "two"), ("b", "three"))])
    b = ScriptedModel([send(("a", "ack"))])
    team = create_network(
        [Agent("a", model=a), Agent("b", model=b)], entry=["a"], max_messages=3
    ).compile()
    result = team.invoke(TASK)
    assert (result["final"], result["stop_reason"]) == ("three", "max_messages")
    assert result["sent"] == 2
    a.assert_complete()
    b.assert_complete()


def test_the_same_message_twice_in_a_row_between_a_pair_is_a_loop() -> None:
    a = ScriptedModel([send(("b", "are you sure?"), tag="1"), send(("b", "are you sure?"))])
    b = ScriptedModel([send(("a", "yes"))])
    team = create_network([Agent("a", model=a), Agent("b", model=b)], entry=["a"]).compile()
    result = team.invoke(TASK)
    assert (result["final"], result["stop_reason"]) == ("are you sure?", "loop")
    loops = [r["detail"] for r in result["audit"] if "loop" in r["detail"]]
    assert loops == [{"loop": ["a", "b"]}]
    a.assert_complete()
    b.assert_complete()


def test_quiet_rounds_give_every_agent_another_turn_before_ending() -> None:
    a = ScriptedModel(["a thinks", "a still thinks"])
    b = ScriptedModel(["b thinks", "b: 11 EUR"])
    team = create_network([Agent("a", model=a), Agent("b", model=b)], quiet_rounds=2).compile()
    result = team.invoke(TASK)
    assert (result["final"], result["stop_reason"]) == ("b: 11 EUR", "quiet")
    assert texts(a.calls[1])[-1] == NETWORK_QUIET
    assert result["round"] == 4


def test_two_runs_on_a_thread_start_with_fresh_counters() -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    a = ScriptedModel([send(("b", "hi")), send(("b", "hi"))])
    b = ScriptedModel(["b: hello", "b: hello again"])
    team = create_network([Agent("a", model=a), Agent("b", model=b)], entry=["a"])
    app = team.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    first = app.invoke(TASK, config)
    second = app.invoke({"messages": [("user", "again")]}, config)
    # The same text in a new run is no loop, and the budget counts the run.
    assert (first["stop_reason"], second["stop_reason"]) == ("quiet", "quiet")
    assert (second["final"], second["sent"]) == ("b: hello again", 1)


def test_resume_in_a_fresh_process_delivers_each_message_once(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    script = textwrap.dedent(
        f"""
        import json, sys
        from langchain_core.messages import AIMessage
        from langgraph.types import Command
        from langgraph_orchestra import Agent, create_network, open_checkpointer
        from langgraph_orchestra.testing import ScriptedModel

        def send(peer, text, tag):
            call = {{"name": "send_to_" + peer, "args": {{"message": text}}, "id": tag}}
            return AIMessage("", tool_calls=[call])

        start = sys.argv[1] == "start"
        a = ScriptedModel([] if start else ["a: both read"])
        b = ScriptedModel([send("a", "from b", "b1")] if start else [])
        c = ScriptedModel([send("a", "from c", "c1")] if start else [])
        team = create_network(
            [Agent("a", model=a), Agent("b", model=b, approval="after"), Agent("c", model=c)],
            entry=["b", "c"],
        )
        config = {{"configurable": {{"thread_id": "n"}}}}
        with open_checkpointer("sqlite:///{db}") as saver:
            app = team.compile(checkpointer=saver)
            if start:
                out = app.invoke({{"messages": [("user", "go")]}}, config)
                print(json.dumps([i.value["agent"] for i in out["__interrupt__"]]))
            else:
                out = app.invoke(Command(resume={{"action": "approve"}}), config)
                seen = [m.text for m in a.calls[0]]
                print(json.dumps([out["final"], out["stop_reason"], seen, out["sent"]]))
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

    assert run("start") == ["b"]
    final, reason, seen, sent = run("resume")
    assert (final, reason, sent) == ("a: both read", "quiet", 2)
    assert seen == [
        "go",
        NETWORK_MESSAGE.format(sender="b", message="from b"),
        NETWORK_MESSAGE.format(sender="c", message="from c"),
    ]


def test_topology() -> None:
    team = create_network([Agent("a", runnable=lambda m: "A"), Agent("b", runnable=lambda m: "B")])
    drawing = team.compile().get_graph().draw_mermaid()
    for edge in ("__start__ --> start", "start -.-> fanout", "fanout -.-> a", "join -.-> fanout"):
        assert edge in drawing


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"links": "some"}, "links must be 'all' or a mapping {agent: [peers]}, got 'some'"),
        ({"links": {"z": ["a"]}}, "Unknown agent 'z' in links; known agents: ['a', 'b', 'c']"),
        ({"links": {"a": "b"}}, "links['a'] must be a list of agent names, got 'b'"),
        ({"links": {"a": ["a"]}}, "Agent 'a' cannot send messages to itself"),
        (
            {"links": {"a": ["x"]}},
            "Unknown peer 'x' for agent 'a' in links; known agents: ['b', 'c']",
        ),
        ({"entry": "a"}, "entry must be a non-empty list of agent names, got 'a'"),
        ({"entry": []}, "entry must be a non-empty list of agent names, got []"),
        ({"entry": ["q"]}, "Unknown entry agents ['q']; known agents: ['a', 'b', 'c']"),
        ({"max_messages": 0}, "max_messages must be a whole number >= 1, got 0"),
        ({"quiet_rounds": 0}, "quiet_rounds must be a whole number >= 1, got 0"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(
    options: dict[str, Any], message: str
) -> None:
    agents = [Agent(n, runnable=lambda m: "x") for n in "abc"]
    with pytest.raises(TeamConfigError) as error:
        create_network(agents, **options)
    assert str(error.value) == message
