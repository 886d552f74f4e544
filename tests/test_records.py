"""Records as contracts: typed outputs, permissions, preconditions, conflicts, provenance."""

from __future__ import annotations

import json
import operator
import os
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NotRequired
from unittest.mock import ANY

import pytest
from conformance.registry import CASES, PatternCase
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel, ValidationError

from langgraph_orchestra import (
    Agent,
    ConcurrentState,
    GroupChatState,
    HandoffState,
    PlannerExecutorState,
    SequentialState,
    create_concurrent,
    create_group_chat,
    create_handoff,
    create_planner_executor,
    create_sequential,
    open_checkpointer,
)
from langgraph_orchestra.errors import DecisionError, RecordWriteError, SpecError, TeamConfigError
from langgraph_orchestra.prompts import RECORD_ITEM, RECORD_OUTPUT, RECORD_VIEW, Prompts
from langgraph_orchestra.records import RECORD
from langgraph_orchestra.spec import build_team, load_spec
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import drive, field_history, read_thread


class Lead(BaseModel):
    """A qualified lead."""

    score: int
    reason: str
    owner: str | None = None


class LeadState(SequentialState):
    score: NotRequired[int]
    reason: NotRequired[str]
    owner: NotRequired[str | None]
    booking: NotRequired[str]


class Opinion(BaseModel):
    """An answer with how sure its author is."""

    answer: str
    confidence: float
    reason: str


class Owner(BaseModel):
    """Who owns the lead."""

    owner: str


class Branches(ConcurrentState):
    owner: NotRequired[str]
    tags: NotRequired[Annotated[list[str], operator.add]]


class Tags(BaseModel):
    """Tags for the lead."""

    tags: list[str]


def _config(thread: str = "t") -> Any:
    return {"configurable": {"thread_id": thread}}


def _seen(log: list[list[BaseMessage]], answer: str = "booked") -> Callable[..., str]:
    def run(messages: list[BaseMessage]) -> str:
        log.append(list(messages))
        return answer

    return run


def _writes(state: dict[str, Any]) -> list[tuple[str | None, Any, Any, Any]]:
    return [
        (r["agent"], r["detail"]["field"], r["detail"]["old"], r["detail"]["new"])
        for r in state["audit"]
        if r["kind"] == "write"
    ]


def _qualifier(owner: str | None = "ana", **kwargs: Any) -> Agent:
    model = ScriptedModel([{"score": 8, "reason": "budget approved", "owner": owner}])
    return Agent("qualifier", model=model, output=Lead, **kwargs)


# -- typed outputs, reads, provenance ---------------------------------------------------


def test_typed_output_writes_its_fields_with_provenance_in_order() -> None:
    seen: list[list[BaseMessage]] = []
    booker = Agent(
        "booker", runnable=_seen(seen), requires=["score", "reason", "owner"], reads=["owner"]
    )
    team = create_sequential([_qualifier(), booker], state_schema=LeadState)
    state = team.compile().invoke({"messages": [("user", "Lead: ACME, 40 seats")]})

    assert (state["score"], state["reason"], state["owner"]) == (8, "budget approved", "ana")
    rendered = RECORD_OUTPUT.format(
        name="qualifier",
        fields="\n".join(
            RECORD_ITEM.format(field=f, value=v)
            for f, v in (("score", 8), ("reason", "budget approved"), ("owner", "ana"))
        ),
    )
    assert state["messages"][1].text == rendered
    assert state["messages"][1].name == "qualifier"
    assert _writes(state) == [
        ("qualifier", "score", None, 8),
        ("qualifier", "reason", None, "budget approved"),
        ("qualifier", "owner", None, "ana"),
    ]
    kinds = [(r["kind"], r["agent"]) for r in state["audit"]]
    assert kinds.index(("turn", "qualifier")) < kinds.index(("write", "qualifier"))
    assert kinds.index(("write", "qualifier")) < kinds.index(("turn", "booker"))
    # reads: the booker sees the owner rendered at the top of its context.
    first = seen[0][0]
    assert isinstance(first, HumanMessage) and first.name == RECORD
    assert first.text == RECORD_VIEW.format(fields=RECORD_ITEM.format(field="owner", value="ana"))
    assert state["final"] == "booked"


def test_a_second_write_records_the_old_value() -> None:
    class Reowner(BaseModel):
        owner: str

    class OneOwner(SequentialState):
        owner: NotRequired[Annotated[str, lambda old, new: new]]

    first = Agent("first", model=ScriptedModel([{"owner": "ana"}]), output=Reowner)
    second = Agent("second", model=ScriptedModel([{"owner": "bo"}]), output=Reowner)
    state = (
        create_sequential([first, second], state_schema=OneOwner)
        .compile()
        .invoke({"messages": [("user", "x")]})
    )
    assert state["owner"] == "bo"
    # A reducer's channel starts from the type's empty value: that is the old value.
    assert _writes(state) == [("first", "owner", "", "ana"), ("second", "owner", "ana", "bo")]
    stamps = [r["ts"] for r in state["audit"] if r["kind"] == "write"]
    assert stamps == sorted(stamps)


