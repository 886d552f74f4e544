"""Tests for create_sequential: topology, scripted runs, context, usage, audit, state schemas."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import pytest
from _views import audit_trail as _audit
from _views import seen_by as _seen
from _views import shape as _shape
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.message import add_messages
from langgraph.types import Command
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langgraph_orchestra import (
    Agent,
    AuditRecord,
    ExceptionRecord,
    ModelPrice,
    SequentialState,
    TeamConfigError,
    Usage,
    Window,
    create_concurrent,
    create_sequential,
)
from langgraph_orchestra.state import RunStart, add_count, add_exceptions, add_usage, append
from langgraph_orchestra.testing import ScriptedModel

# --- helpers ---------------------------------------------------------------------------


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _said(text: str, input_tokens: int = 0, output_tokens: int = 0) -> AIMessage:
    """A scripted reply with exact token counts."""
    return AIMessage(text, usage_metadata=_usage(input_tokens, output_tokens))


def _echo(name: str) -> Any:
    """A callable agent that answers `<name>(<what it answers>)`."""

    def run(messages: list[BaseMessage]) -> str:
        return f"{name}({messages[-1].text})"

    return run


def _thread(name: str = "t") -> RunnableConfig:
    return {"configurable": {"thread_id": name}}


# --- 1. topology -----------------------------------------------------------------------

EXPECTED_MERMAID = """\
---
config:
  flowchart:
    curve: linear