def test_a_team_renders_the_record_with_its_own_prompts() -> None:
    prompts = Prompts(record_view="Known facts:\n{fields}", record_item="* {field} = {value}")
    seen: list[list[BaseMessage]] = []
    booker = Agent("booker", runnable=_seen(seen), reads=["score", "owner"])
    team = create_sequential([_qualifier(), booker], state_schema=LeadState, prompts=prompts)
    state = team.compile().invoke({"messages": [("user", "Lead: ACME")]})
    assert seen[0][0].text == "Known facts:\n* score = 8\n* owner = ana"
    assert state["messages"][1].text == (
        "qualifier recorded:\n* score = 8\n* reason = budget approved\n* owner = ana"
    )
    # A fan-out's branches, and an agent run again on fields a person supplied, too.
    reader = Agent("reader", runnable=_seen(seen), reads=["owner"])
    fanout = create_concurrent([reader], state_schema=Branches, prompts=prompts).compile()
    fanout.invoke({"messages": [("user", "x")], "owner": "bo"})
    assert seen[1][0].text == "Known facts:\n* owner = bo"
    book = Agent(
        "booker", runnable=_seen(seen), requires=["owner"], reads=["owner"], on_error="escalate"
    )
    gated = create_sequential(
        [_qualifier(owner=None), book], state_schema=LeadState, prompts=prompts
    ).compile(checkpointer=InMemorySaver())
    gated.invoke({"messages": [("user", "Lead: ACME?")]}, _config())
    gated.invoke(Command(resume={"action": "supply", "fields": {"owner": "cy"}}), _config())
    assert seen[2][0].text == "Known facts:\n* owner = cy"


# -- permissions ----------------------------------------------------------------------


def test_structured_write_outside_writes_raises_and_applies_nothing() -> None:
    agent = _qualifier(writes=["score"])
    team = create_sequential([agent], state_schema=LeadState).compile(checkpointer=InMemorySaver())
    with pytest.raises(RecordWriteError) as caught:
        team.invoke({"messages": [("user", "x")]}, _config())
    assert str(caught.value) == (
        "Agent 'qualifier' wrote the fields ['owner', 'reason'] outside its writes "
        "['score']: refused, nothing of the turn applied"
    )
    values = team.get_state(_config()).values
    assert "score" not in values and "owner" not in values
    assert [m.type for m in values["messages"]] == ["human"]


def test_nested_team_write_outside_writes_is_an_exception_and_state_unchanged() -> None:
    inner = create_sequential(
        [Agent("assigner", model=ScriptedModel([{"owner": "eve"}]), output=Owner)],
        state_schema=LeadState,
    ).compile()
    meddler = Agent("meddler", runnable=inner, writes=["score"], on_error="continue")
    after = Agent("after", runnable=lambda m: "done")
    state = (
        create_sequential([meddler, after], state_schema=LeadState)
        .compile()
        .invoke({"messages": [("user", "x")]})
    )
    assert "owner" not in state
    assert [m.name for m in state["messages"]] == [None, "after"]
    (failure,) = state["exceptions"]
    assert failure["agent"] == "meddler"
    assert failure["error_type"] == "RecordWriteError"
    assert failure["status"] == "continued"
    assert failure["values"] == {"meddler": {"owner": "eve"}}
    assert _writes(state) == []