---
graph TD;
\t__start__([<p>__start__</p>]):::first
\tresearcher(researcher<hr/><small><em>pattern = sequential
agent = researcher</em></small>)
\twriter(writer<hr/><small><em>pattern = sequential
agent = writer</em></small>)
\tapprove_writer(approve_writer<hr/><small><em>pattern = sequential
agent = writer</em></small>)
\teditor(editor<hr/><small><em>pattern = sequential
agent = editor</em></small>)
\tescalate(escalate<hr/><small><em>pattern = sequential</em></small>)
\tfinalize(finalize<hr/><small><em>pattern = sequential</em></small>)
\t__end__([<p>__end__</p>]):::last
\t__start__ --> researcher;
\tapprove_writer -.-> editor;
\tapprove_writer -.-> finalize;
\tapprove_writer -.-> writer;
\teditor -.-> __end__;
\teditor -.-> escalate;
\tescalate -.-> editor;
\tescalate -.-> finalize;
\tresearcher -.-> writer;
\twriter -.-> approve_writer;
\tfinalize --> __end__;
\tclassDef default fill:#f2f0ff,line-height:1.2
\tclassDef first fill-opacity:0
\tclassDef last fill:#bfb6fc
"""


def test_topology_snapshot() -> None:
    team = create_sequential(
        [
            Agent("researcher", runnable=_echo("researcher")),
            Agent("writer", runnable=_echo("writer"), approval="after"),
            Agent("editor", runnable=_echo("editor"), on_error="escalate"),
        ]
    )
    assert team.compile().get_graph().draw_mermaid() == EXPECTED_MERMAID


def test_topology_draws_where_a_continued_failure_goes() -> None:
    team = create_sequential(
        [
            Agent("a", runnable=_echo("a"), approval="after", on_error="continue"),
            Agent("b", runnable=_echo("b"), on_error="continue"),
        ]
    )
    edges = {(e.source, e.target) for e in team.compile().get_graph().edges}
    # On failure `a` goes on to `b`, and `b` (the last step) to finalize.
    assert {("a", "b"), ("b", "finalize")} <= edges
    assert ("a", "approve_a") in edges


def test_before_gate_is_the_entry() -> None:
    team = create_sequential(
        [Agent("a", runnable=_echo("a"), approval="before"), Agent("b", runnable=_echo("b"))]
    )
    edges = {(e.source, e.target) for e in team.compile().get_graph().edges}
    assert ("__start__", "authorize_a") in edges
    assert {("authorize_a", "a"), ("authorize_a", "b"), ("authorize_a", "finalize")} <= edges


# --- 2. scripted runs ------------------------------------------------------------------


@tool
def lookup(query: str) -> str:
    """Look up a fact."""
    return f"fact about {query}"


def test_scripted_run_with_models_and_a_tool_agent() -> None:
    writer = ScriptedModel([_said("draft", 10, 5)], model_name="scripted-x")
    checker = ScriptedModel(
        [
            AIMessage(
                "",
                tool_calls=[{"name": "lookup", "args": {"query": "tea"}, "id": "call-1"}],
                usage_metadata=_usage(20, 3),
            ),
            _said("checked draft", 30, 4),
        ],
        model_name="scripted-x",
    )
    editor = ScriptedModel([_said("polished draft", 7, 2)])
    team = create_sequential(
        [
            Agent("writer", model=writer, instructions="Write."),
            Agent("checker", model=checker, tools=[lookup]),
            Agent("editor", model=editor),
        ],
        prices={"scripted-x": ModelPrice(input_per_mtok=2.0, output_per_mtok=4.0)},
    ).compile()

    state = team.invoke({"messages": [("user", "tea facts")]})

    assert state["final"] == "polished draft"
    assert state["stop_reason"] == "completed"
    assert state["exceptions"] == []
    messages = state["messages"]
    assert _shape(messages) == [
        ("HumanMessage", None, "tea facts"),
        ("AIMessage", "writer", "draft"),
        ("AIMessage", "checker", ""),
        ("ToolMessage", "lookup", "fact about tea"),
        ("AIMessage", "checker", "checked draft"),
        ("AIMessage", "editor", "polished draft"),
    ]
    assert messages[2].tool_calls[0]["name"] == "lookup"
    assert isinstance(messages[3], ToolMessage) and messages[3].tool_call_id == "call-1"

    # The default context ("last"): the task and the previous step's output, another
    # agent's output shown as a user message carrying that agent's name.
    assert _seen(writer) == [
        [("SystemMessage", None, "Write."), ("HumanMessage", None, "tea facts")]
    ]
    assert _seen(checker) == [
        [("HumanMessage", None, "tea facts"), ("HumanMessage", "writer", "draft")],
        [
            ("HumanMessage", None, "tea facts"),
            ("HumanMessage", "writer", "draft"),
            ("AIMessage", "checker", ""),
            ("ToolMessage", "lookup", "fact about tea"),
        ],
    ]
    # The tool plumbing is left out of the next step's view.
    assert _seen(editor) == [
        [("HumanMessage", None, "tea facts"), ("HumanMessage", "checker", "checked draft")]
    ]

    usage = state["usage"]
    assert set(usage) == {"writer", "checker", "editor"}
    assert {n: (u["calls"], u["input_tokens"], u["output_tokens"]) for n, u in usage.items()} == {
        "writer": (1, 10, 5),
        "checker": (2, 50, 7),
        "editor": (1, 7, 2),
    }
    assert usage["writer"]["cost_usd"] == pytest.approx((10 * 2.0 + 5 * 4.0) / 1e6)
    assert usage["checker"]["cost_usd"] == pytest.approx((50 * 2.0 + 7 * 4.0) / 1e6)
    assert usage["editor"]["cost_usd"] == 0.0  # "scripted" is priced at zero
    assert all(u["latency_s"] >= 0 for u in usage.values())

    assert _audit(state) == [
        ("turn", "writer"),
        ("turn", "checker"),
        ("turn", "editor"),
        ("termination", None),
    ]
    turns = [r["detail"] for r in state["audit"][:3]]
    assert [(d["messages"], d["tokens"]) for d in turns] == [(1, 15), (3, 57), (1, 9)]
    assert state["audit"][-1]["detail"] == {"reason": "completed"}
    for model in (writer, checker, editor):
        model.assert_complete()


def test_callable_agents_and_message_names() -> None:
    team = create_sequential(
        [
            Agent("a", runnable=_echo("a")),
            Agent("b", runnable=lambda messages: AIMessage("from b", name="someone-else")),
        ]
    ).compile()
    state = team.invoke({"messages": [("user", "go")]})
    assert _shape(state["messages"]) == [
        ("HumanMessage", None, "go"),
        ("AIMessage", "a", "a(go)"),
        ("AIMessage", "b", "from b"),  # renamed after its agent
    ]
    assert state["final"] == "from b"
    assert state["usage"]["a"]["calls"] == 1
    # A plain function reports no tokens: its usage is unknown, not 0.
    assert state["usage"]["a"]["input_tokens"] == 0
    assert state["usage"]["a"].get("unknown_usage_calls") == 1
    assert state["audit"][0]["detail"]["tokens"] is None


def test_single_agent_team() -> None:
    model = ScriptedModel(["only answer"])
    state = (
        create_sequential([Agent("solo", model=model)])
        .compile()
        .invoke({"messages": [("user", "hi")]})
    )
    assert (state["final"], state["stop_reason"]) == ("only answer", "completed")
    assert _seen(model) == [[("HumanMessage", None, "hi")]]


def test_context_policies_across_two_runs() -> None:
    a = ScriptedModel(["a1", "a2"])
    b = ScriptedModel(["b1", "b2"])
    c = ScriptedModel(["c1", "c2"])
    d = ScriptedModel(["d1", "d2"])
    team = create_sequential(
        [
            Agent("a", model=a),  # the team default, "last"
            Agent("b", model=b, context="full"),
            Agent("c", model=c, context=Window(2)),
            Agent("d", model=d, context="own"),
        ]
    ).compile(checkpointer=InMemorySaver())
    config = _thread()
    first = team.invoke({"messages": [("user", "T1")]}, config)
    second = team.invoke({"messages": [("user", "T2")]}, config)
    assert (first["final"], second["final"]) == ("d1", "d2")

    # Each run's task is its own input: the latest user message of the thread.
    task = ("HumanMessage", None, "T1")
    task2 = ("HumanMessage", None, "T2")
    assert _seen(a) == [[task], [task2]]
    assert _seen(b) == [
        [task, ("HumanMessage", "a", "a1")],
        [
            task,
            ("HumanMessage", "a", "a1"),
            ("AIMessage", "b", "b1"),  # its own turn stays an assistant message
            ("HumanMessage", "c", "c1"),
            ("HumanMessage", "d", "d1"),
            ("HumanMessage", None, "T2"),
            ("HumanMessage", "a", "a2"),
        ],
    ]
    assert _seen(c) == [
        [task, ("HumanMessage", "a", "a1"), ("HumanMessage", "b", "b1")],
        [task2, ("HumanMessage", "a", "a2"), ("HumanMessage", "b", "b2")],
    ]
    assert _seen(d) == [
        [task, ("HumanMessage", "c", "c1")],
        [("AIMessage", "d", "d1"), task2, ("HumanMessage", "c", "c2")],
    ]
    for model in (a, b, c, d):
        model.assert_complete()


def test_team_context_default_applies_to_agents_without_one() -> None:
    a = ScriptedModel(["a1"])
    b = ScriptedModel(["b1"])
    c = ScriptedModel(["c1"])
    team = create_sequential(
        [Agent("a", model=a), Agent("b", model=b), Agent("c", model=c, context="last")],
        context="full",
    ).compile()
    team.invoke({"messages": [("user", "T")]})
    assert _seen(b) == [[("HumanMessage", None, "T"), ("HumanMessage", "a", "a1")]]
    assert _seen(c) == [[("HumanMessage", None, "T"), ("HumanMessage", "b", "b1")]]


# --- 9. several runs on one thread -----------------------------------------------------


def test_multi_run_thread_resets_final_and_keeps_the_audit() -> None:
    writer = ScriptedModel(["w1", "w2"])
    editor = ScriptedModel(["e1", "e2"])
    team = create_sequential(
        [Agent("writer", model=writer), Agent("editor", model=editor, approval="after")]
    ).compile(checkpointer=InMemorySaver())
    config = _thread()

    team.invoke({"messages": [("user", "first")]}, config)
    first = team.invoke(Command(resume={"action": "approve"}), config)
    assert (first["final"], first["stop_reason"]) == ("e1", "completed")

    paused = team.invoke({"messages": [("user", "second")]}, config)
    # The new run has not ended: the previous run's answer is not reported as this one's.
    assert "__interrupt__" in paused
    assert (paused["final"], paused["stop_reason"]) == (None, None)

    second = team.invoke(Command(resume={"action": "approve", "reviewer": "bo"}), config)
    assert (second["final"], second["stop_reason"]) == ("e2", "completed")
    assert second["audit"][: len(first["audit"])] == first["audit"]
    assert _audit(second) == [
        ("turn", "writer"),
        ("turn", "editor"),
        ("approval", "editor"),
        ("termination", None),
        ("turn", "writer"),
        ("turn", "editor"),
        ("approval", "editor"),
        ("termination", None),
    ]
    assert second["audit"][6]["detail"]["reviewer"] == "bo"
    assert [u["calls"] for u in second["usage"].values()] == [2, 2]
    # The second run's first step answers the new message.
    assert _seen(writer)[1][-1] == ("HumanMessage", None, "second")
    writer.assert_complete()
    editor.assert_complete()


def test_multi_run_stop_before_any_output_reports_no_stale_answer() -> None:
    team = create_sequential(
        [Agent("a", runnable=_echo("a"), approval="before"), Agent("b", runnable=_echo("b"))]
    ).compile(checkpointer=InMemorySaver())
    config = _thread()
    team.invoke({"messages": [("user", "one")]}, config)
    first = team.invoke(Command(resume={"action": "approve"}), config)
    assert (first["final"], first["stop_reason"]) == ("b(a(one))", "completed")

    team.invoke({"messages": [("user", "two")]}, config)
    second = team.invoke(Command(resume={"action": "reject", "feedback": "not now"}), config)
    # Nothing was produced in this run: no answer, not the previous run's.
    assert (second["final"], second["stop_reason"]) == (None, "rejected")
    assert _audit(second)[-2:] == [("approval", "a"), ("termination", None)]

    team.invoke({"messages": [("user", "three")]}, config)
    third = team.invoke(Command(resume={"action": "approve"}), config)
    assert (third["final"], third["stop_reason"]) == ("b(a(three))", "completed")


# --- 6. factory validation -------------------------------------------------------------


class _Partial(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    final: str | None


class _PartialModel(BaseModel):
    messages: Annotated[list[AnyMessage], add_messages]
    audit: list[AuditRecord] = Field(default_factory=list)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"agents": []}, "sequential needs at least one agent, got none"),
        (
            {"agents": [Agent("a", runnable=_echo("a")), Agent("a", runnable=_echo("a"))]},
            "Duplicate agent name 'a' in sequential: names must be unique",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a")), "b"]},
            "sequential agents[1] is a str, not an Agent: wrap it as "
            "Agent('name', runnable=...) or Agent('name', model=...)",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a"))], "max_revisions": -1},
            "max_revisions must be a whole number >= 0, got -1",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a"))], "max_revisions": True},
            "max_revisions must be a whole number >= 0, got True",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a"))], "context": "everything"},
            "Invalid context 'everything' for sequential: use 'full', 'last', 'own', "
            "Window(k), TokenBudget(n), Summary(model, keep_last=k) or a callable "
            "state -> list[BaseMessage]",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a"))], "state_schema": _Partial},
            "sequential state_schema _Partial lacks the keys ['audit', 'exceptions', "
            "'round', 'run', 'run_usage', 'stop_reason', 'usage']: extend SequentialState "
            "(or declare them with the same reducers)",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a"))], "state_schema": _PartialModel},
            "sequential state_schema _PartialModel lacks the keys ['exceptions', 'final', "
            "'round', 'run', 'run_usage', 'stop_reason', 'usage']: extend SequentialState "
            "(or declare them with the same reducers)",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a"))], "state_schema": {"messages": list}},
            "sequential state_schema must be a TypedDict or pydantic model class, got "
            "{'messages': <class 'list'>}",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a"))], "validators": {"z": bool}},
            "Validators given for unknown agent 'z'; known agents: ['a']",
        ),
        (
            {"agents": [Agent("a", runnable=_echo("a"))], "prices": {"m": 1.0}},
            "Price for model 'm' must be a ModelPrice(input_per_mtok, output_per_mtok), got 1.0",
        ),
    ],
    ids=[
        "empty",
        "duplicate",
        "not-an-agent",
        "negative-revisions",
        "bool-revisions",
        "context",
        "typeddict-missing-keys",
        "pydantic-missing-keys",
        "schema-not-a-class",
        "validator-unknown-agent",
        "price",
    ],
)
def test_factory_refuses_bad_input(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TeamConfigError, match=re.escape(message)) as caught:
        create_sequential(**kwargs)
    assert str(caught.value) == message


def test_concurrent_bad_team_context_names_no_phantom_agent() -> None:
    with pytest.raises(TeamConfigError) as caught:
        create_concurrent([Agent("a", runnable=_echo("a"))], context="everything")  # type: ignore[arg-type]
    assert "for agent 'agent'" not in str(caught.value)


# --- 8. user state schemas -------------------------------------------------------------


def _briefed(state: Mapping[str, Any]) -> list[BaseMessage]:
    """A custom context that reads the user's own state key."""
    return [HumanMessage(f"Brief: {state['brief']}"), state["messages"][-1]]


class BriefState(SequentialState):
    brief: str


class BriefModelState(BaseModel):
    messages: Annotated[list[AnyMessage], add_messages]
    audit: Annotated[list[AuditRecord], append] = Field(default_factory=list)
    exceptions: Annotated[list[ExceptionRecord], add_exceptions] = Field(default_factory=list)
    usage: Annotated[dict[str, Usage], add_usage] = Field(default_factory=dict)
    run_usage: Annotated[dict[str, Usage], add_usage] = Field(default_factory=dict)
    run: RunStart | None = None
    round: Annotated[int, add_count] = 0
    final: str | None = None
    stop_reason: str | None = None
    brief: str = ""


@pytest.mark.parametrize("schema", [BriefState, BriefModelState], ids=["typeddict", "pydantic"])
def test_user_state_schema_runs_with_a_gate(schema: type[Any]) -> None:
    writer = ScriptedModel(["draft 1", "draft 2"])
    editor = ScriptedModel([ValueError("flaky"), "final text"])
    team = create_sequential(
        [
            Agent("writer", model=writer, context=_briefed, approval="after"),
            Agent("editor", model=editor, on_error="escalate"),
        ],
        state_schema=schema,
        max_revisions=1,
    ).compile(checkpointer=InMemorySaver())
    config = _thread()

    paused = team.invoke({"messages": [("user", "task")], "brief": "be short"}, config)
    assert paused["__interrupt__"][0].value["content"] == "draft 1"
    assert _seen(writer) == [
        [("HumanMessage", None, "Brief: be short"), ("HumanMessage", None, "task")]
    ]
    paused = team.invoke(Command(resume={"action": "reject", "feedback": "shorter"}), config)
    assert paused["__interrupt__"][0].value["content"] == "draft 2"
    assert paused["__interrupt__"][0].value["revision"] == 1
    paused = team.invoke(Command(resume={"action": "approve"}), config)
    assert paused["__interrupt__"][0].value["type"] == "exception"
    state = team.invoke(Command(resume={"action": "retry"}), config)

    assert state["brief"] == "be short"
    assert (state["final"], state["stop_reason"]) == ("final text", "completed")
    assert _audit(state) == [
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
    assert set(state["usage"]) == {"writer", "editor"}
    assert state["usage"]["writer"]["calls"] == 2
    assert (
        _seen(editor)
        == [[("HumanMessage", None, "task"), ("HumanMessage", "writer", "draft 2")]] * 2
    )
    saved = team.get_state(config).values
    assert saved["brief"] == "be short" and saved["final"] == "final text"
    writer.assert_complete()
    editor.assert_complete()


def test_a_team_without_gates_or_failure_routes_draws_no_finalize_node() -> None:
    plain = create_sequential([Agent("a", runnable=lambda m: "x"), Agent("b", runnable=len)])
    gated = create_sequential([Agent("a", runnable=lambda m: "x", approval="after")])
    assert "finalize" not in plain.compile().get_graph().nodes
    assert "finalize" in gated.compile().get_graph().nodes