def test_tool_write_through_command_outside_writes_is_refused() -> None:
    @tool
    def assign(owner: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> Command[Any]:
        """Assign the lead."""
        message = ToolMessage("assigned", tool_call_id=tool_call_id)
        return Command(update={"owner": owner, "messages": [message]})

    call = {"name": "assign", "args": {"owner": "mallory"}, "id": "c1"}
    model = ScriptedModel([AIMessage("", tool_calls=[call]), AIMessage("assigned it")])
    agent = Agent("tooler", model=model, tools=[assign], writes=["score"], on_error="continue")
    state = (
        create_sequential([agent], state_schema=LeadState)
        .compile()
        .invoke({"messages": [("user", "x")]})
    )
    assert "owner" not in state
    (failure,) = state["exceptions"]
    assert failure["values"] == {"tooler": {"owner": "mallory"}}
    assert failure["error"] == (
        "Agent 'tooler' wrote the fields ['owner'] outside its writes ['score']: refused, "
        "nothing of the turn applied"
    )


def test_tool_write_within_writes_is_applied() -> None:
    @tool
    def assign(owner: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> Command[Any]:
        """Assign the lead."""
        message = ToolMessage("assigned", tool_call_id=tool_call_id)
        return Command(update={"owner": owner, "messages": [message]})

    call = {"name": "assign", "args": {"owner": "ana"}, "id": "c1"}
    model = ScriptedModel([AIMessage("", tool_calls=[call]), AIMessage("assigned it")])
    agent = Agent("tooler", model=model, tools=[assign], writes=["owner"])
    state = (
        create_sequential([agent], state_schema=LeadState)
        .compile()
        .invoke({"messages": [("user", "x")]})
    )
    assert state["owner"] == "ana"
    assert _writes(state) == [("tooler", "owner", None, "ana")]


# -- preconditions --------------------------------------------------------------------


def _pipeline(booker_log: list[list[BaseMessage]], **booker: Any) -> Any:
    book = Agent(
        "booker",
        runnable=_seen(booker_log),
        requires=["score", "reason", "owner"],
        reads=["owner"],
        on_error="escalate",
        **booker,
    )
    team = create_sequential([_qualifier(owner=None), book], state_schema=LeadState)
    return team.compile(checkpointer=InMemorySaver())


def test_missing_fields_go_to_the_exception_queue_and_supplied_fields_let_the_agent_run() -> None:
    seen: list[list[BaseMessage]] = []
    team = _pipeline(seen)
    state = team.invoke({"messages": [("user", "Lead: ACME?")]}, _config())
    assert seen == []
    (failure,) = state["exceptions"]
    assert failure["agent"] == "booker"
    assert failure["status"] == "open"
    assert failure["missing"] == ["owner"]
    assert failure["error"] == (
        "Agent 'booker' requires the fields ['owner'], missing from the record: supply "
        "them or skip the agent"
    )
    (pause,) = state["__interrupt__"]
    assert pause.value["missing"] == ["owner"]
    assert pause.value["error_type"] == "PreconditionError"

    # A value of the wrong type is refused by the decision's schema; nothing changes.
    with pytest.raises(ValidationError):
        team.invoke(
            Command(resume={"action": "supply", "fields": {"owner": ["a", "b"]}}), _config()
        )
    assert team.get_state(_config()).values.get("owner") is None

    state = team.invoke(
        Command(resume={"action": "supply", "fields": {"owner": "ana"}, "reviewer": "sam"}),
        _config(),
    )
    assert state["owner"] == "ana"
    assert state["final"] == "booked" and state["stop_reason"] == "completed"
    assert len(seen) == 1
    assert seen[0][0].text == RECORD_VIEW.format(
        fields=RECORD_ITEM.format(field="owner", value="ana")
    )
    assert _writes(state)[-1] == ("booker", "owner", None, "ana")
    supplied = [r for r in state["audit"] if r["kind"] == "write"][-1]
    assert supplied["detail"]["by"] == "sam"
    assert state["exceptions"][-1]["status"] == "supplied"


def test_skip_leaves_the_agent_unrun() -> None:
    seen: list[list[BaseMessage]] = []
    team = _pipeline(seen)
    team.invoke({"messages": [("user", "Lead: ACME?")]}, _config())
    state = team.invoke(Command(resume={"action": "skip"}), _config())
    assert seen == []
    assert state["exceptions"][-1]["status"] == "skipped"
    assert state.get("booking") is None


def test_predicate_precondition() -> None:
    def hot(record: Any) -> bool:
        return bool(record.get("score", 0) >= 9)

    book = Agent("booker", runnable=lambda m: "booked", requires=hot, on_error="continue")
    state = (
        create_sequential([_qualifier(), book], state_schema=LeadState)
        .compile()
        .invoke({"messages": [("user", "x")]})
    )
    (failure,) = state["exceptions"]
    assert failure["missing"] == []
    assert failure["error"] == (
        "Agent 'booker' requires a record that hot accepts; it refused ['owner', 'reason', 'score']"
    )
    assert [m.name for m in state["messages"]] == [None, "qualifier"]


# -- build-time checks ----------------------------------------------------------------


def test_a_field_the_schema_lacks_is_refused() -> None:
    class Bare(SequentialState):
        score: NotRequired[int]
        reason: NotRequired[str]

    with pytest.raises(TeamConfigError) as caught:
        create_sequential([_qualifier()], state_schema=Bare)
    assert str(caught.value) == (
        "sequential: agent 'qualifier' writes field 'owner', which state_schema Bare lacks: "
        "declare 'owner: str | None' in a schema extending the pattern's state and pass it "
        "as state_schema="
    )


def test_a_field_of_another_type_is_refused() -> None:
    class Wrong(SequentialState):
        score: NotRequired[str]
        reason: NotRequired[str]
        owner: NotRequired[str | None]

    with pytest.raises(TeamConfigError) as caught:
        create_sequential([_qualifier()], state_schema=Wrong)
    assert str(caught.value) == (
        "sequential: agent 'qualifier' writes field 'score' as int (its output Lead), but "
        "state_schema Wrong declares it as str: make the types agree"
    )


def test_two_owners_need_a_reducer() -> None:
    a = Agent("a", model=ScriptedModel([]), output=Owner)
    b = Agent("b", model=ScriptedModel([]), output=Owner)
    with pytest.raises(TeamConfigError) as caught:
        create_sequential([a, b], state_schema=LeadState)
    assert str(caught.value) == (
        "sequential: field 'owner' is written by agents ['a', 'b']: a field has one owner "
        "unless state_schema LeadState gives it a reducer (Annotated[..., reducer]) saying "
        "how writes combine"
    )

    class Reduced(SequentialState):
        owner: NotRequired[Annotated[str, lambda old, new: new]]

    create_sequential([a, b], state_schema=Reduced)  # the reducer says how writes combine


def test_reads_and_requires_are_checked_and_agent_arguments_validated() -> None:
    with pytest.raises(TeamConfigError) as caught:
        create_sequential(
            [Agent("b", runnable=lambda m: "x", requires=["budget"])], state_schema=LeadState
        )
    assert "agent 'b' requires field 'budget', which state_schema LeadState lacks" in str(
        caught.value
    )
    with pytest.raises(TeamConfigError, match="output must be a pydantic model class"):
        Agent("a", runnable=lambda m: "x", output=dict)  # type: ignore[arg-type]
    with pytest.raises(TeamConfigError, match="writes must be a list of field names"):
        Agent("a", runnable=lambda m: "x", writes="score")
    with pytest.raises(TeamConfigError, match="names 'messages', a field the library keeps"):
        Agent("a", runnable=lambda m: "x", reads=["messages"])


# -- conflicts in a fan-out -----------------------------------------------------------


def _owners(on_conflict: Any) -> Any:
    a = Agent("a", model=ScriptedModel([{"owner": "ana"}]), output=Owner)
    b = Agent("b", model=ScriptedModel([{"owner": "bo"}]), output=Owner)
    return create_concurrent([a, b], state_schema=Branches, on_conflict=on_conflict).compile(
        checkpointer=InMemorySaver()
    )


@pytest.mark.parametrize(("mode", "winner"), [("first", "a"), ("last", "b")])
def test_conflict_by_team_order(mode: str, winner: str) -> None:
    state = _owners(mode).invoke({"messages": [("user", "who owns it?")]}, _config())
    value = {"a": "ana", "b": "bo"}[winner]
    assert state["owner"] == value
    (conflict,) = state["exceptions"]
    assert conflict["error_type"] == "RecordConflict"
    assert conflict["field"] == "owner"
    assert conflict["values"] == {"a": "ana", "b": "bo"}
    assert conflict["resolution"] == {"action": mode, "agent": winner}
    assert conflict["status"] == "continued"
    assert _writes(state) == [(winner, "owner", None, value)]


def test_conflict_escalates_to_a_person_who_picks() -> None:
    team = _owners("escalate")
    state = team.invoke({"messages": [("user", "who owns it?")]}, _config())
    (pause,) = state["__interrupt__"]
    assert pause.value["type"] == "conflict"
    assert pause.value["values"] == {"a": "ana", "b": "bo"}
    assert "owner" not in state
    # The conflict waits in the exception queue with both values.
    (waiting,) = state["exceptions"]
    assert (waiting["id"], waiting["status"]) == (pause.value["exception_id"], "open")
    assert (waiting["field"], waiting["values"]) == ("owner", {"a": "ana", "b": "bo"})
    assert waiting["error"] == "Branches ['a', 'b'] wrote different values to field 'owner'"
    assert team.get_state(_config()).next == ("settle",)
    with pytest.raises(ValidationError):
        team.invoke(Command(resume={"action": "pick", "agent": "zed"}), _config())
    state = team.invoke(Command(resume={"action": "pick", "agent": "b"}), _config())
    assert state["owner"] == "bo"
    (conflict,) = state["exceptions"]
    assert conflict["id"] == pause.value["exception_id"]
    assert conflict["status"] == "supplied"
    assert conflict["resolution"] == {"action": "pick", "agent": "b", "reviewer": "human"}
    assert _writes(state) == [("b", "owner", None, "bo")]


def test_conflict_escalated_value_of_a_persons_own() -> None:
    team = _owners("escalate")
    team.invoke({"messages": [("user", "who owns it?")]}, _config())
    state = team.invoke(Command(resume={"action": "supply", "value": "cy"}), _config())
    assert state["owner"] == "cy"
    assert _writes(state) == [("human", "owner", None, "cy")]


def test_a_reducer_combines_branch_writes_without_conflict() -> None:
    a = Agent("a", model=ScriptedModel([{"tags": ["hot"]}]), output=Tags)
    b = Agent("b", model=ScriptedModel([{"tags": ["smb"]}]), output=Tags)
    state = (
        create_concurrent([a, b], state_schema=Branches)
        .compile()
        .invoke({"messages": [("user", "tag it")]})
    )
    assert state["tags"] == ["hot", "smb"]
    assert state.get("exceptions", []) == []


def test_equal_values_are_no_conflict() -> None:
    a = Agent("a", model=ScriptedModel([{"owner": "ana"}]), output=Owner)
    b = Agent("b", model=ScriptedModel([{"owner": "ana"}]), output=Owner)
    state = (
        create_concurrent([a, b], state_schema=Branches)
        .compile()
        .invoke({"messages": [("user", "who?")]})
    )
    assert state["owner"] == "ana"
    assert state.get("exceptions", []) == []


# -- aggregation by confidence ----------------------------------------------------------


def _opinions(*answers: tuple[str, float], **options: Any) -> Any:
    agents = [
        Agent(
            f"r{i}",
            model=ScriptedModel([{"answer": a, "confidence": c, "reason": f"because {i}"}]),
            output=Opinion,
            writes=(),
        )
        for i, (a, c) in enumerate(answers)
    ]
    return create_concurrent(agents, **options).compile(checkpointer=InMemorySaver())


def _text(name: str, answer: str, confidence: float, reason: str) -> str:
    items = (("answer", answer), ("confidence", confidence), ("reason", reason))
    fields = "\n".join(RECORD_ITEM.format(field=f, value=v) for f, v in items)
    return RECORD_OUTPUT.format(name=name, fields=fields)


def test_confidence_takes_the_most_confident_answer() -> None:
    team = _opinions(("yes", 0.4), ("no", 0.9), ("yes", 0.3), aggregator="confidence")
    state = team.invoke({"messages": [("user", "ship?")]}, _config())
    assert state["final"] == _text("r1", "no", 0.9, "because 1")
    record = [r for r in state["audit"] if r["detail"].get("decision") == "aggregate"][-1]
    assert record["detail"]["winner"] == "r1"
    assert record["detail"]["share"] == pytest.approx(0.9 / 1.6, abs=1e-6)


def test_vote_weighs_by_confidence() -> None:
    # Two weak "yes" (0.2 + 0.3) lose to one sure "no" (0.9); unweighted, "yes" would win.
    team = _opinions(("yes", 0.2), ("no", 0.9), ("yes", 0.3), aggregator="vote")
    state = team.invoke({"messages": [("user", "ship?")]}, _config())
    assert state["final"] == _text("r1", "no", 0.9, "because 1")


def test_disagreement_escalates_with_every_answer_and_reason() -> None:
    team = _opinions(("yes", 0.6), ("no", 0.5), aggregator="vote", on_disagreement="escalate")
    state = team.invoke({"messages": [("user", "ship?")]}, _config())
    (pause,) = state["__interrupt__"]
    assert pause.value["type"] == "disagreement"
    assert pause.value["leader"] == "r0"
    assert pause.value["answers"] == [
        {
            "agent": "r0",
            "answer": _text("r0", "yes", 0.6, "because 0"),
            "confidence": 0.6,
            "reason": "because 0",
        },
        {
            "agent": "r1",
            "answer": _text("r1", "no", 0.5, "because 1"),
            "confidence": 0.5,
            "reason": "because 1",
        },
    ]
    state = team.invoke(Command(resume={"action": "pick", "agent": "r1"}), _config())
    assert state["final"] == _text("r1", "no", 0.5, "because 1")
    assert state["stop_reason"] == "completed"
    record = [r for r in state["audit"] if r["detail"].get("decision") == "disagreement"][-1]
    assert (record["detail"]["action"], record["detail"]["picked"]) == ("pick", "r1")


def test_disagreement_threshold() -> None:
    # The leader's share is 0.9 / 1.0: above a 0.8 threshold nobody is asked.
    calm = _opinions(("yes", 0.9), ("no", 0.1), aggregator="confidence", on_disagreement=0.8)
    state = calm.invoke({"messages": [("user", "ship?")]}, _config())
    assert "__interrupt__" not in state and state["final"] == _text("r0", "yes", 0.9, "because 0")
    # 0.6 / 1.1 is below 0.8: a person decides, and may answer themselves.
    split = _opinions(("yes", 0.6), ("no", 0.5), aggregator="confidence", on_disagreement=0.8)
    state = split.invoke({"messages": [("user", "ship?")]}, _config())
    assert state["__interrupt__"][0].value["share"] == pytest.approx(0.6 / 1.1, abs=1e-6)
    state = split.invoke(Command(resume={"action": "supply", "content": "wait"}), _config())
    assert state["final"] == "wait"


def test_confidence_aggregation_arguments_are_checked() -> None:
    plain = Agent("p", runnable=lambda m: "x")
    with pytest.raises(TeamConfigError) as caught:
        create_concurrent([plain], aggregator="confidence")
    assert str(caught.value) == (
        "aggregator='confidence' needs every branch to answer in a typed output with a "
        "'confidence' field; these do not: ['p']"
    )
    with pytest.raises(TeamConfigError, match="on_disagreement needs aggregator='vote'"):
        create_concurrent([plain], on_disagreement="escalate")
    with pytest.raises(TeamConfigError, match=r"on_disagreement=1.5: give 'escalate'"):
        create_concurrent([plain], aggregator="vote", on_disagreement=1.5)
    with pytest.raises(TeamConfigError, match=r"on_conflict='random': allowed"):
        create_concurrent([plain], on_conflict="random")  # type: ignore[arg-type]


# -- group chat -----------------------------------------------------------------------


def test_group_chat_agents_write_and_require_fields() -> None:
    class ChatLead(GroupChatState):
        score: NotRequired[int]
        reason: NotRequired[str]
        owner: NotRequired[str | None]

    seen: list[list[BaseMessage]] = []
    booker = Agent("booker", runnable=_seen(seen), requires=["owner"], reads=["score"])
    team = create_group_chat(
        [_qualifier(), booker], selector="round_robin", max_rounds=2, state_schema=ChatLead
    )
    state = team.compile().invoke({"messages": [("user", "Lead: ACME")]})
    assert (state["score"], state["owner"]) == (8, "ana")
    assert seen[0][0].name == RECORD
    assert _writes(state)[0] == ("qualifier", "score", None, 8)
    assert state["final"] == "booked"


# -- team files, the CLI, resume in another process ------------------------------------

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "records.yaml"


def test_team_file_declares_outputs_writes_reads_and_requires() -> None:
    spec = load_spec(EXAMPLE)
    qualifier = spec.agents[1]
    assert qualifier.output is not None
    assert {n: f.annotation for n, f in qualifier.output.model_fields.items()} == {
        "score": int,
        "reason": str,
        "owner": str | None,
    }
    assert qualifier.reads == ("contact",)
    assert spec.agents[2].requires == ("score", "reason", "owner")
    assert spec.example_fields == {"owner": "dana"}


def test_team_file_field_types_are_checked(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("output: {meeting: str}", "output: {meeting: text}")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(bad)
    assert str(caught.value) == (
        f"{bad}: agents[2].output: field 'meeting': 'text' is not a type; allowed: str, "
        "int, float, bool, list[str], each optionally '| None'"
    )


def test_lead_pipeline_example_resumes_in_another_process(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    config: Any = {"configurable": {"thread_id": "lead-1"}}
    spec = load_spec(EXAMPLE)
    with open_checkpointer(f"sqlite:///{db}") as saver:
        team = build_team(spec).compile(checkpointer=saver)
        paused = team.invoke({"messages": [("user", str(spec.example_input))]}, config)
    (pause,) = paused["__interrupt__"]
    assert (pause.value["agent"], pause.value["missing"]) == ("booker", ["owner"])
    assert paused["owner"] is None and paused["score"] == 72

    script = textwrap.dedent(
        f"""
        import json
        from langgraph.types import Command
        from langgraph_orchestra import open_checkpointer
        from langgraph_orchestra.spec import build_team, load_spec
        from langgraph_orchestra.threads import used_replies

        spec = load_spec({str(EXAMPLE)!r})
        config = {{"configurable": {{"thread_id": "lead-1"}}}}
        with open_checkpointer({f"sqlite:///{db}"!r}) as saver:
            team = build_team(spec, consumed=used_replies(saver, "lead-1"))
            app = team.compile(checkpointer=saver)
            decision = {{"action": "supply", "fields": {{"owner": "dana"}}, "reviewer": "kim"}}
            state = app.invoke(Command(resume=decision), config)
        print(json.dumps({{k: state.get(k) for k in ("owner", "meeting", "stop_reason")}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    env["LANGSMITH_TRACING"] = "false"
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "owner": "dana",
        "meeting": "Tuesday 10:00, Jo (jo@acme.example) with dana",
        "stop_reason": "completed",
    }
    with open_checkpointer(f"sqlite:///{db}") as saver:
        info = read_thread(saver, "lead-1")
    assert field_history(info.audit, "owner") == [
        {"ts": ANY, "agent": "qualifier", "old": None, "new": None, "by": "qualifier"},
        {"ts": ANY, "agent": "booker", "old": None, "new": "dana", "by": "kim"},
    ]


def test_orchestra_demo_records_and_show_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from langgraph_orchestra.cli.app import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHESTRA_STORE", raising=False)
    runner = CliRunner()
    demo = runner.invoke(app, ["demo", "records"])
    assert demo.exit_code == 0, demo.output
    assert "auto-supplying the missing fields {'owner': 'dana'}" in demo.output
    assert "run ended: completed" in demo.output
    (thread,) = re.findall(r"orchestra show (\S+) --audit", demo.output)  # one run, one thread
    shown = runner.invoke(app, ["show", thread, "--record", "owner"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines() if line.startswith("│ ")]
    assert [[cell.strip() for cell in row.strip("│").split("│")][2:] for row in rows[-2:]] == [
        ["qualifier", "null", "null"],
        ["demo", "null", '"dana"'],
    ]


# -- every pattern --------------------------------------------------------------------


def _writer(text: str, **fields: Any) -> Callable[[list[BaseMessage]], dict[str, Any]]:
    """A runnable agent answering `text` and setting record `fields` (as a nested team would)."""

    def run(messages: list[BaseMessage]) -> dict[str, Any]:
        return {"messages": [*messages, AIMessage(text)], **fields}

    return run


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_pattern_writes_fields_with_provenance(case: PatternCase) -> None:
    hints = {"score": NotRequired[int], "owner": NotRequired[str]}
    schema = types.new_class(
        f"{case.state.__name__}Record",
        (case.state,),
        {},
        lambda ns: ns.update({"__annotations__": hints}),
    )
    agents = [
        Agent("a", runnable=_writer("A", score=7), writes=["score"]),
        Agent("b", runnable=_writer("B", owner="ana"), writes=["owner"]),
    ]
    team = case.build(agents, state_schema=schema).compile(checkpointer=InMemorySaver())
    state = team.invoke({"messages": [("user", "task")]}, _config())
    assert state["stop_reason"] == case.stop_reason
    assert (state["score"], state["owner"]) == (7, "ana")
    assert sorted(_writes(state)) == [("a", "score", None, 7), ("b", "owner", None, "ana")]
    refused = [
        Agent("a", runnable=_writer("A", owner="eve"), writes=["score"]),
        Agent("b", runnable=_writer("B")),
    ]
    with pytest.raises(RecordWriteError, match=r"wrote the fields \['owner'\] outside"):
        case.build(refused, state_schema=schema).compile().invoke({"messages": [("user", "task")]})


def test_patterns_without_conflict_settling_allow_one_owner_and_some_no_typed_output() -> None:
    class Shared(PlannerExecutorState):
        owner: NotRequired[Annotated[str, lambda old, new: new]]

    class SharedHandoff(HandoffState):
        owner: NotRequired[str]

    a = Agent("a", runnable=_writer("A"), writes=["owner"])
    b = Agent("b", runnable=_writer("B"), writes=["owner"])
    with pytest.raises(TeamConfigError) as caught:
        create_planner_executor([a, b], planner_model=ScriptedModel([]), state_schema=Shared)
    assert str(caught.value) == (
        "planner_executor: field 'owner' is written by agents ['a', 'b']: in a "
        "planner_executor team a field has one owner (its parallel rounds settle no "
        "conflict; a concurrent team does, with on_conflict)"
    )
    typed_agent = Agent("t", model=ScriptedModel([]), output=Owner)
    with pytest.raises(TeamConfigError) as caught:
        create_handoff([typed_agent], entry="t", state_schema=SharedHandoff)
    assert str(caught.value) == (
        "handoff does not take agents with a typed output yet: ['t']; use a sequential, "
        "concurrent or group chat team for them"
    )


def test_an_invalid_typed_answer_is_asked_again_then_fails_into_on_error() -> None:
    bad = {"score": "high", "reason": "r", "owner": "ana"}
    good = {"score": 8, "reason": "r", "owner": "ana"}
    fixed = Agent("qualifier", model=ScriptedModel([bad, good]), output=Lead)
    state = (
        create_sequential([fixed], state_schema=LeadState)
        .compile()
        .invoke({"messages": [("user", "x")]})
    )
    assert state["score"] == 8
    assert state["usage"]["qualifier"]["calls"] == 2

    stubborn = Agent("qualifier", model=ScriptedModel([bad] * 3), output=Lead, on_error="continue")
    state = (
        create_sequential([stubborn], state_schema=LeadState)
        .compile()
        .invoke({"messages": [("user", "x")]})
    )
    assert "score" not in state
    (failure,) = state["exceptions"]
    assert failure["error_type"] == "StructuredOutputError"
    assert state["usage"]["qualifier"]["calls"] == 3


def test_a_person_supplies_a_failed_agents_fields_and_the_run_goes_on() -> None:
    failing = Agent(
        "qualifier",
        model=ScriptedModel([RuntimeError("model down")]),
        output=Lead,
        on_error="escalate",
    )
    seen: list[list[BaseMessage]] = []
    book = Agent("booker", runnable=_seen(seen), requires=["score", "reason", "owner"])
    team = create_sequential([failing, book], state_schema=LeadState).compile(
        checkpointer=InMemorySaver()
    )
    team.invoke({"messages": [("user", "Lead: ACME")]}, _config())
    with pytest.raises(ValidationError, match="fields \\['booking'\\] are not for agent"):
        team.invoke(Command(resume={"action": "supply", "fields": {"booking": "x"}}), _config())
    fields = {"score": 5, "reason": "by hand", "owner": "ana"}
    state = team.invoke(Command(resume={"action": "supply", "fields": fields}), _config())
    assert (state["score"], state["reason"], state["owner"]) == (5, "by hand", "ana")
    assert state["final"] == "booked" and len(seen) == 1
    assert [w[1:] for w in _writes(state)] == [
        ("score", None, 5),
        ("reason", None, "by hand"),
        ("owner", None, "ana"),
    ]
    qualifier_said = [m for m in state["messages"] if m.name == "qualifier"]
    items = (("score", 5), ("reason", "by hand"), ("owner", "ana"))
    assert [m.text for m in qualifier_said] == [
        RECORD_OUTPUT.format(
            name="qualifier",
            fields="\n".join(RECORD_ITEM.format(field=f, value=v) for f, v in items),
        )
    ]


async def test_records_run_async_too() -> None:
    seen: list[list[BaseMessage]] = []
    book = Agent(
        "booker",
        runnable=_seen(seen),
        requires=["score", "reason", "owner"],
        reads=["owner"],
        on_error="escalate",
    )
    team = create_sequential([_qualifier(owner=None), book], state_schema=LeadState).compile(
        checkpointer=InMemorySaver()
    )
    state = await team.ainvoke({"messages": [("user", "Lead: ACME?")]}, _config())
    assert state["__interrupt__"][0].value["missing"] == ["owner"]
    state = await team.ainvoke(
        Command(resume={"action": "supply", "fields": {"owner": "ana"}}), _config()
    )
    assert (state["owner"], state["final"]) == ("ana", "booked")
    assert [w[:2] for w in _writes(state)] == [
        ("qualifier", "score"),
        ("qualifier", "reason"),
        ("qualifier", "owner"),
        ("booker", "owner"),
    ]


def test_record_agents_behind_approval_gates() -> None:
    seen: list[list[BaseMessage]] = []
    qualifier = _qualifier(approval="before")
    booker = Agent(
        "booker",
        runnable=_seen(seen),
        requires=["score", "owner"],
        reads=["owner"],
        approval="after",
    )
    team = create_sequential([qualifier, booker], state_schema=LeadState).compile(
        checkpointer=InMemorySaver()
    )
    state = team.invoke({"messages": [("user", "Lead: ACME")]}, _config())
    assert state["__interrupt__"][0].value["when"] == "before"
    state = team.invoke(Command(resume={"action": "approve"}), _config())
    assert state["owner"] == "ana"
    assert state["__interrupt__"][0].value["when"] == "after"
    # Sent back, the booker runs again: its requires holds on the record it started from.
    state = team.invoke(Command(resume={"action": "reject", "feedback": "later"}), _config())
    assert len(seen) == 2 and seen[1][0].name == RECORD
    state = team.invoke(Command(resume={"action": "approve"}), _config())
    assert state["final"] == "booked" and state["stop_reason"] == "completed"
    assert state.get("exceptions", []) == []
    assert _writes(state) == [
        ("qualifier", "score", None, 8),
        ("qualifier", "reason", None, "budget approved"),
        ("qualifier", "owner", None, "ana"),
    ]


def _reviewed(*answers: dict[str, Any]) -> tuple[Any, list[list[BaseMessage]]]:
    """A qualifier reviewed after its turn, then a booker that requires its fields."""
    seen: list[list[BaseMessage]] = []
    qualifier = Agent(
        "qualifier", model=ScriptedModel(list(answers)), output=Lead, approval="after"
    )
    booker = Agent("booker", runnable=_seen(seen), requires=["score", "owner"], reads=["owner"])
    team = create_sequential([qualifier, booker], state_schema=LeadState)
    return team.compile(checkpointer=InMemorySaver()), seen


def _approved(state: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """Each write's field, who wrote it (a person's edit) and who approved it."""
    return [
        (r["detail"]["field"], r["detail"].get("by"), r["detail"].get("approved_by"))
        for r in state["audit"]
        if r["kind"] == "write"
    ]


def test_a_reviewed_writer_writes_only_the_fields_of_the_accepted_output() -> None:
    cold = {"score": 3, "reason": "no budget", "owner": "ana"}
    team, seen = _reviewed(cold, {"score": 8, "reason": "budget approved", "owner": "bo"})
    state = team.invoke({"messages": [("user", "Lead: ACME")]}, _config())
    (pause,) = state["__interrupt__"]
    assert (pause.value["when"], pause.value["output"]) == ("after", cold)
    assert "score" not in state and _writes(state) == []  # nothing written before review
    rejected = {"action": "reject", "feedback": "check the budget", "reviewer": "kim"}
    state = team.invoke(Command(resume=rejected), _config())
    assert state["__interrupt__"][0].value["revision"] == 1
    assert "score" not in state and _writes(state) == []  # the rejected draft's fields: never
    state = team.invoke(Command(resume={"action": "approve", "reviewer": "kim"}), _config())
    assert (state["score"], state["reason"], state["owner"]) == (8, "budget approved", "bo")
    assert _writes(state) == [
        ("qualifier", "score", None, 8),
        ("qualifier", "reason", None, "budget approved"),
        ("qualifier", "owner", None, "bo"),
    ]
    assert _approved(state) == [
        ("score", None, "kim"),
        ("reason", None, "kim"),
        ("owner", None, "kim"),
    ]
    kinds = [(r["kind"], r["detail"].get("action")) for r in state["audit"]]
    assert kinds.index(("approval", "approve")) < kinds.index(("write", None))
    assert state["final"] == "booked"
    assert seen[0][0].text == RECORD_VIEW.format(
        fields=RECORD_ITEM.format(field="owner", value="bo")
    )


def test_an_edit_of_a_typed_output_is_checked_against_the_output_model() -> None:
    team, seen = _reviewed({"score": 6, "reason": "two regions", "owner": None})
    team.invoke({"messages": [("user", "Lead: ACME?")]}, _config())
    before = team.get_state(_config())
    for bad, problem in (
        (
            "owner: dana",
            "an edit of a typed output is its fields as a JSON object (Lead), not valid JSON: "
            "Expecting value (line 1, column 1)",
        ),
        (
            '{"score": "high", "reason": "two regions"}',
            "the edit is not a valid Lead: score: Input should be a valid integer, unable to "
            "parse string as an integer",
        ),
    ):
        with pytest.raises(DecisionError) as caught:
            drive(team, Command(resume={"action": "edit", "content": bad}), _config())
        assert str(caught.value) == f"the decision was refused: {problem}"
        after = team.get_state(_config())
        assert (after.values, after.interrupts) == (before.values, before.interrupts)
    edit = json.dumps({"score": 6, "reason": "two regions", "owner": "dana"})
    info = drive(
        team, Command(resume={"action": "edit", "content": edit, "reviewer": "kim"}), _config()
    )
    state = dict(info.values)
    assert (state["score"], state["owner"]) == (6, "dana")
    assert _writes(state) == [
        ("qualifier", "score", None, 6),
        ("qualifier", "reason", None, "two regions"),
        ("qualifier", "owner", None, "dana"),
    ]
    assert _approved(state) == [
        ("score", None, "kim"),
        ("reason", None, "kim"),
        ("owner", "kim", None),
    ]
    edited = [m for m in state["messages"] if m.name == "qualifier"]
    assert [m.text for m in edited] == [
        _rendered("qualifier", score=6, reason="two regions", owner="dana")
    ]
    assert field_history(info.audit, "owner")[-1]["by"] == "kim"
    assert state["final"] == "booked" and len(seen) == 1


def test_a_reviewed_branch_may_not_share_a_field_in_a_fan_out() -> None:
    a = Agent("a", model=ScriptedModel([]), output=Owner, approval="after")
    b = Agent("b", model=ScriptedModel([]), output=Owner)
    with pytest.raises(TeamConfigError) as caught:
        create_concurrent([a, b], state_schema=Branches)
    assert str(caught.value) == (
        "concurrent: field 'owner' is written by agents ['a', 'b'], and ['a'] have "
        "approval='after': a reviewed branch's fields are written when its output is "
        "accepted, outside the fan-out's conflict settling; give the field one writer, a "
        "reducer in the schema, or gate before the turn"
    )
    # Its own field, a reviewed branch writes once approved.
    alone = Agent("a", model=ScriptedModel([{"owner": "ana"}]), output=Owner, approval="after")
    team = create_concurrent([alone], state_schema=Branches).compile(checkpointer=InMemorySaver())
    state = team.invoke({"messages": [("user", "who?")]}, _config())
    assert "owner" not in state
    state = team.invoke(Command(resume={"action": "approve"}), _config())
    assert state["owner"] == "ana" and _writes(state) == [("a", "owner", None, "ana")]


def _rendered(name: str, **values: Any) -> str:
    fields = "\n".join(RECORD_ITEM.format(field=f, value=v) for f, v in values.items())
    return RECORD_OUTPUT.format(name=name, fields=fields)


def test_verdict_givers_take_no_output_schema() -> None:
    maker = Agent("maker", runnable=lambda m: "draft")
    checker = Agent("checker", model=ScriptedModel([]), output=Owner)
    with pytest.raises(TeamConfigError) as caught:
        create_group_chat([maker, checker], approvers=["checker"])
    assert str(caught.value) == (
        "group_chat: ['checker'] answer with a verdict (approvers, checkers): give them no "
        "output schema"
    )


def test_orchestra_run_then_resume_supplying_the_missing_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from langgraph_orchestra.cli.app import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHESTRA_STORE", raising=False)
    runner = CliRunner()
    ran = runner.invoke(app, ["run", str(EXAMPLE), "-i", "Lead: Jo at ACME"], terminal_width=200)
    assert ran.exit_code == 3, ran.output  # the run waits for a decision
    hint = re.search(r"orchestra resume (\S+) --supply '(.*)'", ran.output)
    assert hint is not None and hint.group(2) == '{"owner": "..."}'
    bad = runner.invoke(app, ["resume", hint.group(1), "--supply", "dana"])
    assert bad.exit_code != 0
    assert "--supply: 'dana' is not the missing fields as a JSON object" in bad.output
    done = runner.invoke(app, ["resume", hint.group(1), "--supply", '{"owner": "dana"}'])
    assert done.exit_code == 0, done.output
    assert "run ended: completed" in done.output
    assert "meeting: Tuesday 10:00, Jo (jo@acme.example) with dana" in done.output
