"""Tests for `create_concurrent`: fan-out/fan-in with aggregators, failures and gates."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import pytest
from _meet import MEET_TIMEOUT_S, Meeting, MeetingModel
from _views import awhole, seen, whole
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.message import add_messages
from langgraph.types import Command, Interrupt
from pydantic import BaseModel, Field

from langgraph_orchestra import (
    Agent,
    AgentError,
    AgentTimeoutError,
    AuditRecord,
    ConcurrentState,
    ExceptionRecord,
    Prompts,
    TeamConfigError,
    Usage,
    create_concurrent,
)
from langgraph_orchestra.prompts import REVISION_REQUEST, SYNTHESIS_ITEM, SYNTHESIS_REQUEST
from langgraph_orchestra.state import (
    RunStart,
    add_count,
    add_exceptions,
    add_usage,
    append,
    merge_dict,
)
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import consumed_replies, read_thread

TASK = "Should we ship on Friday?"
INPUT = {"messages": [("user", TASK)]}


# --- helpers ---------------------------------------------------------------------------


class Branch:
    """A callable agent: answers from a fixed list of replies and records what it saw.

    A reply may be an exception (raised by that call). A call past the list fails the
    test. A `meeting` makes it wait until the meeting's other calls run too.
    """

    def __init__(self, *replies: str | BaseException, meeting: Meeting | None = None) -> None:
        self.replies = list(replies)
        self.meeting = meeting
        self.views: list[list[BaseMessage]] = []
        self._lock = threading.Lock()

    def __call__(self, messages: list[BaseMessage]) -> str:
        with self._lock:
            self.views.append(list(messages))
            call = len(self.views)
        assert call <= len(self.replies), f"unexpected call #{call}"
        if self.meeting is not None:
            self.meeting.wait()
        reply = self.replies[call - 1]
        if isinstance(reply, BaseException):
            raise reply
        return reply


def fixed(text: str, delay: float = 0.0) -> Callable[[list[BaseMessage]], str]:
    """A callable agent that always answers `text` after `delay` seconds."""

    def answer(messages: list[BaseMessage]) -> str:
        if delay:
            time.sleep(delay)
        return text

    return answer


def kinds(audit: Sequence[AuditRecord], kind: str) -> list[AuditRecord]:
    return [record for record in audit if record["kind"] == kind]


def batches(audit: Sequence[AuditRecord]) -> list[list[str]]:
    """The branch batches started by `fanout`/`dispatch`, from the routing records."""
    return [
        r["detail"]["dispatched"] for r in kinds(audit, "routing") if "dispatched" in r["detail"]
    ]


def aggregation(audit: Sequence[AuditRecord]) -> dict[str, Any]:
    """The detail of the single routing record the aggregate node wrote."""
    records = [r["detail"] for r in kinds(audit, "routing") if "decision" in r["detail"]]
    assert len(records) == 1, records
    return records[0]


def interrupts(result: Mapping[str, Any]) -> list[Interrupt]:
    found: list[Interrupt] = result.get("__interrupt__", [])
    return found


def abc(**agents: Any) -> list[Agent]:
    """Three quick branches a, b, c answering "A", "B", "C"; `agents` replace any of them."""
    team = {name: Agent(name, runnable=fixed(name.upper())) for name in "abc"}
    team.update(agents)
    return list(team.values())


def compiled(agents: Sequence[Agent], **kwargs: Any) -> Any:
    return create_concurrent(agents, **kwargs).compile(checkpointer=InMemorySaver())


# --- topology ------------------------------------------------------------------------

MERMAID_SYNTHESIZER = """\
---
config:
  flowchart:
    curve: linear
---
graph TD;
\t__start__([<p>__start__</p>]):::first
\tfanout(fanout<hr/><small><em>pattern = concurrent</em></small>)
\ta(a<hr/><small><em>pattern = concurrent
agent = a</em></small>)
\tb(b<hr/><small><em>pattern = concurrent
agent = b</em></small>)
\tc(c<hr/><small><em>pattern = concurrent
agent = c</em></small>)
\tjudge(judge<hr/><small><em>pattern = concurrent
agent = judge</em></small>)
\taggregate(aggregate<hr/><small><em>pattern = concurrent
defer = True</em></small>)
\t__end__([<p>__end__</p>]):::last
\t__start__ --> fanout;
\ta -.-> aggregate;
\taggregate -.-> __end__;
\taggregate -.-> judge;
\tb -.-> aggregate;
\tc -.-> aggregate;
\tfanout -.-> a;
\tfanout -.-> aggregate;
\tfanout -.-> b;
\tfanout -.-> c;
\tjudge -.-> __end__;
\tclassDef default fill:#f2f0ff,line-height:1.2
\tclassDef first fill-opacity:0
\tclassDef last fill:#bfb6fc
"""

# LangGraph's drawing also links every branch to the deferred `aggregate` node.
MERMAID_DISPATCH = """\
---
config:
  flowchart:
    curve: linear
---
graph TD;
\t__start__([<p>__start__</p>]):::first
\tfanout(fanout<hr/><small><em>pattern = concurrent</em></small>)
\tdispatch(dispatch<hr/><small><em>pattern = concurrent</em></small>)
\ta(a<hr/><small><em>pattern = concurrent
agent = a</em></small>)
\tb(b<hr/><small><em>pattern = concurrent
agent = b</em></small>)
\tc(c<hr/><small><em>pattern = concurrent
agent = c</em></small>)
\taggregate(aggregate<hr/><small><em>pattern = concurrent
defer = True</em></small>)
\t__end__([<p>__end__</p>]):::last
\t__start__ --> fanout;
\ta -.-> aggregate;
\ta -.-> dispatch;
\taggregate -.-> __end__;
\tb -.-> aggregate;
\tb -.-> dispatch;
\tc -.-> aggregate;
\tc -.-> dispatch;
\tdispatch -.-> a;
\tdispatch -.-> aggregate;
\tdispatch -.-> b;
\tdispatch -.-> c;
\tfanout -.-> a;
\tfanout -.-> aggregate;
\tfanout -.-> b;
\tfanout -.-> c;
\tclassDef default fill:#f2f0ff,line-height:1.2
\tclassDef first fill-opacity:0
\tclassDef last fill:#bfb6fc
"""


def test_topology_three_branches_and_a_synthesizer() -> None:
    judge = Agent("judge", model=ScriptedModel([]))
    graph = create_concurrent(abc(), aggregator=judge).compile().get_graph()
    assert graph.draw_mermaid() == MERMAID_SYNTHESIZER


def test_topology_with_max_concurrency_has_a_dispatch_node() -> None:
    graph = create_concurrent(abc(), max_concurrency=2).compile().get_graph()
    assert graph.draw_mermaid() == MERMAID_DISPATCH


def test_synthesizer_gate_adds_its_gate_and_finalize_nodes() -> None:
    judge = Agent("judge", model=ScriptedModel([]), approval="after")
    graph = create_concurrent(abc(), aggregator=judge).compile().get_graph()
    assert set(graph.nodes) == {
        "__start__",
        "fanout",
        "a",
        "b",
        "c",
        "aggregate",
        "judge",
        "approve_judge",
        "finalize",
        "__end__",
    }
    edges = {(e.source, e.target) for e in graph.edges}
    assert {("judge", "approve_judge"), ("approve_judge", "finalize")} <= edges
    assert ("approve_judge", "judge") in edges  # a rejection sends it back


# --- branches really run at the same time ---------------------------------------------


def test_sync_branches_run_at_the_same_time() -> None:
    all_five = Meeting(5)
    branches = {n: Branch(n.upper(), meeting=all_five) for n in "abcde"}
    app = create_concurrent([Agent(n, runnable=b) for n, b in branches.items()]).compile()
    result = whole(app, INPUT)
    assert result["final"] == "a: A\n\nb: B\n\nc: C\n\nd: D\n\ne: E"
    assert result["stop_reason"] == "completed"
    assert result["dispatched"] == list("abcde")
    assert batches(result["audit"]) == [list("abcde")]
    for branch in branches.values():
        assert seen(branch.views[0]) == [("human", None, TASK)]


async def test_async_coroutine_branches_run_at_the_same_time() -> None:
    all_five = Meeting(5)

    def meets(name: str) -> Callable[[list[BaseMessage]], Any]:
        async def answer(messages: list[BaseMessage]) -> str:
            await all_five.await_all()
            return f"{name} after {messages[-1].text}"

        return answer

    app = create_concurrent([Agent(n, runnable=meets(n)) for n in "abcde"]).compile()
    result = await awhole(app, INPUT)
    assert result["results"] == {n: f"{n} after {TASK}" for n in "abcde"}
    assert result["stop_reason"] == "completed"


async def test_scripted_models_with_latency_run_at_the_same_time() -> None:
    all_five = Meeting(5)
    models = {n: MeetingModel([f"{n.upper()} says yes"], all_five, latency=0.3) for n in "abcde"}
    app = create_concurrent([Agent(n, model=m) for n, m in models.items()]).compile()
    result = await app.ainvoke(INPUT)
    assert result["final"] == "\n\n".join(f"{n}: {n.upper()} says yes" for n in "abcde")
    assert sorted(result["usage"]) == list("abcde")
    for name, model in models.items():
        model.assert_complete()
        assert seen(model.calls[0]) == [("human", None, TASK)]
        usage = result["usage"][name]
        assert usage["calls"] == 1
        assert usage["input_tokens"] > 0
        assert usage["latency_s"] >= 0.3


def test_max_concurrency_runs_branches_in_waves() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()
    views: dict[str, list[tuple[str, str | None, str]]] = {}
    first, second = Meeting(2), Meeting(2)  # the two full waves each run at once
    meetings = {"a": first, "b": first, "c": second, "d": second}

    def tracked(name: str) -> Callable[[list[BaseMessage]], str]:
        def answer(messages: list[BaseMessage]) -> str:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
                views[name] = seen(messages)
            if name in meetings:
                meetings[name].wait()
            time.sleep(0.2)
            with lock:
                running -= 1
            return name.upper()

        return answer

    app = create_concurrent(
        [Agent(n, runnable=tracked(n)) for n in "abcde"], max_concurrency=2
    ).compile()
    start = time.perf_counter()
    result = whole(app, INPUT)
    elapsed = time.perf_counter() - start
    assert elapsed >= 0.55, f"3 waves of 0.2 s took only {elapsed:.2f} s"
    assert peak == 2
    assert batches(result["audit"]) == [["a", "b"], ["c", "d"], ["e"]]
    assert result["dispatched"] == list("abcde")
    assert result["final"] == "a: A\n\nb: B\n\nc: C\n\nd: D\n\ne: E"
    # Later waves answer the same input as the first, not the earlier branches' outputs.
    assert views == {n: [("human", None, TASK)] for n in "abcde"}


# --- aggregators -------------------------------------------------------------------


def test_concat_joins_outputs_in_team_order_whatever_the_finish_order() -> None:
    team = [
        Agent("slow", runnable=fixed("Wait for Monday.", delay=0.2)),
        Agent("medium", runnable=fixed("Ship it.", delay=0.1)),
        Agent("fast", runnable=fixed("Ask QA.")),
    ]
    result = create_concurrent(team).compile().invoke(INPUT)
    assert result["final"] == "slow: Wait for Monday.\n\nmedium: Ship it.\n\nfast: Ask QA."
    assert result["stop_reason"] == "completed"
    assert aggregation(result["audit"]) == {
        "decision": "aggregate",
        "aggregator": "concat",
        "succeeded": ["slow", "medium", "fast"],
        "failed": [],
        "quorum": 1,
    }
    assert kinds(result["audit"], "termination")[-1]["detail"] == {"reason": "completed"}


def test_vote_takes_the_majority_ignoring_case_and_space() -> None:
    team = [
        Agent("a", runnable=fixed("No")),
        Agent("b", runnable=fixed("Yes, ship it")),
        Agent("c", runnable=fixed("  yes,   SHIP it\n")),
    ]
    result = create_concurrent(team, aggregator="vote").compile().invoke(INPUT)
    assert result["final"] == "Yes, ship it"  # as its first voter wrote it
    detail = aggregation(result["audit"])
    assert detail["aggregator"] == "vote"
    assert detail["winner"] == "b"
    assert detail["votes"] == 2
    assert detail["tally"] == {"no": 1, "yes, ship it": 2}


def test_vote_tie_goes_to_the_earliest_in_team_order() -> None:
    team = [
        Agent("a", runnable=fixed("Monday", delay=0.2)),  # slowest, yet first in team order
        Agent("b", runnable=fixed("Friday")),
        Agent("c", runnable=fixed("FRIDAY")),
        Agent("d", runnable=fixed("monday ")),
    ]
    result = create_concurrent(team, aggregator="vote").compile().invoke(INPUT)
    assert result["final"] == "Monday"
    detail = aggregation(result["audit"])
    assert (detail["winner"], detail["votes"]) == ("a", 2)
    assert detail["tally"] == {"monday": 2, "friday": 2}


def test_callable_aggregator_gets_outputs_in_team_order() -> None:
    received: list[list[tuple[str, str]]] = []

    def longest(outputs: Mapping[str, str]) -> str:
        received.append(list(outputs.items()))
        return max(outputs.values(), key=len)

    team = [
        Agent("a", runnable=fixed("Wait.", delay=0.2)),
        Agent("b", runnable=fixed("Ship it on Friday.")),
        Agent("c", runnable=fixed("No.", delay=0.1)),
    ]
    result = create_concurrent(team, aggregator=longest).compile().invoke(INPUT)
    assert received == [[("a", "Wait."), ("b", "Ship it on Friday."), ("c", "No.")]]
    assert result["final"] == "Ship it on Friday."
    assert aggregation(result["audit"])["aggregator"] == "longest"


def test_callable_aggregator_gets_only_the_successful_outputs() -> None:
    received: list[dict[str, str]] = []

    def keep(outputs: Mapping[str, str]) -> str:
        received.append(dict(outputs))
        return " | ".join(outputs.values())

    team = abc(b=Agent("b", runnable=Branch(ValueError("down")), on_error="continue"))
    result = create_concurrent(team, aggregator=keep).compile().invoke(INPUT)
    assert received == [{"a": "A", "c": "C"}]
    assert result["final"] == "A | C"


def test_synthesizer_agent_gets_the_task_and_the_answers() -> None:
    model = ScriptedModel(["Ship on Monday after QA."])
    team = [
        Agent("optimist", runnable=fixed("Ship it.", delay=0.1)),
        Agent("skeptic", runnable=fixed("Wait for QA.")),
    ]
    app = create_concurrent(team, aggregator=Agent("judge", model=model)).compile()
    result = whole(app, INPUT)
    model.assert_complete()
    answers = "\n\n".join(
        [
            SYNTHESIS_ITEM.format(name="optimist", text="Ship it."),
            SYNTHESIS_ITEM.format(name="skeptic", text="Wait for QA."),
        ]
    )
    request = SYNTHESIS_REQUEST.format(answers=answers)
    assert seen(model.calls[0]) == [("human", None, TASK), ("human", "aggregate", request)]
    assert result["final"] == "Ship on Monday after QA."
    assert result["stop_reason"] == "completed"
    assert seen(result["messages"][-2:]) == [
        ("human", "aggregate", request),
        ("ai", "judge", "Ship on Monday after QA."),
    ]
    judge = result["usage"]["judge"]
    assert judge["calls"] == 1
    assert judge["input_tokens"] > 0 and judge["output_tokens"] > 0
    assert sorted(result["usage"]) == ["judge", "optimist", "skeptic"]
    assert aggregation(result["audit"])["decision"] == "synthesize"
    assert result["results"] == {"optimist": "Ship it.", "skeptic": "Wait for QA."}


def test_synthesizer_uses_the_prompts_given_and_skips_failed_branches() -> None:
    model = ScriptedModel(["merged"])
    prompts = Prompts(synthesis="Merge these:\n{answers}", synthesis_item="[{name}] {text}")
    team = abc(b=Agent("b", runnable=Branch(ValueError("down")), on_error="continue"))
    app = create_concurrent(team, aggregator=Agent("judge", model=model), prompts=prompts)
    result = app.compile().invoke(INPUT)
    assert model.calls[0][-1].text == "Merge these:\n[a] A\n\n[c] C"
    assert result["final"] == "merged"


def test_synthesizer_that_fails_and_continues_leaves_the_joined_answers() -> None:
    model = ScriptedModel([ValueError("model down")])
    judge = Agent("judge", model=model, on_error="continue")
    result = create_concurrent(abc(), aggregator=judge).compile().invoke(INPUT)
    assert result["final"] == "a: A\n\nb: B\n\nc: C"
    assert result["stop_reason"] == "completed"
    [record] = result["exceptions"]
    assert (record["agent"], record["status"], record["error"]) == (
        "judge",
        "continued",
        "model down",
    )


# --- failures -----------------------------------------------------------------------


def test_failing_branch_that_continues_keeps_the_other_results() -> None:
    failing = Branch(ValueError("rate limited"))
    team = abc(b=Agent("b", runnable=failing, on_error="continue"))
    result = whole(create_concurrent(team).compile(), INPUT)
    assert result["results"] == {"a": "A", "b": None, "c": "C"}
    assert result["results"]["b"] is None
    assert result["final"] == "a: A\n\nc: C"
    assert result["stop_reason"] == "completed"
    [record] = result["exceptions"]
    assert record["agent"] == "b"
    assert record["status"] == "continued"
    assert record["error"] == "rate limited"
    assert record["error_type"] == "ValueError"
    assert record["input"] == TASK
    [audited] = kinds(result["audit"], "exception")
    assert audited["agent"] == "b"
    assert audited["detail"]["exception_id"] == record["id"]
    assert aggregation(result["audit"])["failed"] == ["b"]
    assert not [m for m in result["messages"] if m.name == "b"]


@pytest.mark.parametrize(
    ("quorum", "needed", "stop_reason"),
    [
        (None, 1, "completed"),
        (2, 2, "completed"),
        (3, 3, "quorum_not_met"),
        (0.5, 2, "completed"),  # ceil(0.5 * 3) = 2
        (0.9, 3, "quorum_not_met"),  # ceil(0.9 * 3) = 3
        (1.0, 3, "quorum_not_met"),
    ],
)
def test_quorum_decides_the_stop_reason(
    quorum: float | None, needed: int, stop_reason: str
) -> None:
    team = abc(b=Agent("b", runnable=Branch(ValueError("down")), on_error="continue"))
    result = create_concurrent(team, quorum=quorum).compile().invoke(INPUT)
    assert result["stop_reason"] == stop_reason
    # Met or not, `final` is the real (partial) answer of the branches that succeeded.
    assert result["final"] == "a: A\n\nc: C"
    detail = aggregation(result["audit"])
    assert detail["quorum"] == needed
    assert detail["decision"] == ("aggregate" if stop_reason == "completed" else "partial")
    assert kinds(result["audit"], "termination")[-1]["detail"] == {"reason": stop_reason}


def test_quorum_not_met_with_vote_still_reports_the_partial_answers() -> None:
    team = abc(b=Agent("b", runnable=Branch(ValueError("down")), on_error="continue"))
    result = create_concurrent(team, aggregator="vote", quorum=3).compile().invoke(INPUT)
    assert (result["final"], result["stop_reason"]) == ("a: A\n\nc: C", "quorum_not_met")


def test_every_branch_failing_ends_without_an_answer() -> None:
    team = [Agent(n, runnable=Branch(ValueError(f"{n} down")), on_error="continue") for n in "ab"]
    result = create_concurrent(team).compile().invoke(INPUT)
    assert result["final"] is None
    assert result["stop_reason"] == "quorum_not_met"
    assert [(r["agent"], r["error"]) for r in result["exceptions"]] == [
        ("a", "a down"),
        ("b", "b down"),
    ]


def test_failing_branch_that_raises_stops_the_run_with_agent_error() -> None:
    team = abc(b=Agent("b", runnable=Branch(ValueError("boom"))))
    with pytest.raises(AgentError) as err:
        create_concurrent(team).compile().invoke(INPUT)
    assert str(err.value) == "Agent 'b' failed: ValueError: boom"
    assert err.value.agent == "b"
    assert isinstance(err.value.__cause__, ValueError)


async def test_failing_branch_that_raises_stops_an_async_run_with_agent_error() -> None:
    team = abc(b=Agent("b", runnable=Branch(KeyError("missing"))))
    with pytest.raises(AgentError) as err:
        await create_concurrent(team).compile().ainvoke(INPUT)
    assert str(err.value) == "Agent 'b' failed: KeyError: 'missing'"


class Held:
    """A callable agent whose calls block until `release`; `finished` once one returns."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.finished = threading.Event()

    def __call__(self, messages: list[BaseMessage]) -> str:
        self.released.wait(MEET_TIMEOUT_S)
        self.finished.set()
        return "too late"

    def release(self) -> None:
        self.released.set()


def test_factory_timeout_turns_a_slow_branch_into_a_continued_exception() -> None:
    held = Held()
    team = [
        Agent("a", runnable=fixed("A")),
        Agent("slow", runnable=held, on_error="continue"),
        # An agent's own timeout wins over the factory's.
        Agent("patient", runnable=fixed("worth the wait", delay=0.8), timeout=30),
    ]
    try:
        result = whole(create_concurrent(team, timeout=0.5).compile(), INPUT)
        assert not held.finished.is_set()  # the run did not wait for the timed-out call
    finally:
        held.release()
    assert result["results"] == {"a": "A", "slow": None, "patient": "worth the wait"}
    assert result["final"] == "a: A\n\npatient: worth the wait"
    assert result["stop_reason"] == "completed"
    [record] = result["exceptions"]
    assert record["error_type"] == "AgentTimeoutError"
    assert record["error"] == "Agent 'slow' timed out after 0.5 s"
    assert record["status"] == "continued"


def test_factory_timeout_raises_agent_timeout_error_for_a_raising_branch() -> None:
    held = Held()
    team = abc(b=Agent("b", runnable=held))
    try:
        with pytest.raises(AgentTimeoutError) as err:
            create_concurrent(team, timeout=0.5).compile().invoke(INPUT)
    finally:
        held.release()
    assert str(err.value) == "Agent 'b' timed out after 0.5 s"
    assert err.value.agent == "b"


async def test_factory_timeout_applies_to_async_branches() -> None:
    finished = asyncio.Event()

    async def slow(messages: list[BaseMessage]) -> str:
        await asyncio.sleep(MEET_TIMEOUT_S)  # cancelled at the timeout
        finished.set()
        return "too late"

    team = abc(b=Agent("b", runnable=slow, on_error="continue"))
    result = await create_concurrent(team, timeout=0.5).compile().ainvoke(INPUT)
    assert not finished.is_set()
    assert result["final"] == "a: A\n\nc: C"
    assert result["exceptions"][0]["error"] == "Agent 'b' timed out after 0.5 s"


def test_escalated_branch_interrupts_and_the_supplied_output_is_used() -> None:
    failing = Branch(ValueError("quota exceeded"))
    app = compiled(abc(b=Agent("b", runnable=failing, on_error="escalate")))
    config: RunnableConfig = {"configurable": {"thread_id": "escalate"}}
    result = app.invoke(INPUT, config)
    [pending] = interrupts(result)
    exception_id = result["exceptions"][0]["id"]
    assert pending.value == {
        "type": "exception",
        "exception_id": exception_id,
        "agent": "b",
        "error": "quota exceeded",
        "error_type": "ValueError",
        "input": TASK,
        "output": None,
        "actions": ["retry", "skip", "supply", "abort"],
    }
    assert result.get("final") is None
    assert result["exceptions"][0]["status"] == "open"

    result = app.invoke(Command(resume={"action": "supply", "content": "Friday is fine"}), config)
    assert result["final"] == "a: A\n\nb: Friday is fine\n\nc: C"
    assert result["stop_reason"] == "completed"
    assert [(r["id"], r["status"]) for r in result["exceptions"]] == [(exception_id, "supplied")]
    assert len(failing.views) == 1


def test_two_failures_in_one_step_are_two_interrupts_resumed_together() -> None:
    team = abc(
        b=Agent("b", runnable=Branch(ValueError("b down")), on_error="escalate"),
        c=Agent("c", runnable=Branch(ValueError("c down")), on_error="escalate"),
    )
    app = compiled(team)
    config: RunnableConfig = {"configurable": {"thread_id": "two"}}
    result = app.invoke(INPUT, config)
    pending = {i.value["agent"]: i for i in interrupts(result)}
    assert sorted(pending) == ["b", "c"]
    assert pending["b"].value["error"] == "b down"
    assert pending["c"].value["error"] == "c down"

    result = whole(
        app,
        Command(
            resume={
                pending["b"].id: {"action": "supply", "content": "B by hand"},
                pending["c"].id: {"action": "skip", "reviewer": "ops"},
            }
        ),
        config,
    )
    assert interrupts(result) == []
    assert result["final"] == "a: A\n\nb: B by hand"
    assert result["results"] == {"a": "A", "b": "B by hand", "c": None}
    assert {r["agent"]: r["status"] for r in result["exceptions"]} == {
        "b": "supplied",
        "c": "skipped",
    }
    assert len(kinds(result["audit"], "termination")) == 1


def test_two_failures_in_one_step_can_be_resumed_one_by_one() -> None:
    retried = Branch(ValueError("flaky"), "B on retry")
    team = abc(
        b=Agent("b", runnable=retried, on_error="escalate"),
        c=Agent("c", runnable=Branch(ValueError("c down")), on_error="escalate"),
    )
    app = compiled(team)
    config: RunnableConfig = {"configurable": {"thread_id": "one-by-one"}}
    pending = {i.value["agent"]: i for i in interrupts(app.invoke(INPUT, config))}

    result = app.invoke(Command(resume={pending["b"].id: {"action": "retry"}}), config)
    [still] = interrupts(result)
    assert still.id == pending["c"].id
    assert result.get("final") is None  # the aggregate waits for c
    assert app.get_state(config).values.get("stop_reason") is None

    result = app.invoke(Command(resume={still.id: {"action": "abort"}}), config)
    assert result["stop_reason"] == "aborted"
    assert result["final"] == "a: A\n\nb: B on retry"  # the partial answer, not a canned text
    assert len(retried.views) == 2
    assert {r["agent"]: r["status"] for r in result["exceptions"]} == {
        "b": "retried",
        "c": "aborted",
    }


# --- approval gates in branches ------------------------------------------------------


def _not_finalized(app: Any, config: RunnableConfig, *, earlier_runs: int = 0) -> None:
    """The run paused on a gate has not been aggregated or closed yet."""
    values = app.get_state(config).values
    assert values.get("final") is None
    assert values.get("stop_reason") is None
    decisions = [r for r in kinds(values["audit"], "routing") if "decision" in r["detail"]]
    assert len(decisions) == earlier_runs
    assert len(kinds(values["audit"], "termination")) == earlier_runs


def test_after_gate_on_a_branch_approve() -> None:
    reviewed = Branch("Ship it, tests are green.")
    app = compiled(abc(b=Agent("b", runnable=reviewed, approval="after")))
    config: RunnableConfig = {"configurable": {"thread_id": "approve"}}
    result = app.invoke(INPUT, config)
    [pending] = interrupts(result)
    assert pending.value == {
        "type": "approval",
        "agent": "b",
        "when": "after",
        "content": "Ship it, tests are green.",
        "actions": ["approve", "reject", "edit", "respond"],
        "revision": 0,
        "max_revisions": 3,
    }
    # LangGraph runs the deferred aggregate when a run pauses: it must wait for b.
    _not_finalized(app, config)
    assert app.get_state(config).next == ("approve_b",)

    result = app.invoke(Command(resume={"action": "approve", "reviewer": "lead"}), config)
    assert result["final"] == "a: A\n\nb: Ship it, tests are green.\n\nc: C"
    assert result["stop_reason"] == "completed"
    [approval] = kinds(result["audit"], "approval")
    assert approval["agent"] == "b"
    assert approval["detail"]["action"] == "approve"
    assert approval["detail"]["reviewer"] == "lead"
    assert len(kinds(result["audit"], "termination")) == 1


def test_after_gate_on_a_branch_reject_then_approve_the_revision() -> None:
    reviewed = Branch("Ship it.", "Ship it: 120 tests pass.")
    app = compiled(abc(b=Agent("b", runnable=reviewed, approval="after")))
    config: RunnableConfig = {"configurable": {"thread_id": "reject"}}
    app.invoke(INPUT, config)

    result = app.invoke(Command(resume={"action": "reject", "feedback": "Give evidence."}), config)
    [pending] = interrupts(result)
    assert (pending.value["content"], pending.value["revision"]) == ("Ship it: 120 tests pass.", 1)
    _not_finalized(app, config)
    feedback = REVISION_REQUEST.format(
        reviewer="human", draft="Ship it.", feedback="Give evidence."
    )
    assert seen(reviewed.views[1]) == [
        ("human", None, TASK),
        ("ai", "b", "Ship it."),
        ("human", "reviewer", feedback),
    ]

    result = whole(app, Command(resume={"action": "approve"}), config)
    assert result["final"] == "a: A\n\nb: Ship it: 120 tests pass.\n\nc: C"
    assert result["results"]["b"] == "Ship it: 120 tests pass."
    assert [r["detail"]["action"] for r in kinds(result["audit"], "approval")] == [
        "reject",
        "approve",
    ]
    assert len(reviewed.views) == 2


def test_after_gate_on_a_branch_edit() -> None:
    app = compiled(abc(b=Agent("b", runnable=Branch("Ship it."), approval="after")))
    config: RunnableConfig = {"configurable": {"thread_id": "edit"}}
    app.invoke(INPUT, config)
    _not_finalized(app, config)
    result = app.invoke(Command(resume={"action": "edit", "content": "Ship on Monday."}), config)
    assert result["final"] == "a: A\n\nb: Ship on Monday.\n\nc: C"
    # The edit replaces b's output in the transcript rather than adding to it.
    assert [m.text for m in result["messages"] if m.name == "b"] == ["Ship on Monday."]
    assert len(kinds(result["audit"], "termination")) == 1


def test_two_gated_branches_the_aggregate_waits_for_both() -> None:
    team = abc(
        a=Agent("a", runnable=Branch("A draft"), approval="after"),
        c=Agent("c", runnable=Branch("C draft"), approval="after"),
    )
    app = compiled(team)
    config: RunnableConfig = {"configurable": {"thread_id": "both"}}
    pending = {i.value["agent"]: i.id for i in interrupts(app.invoke(INPUT, config))}
    assert sorted(pending) == ["a", "c"]

    result = app.invoke(Command(resume={pending["c"]: {"action": "approve"}}), config)
    assert [i.id for i in interrupts(result)] == [pending["a"]]
    _not_finalized(app, config)

    result = app.invoke(
        Command(resume={pending["a"]: {"action": "edit", "content": "A final"}}), config
    )
    assert result["final"] == "a: A final\n\nb: B\n\nc: C draft"
    assert len(kinds(result["audit"], "termination")) == 1


def test_gate_in_the_first_wave_with_max_concurrency() -> None:
    team = [
        Agent("a", runnable=Branch("A draft"), approval="after"),
        *(Agent(n, runnable=fixed(n.upper())) for n in "bcde"),
    ]
    app = compiled(team, max_concurrency=2)
    config: RunnableConfig = {"configurable": {"thread_id": "waves"}}
    [pending] = interrupts(app.invoke(INPUT, config))
    assert pending.value["agent"] == "a"
    _not_finalized(app, config)
    result = whole(app, Command(resume={"action": "approve"}), config)
    assert result["final"] == "a: A draft\n\nb: B\n\nc: C\n\nd: D\n\ne: E"
    assert result["dispatched"] == list("abcde")
    # a's open review keeps its slot: never more than two branches in flight.
    assert [len(batch) for batch in batches(result["audit"])] == [2, 1, 1, 1]


def test_before_gate_on_a_branch_approve_lets_it_run() -> None:
    gated = Branch("B")
    app = compiled(abc(b=Agent("b", runnable=gated, approval="before")))
    config: RunnableConfig = {"configurable": {"thread_id": "before"}}
    [pending] = interrupts(app.invoke(INPUT, config))
    assert (pending.value["when"], pending.value["content"]) == ("before", TASK)
    assert gated.views == []
    _not_finalized(app, config)
    result = app.invoke(Command(resume={"action": "approve"}), config)
    assert result["final"] == "a: A\n\nb: B\n\nc: C"
    assert seen(gated.views[0]) == [("human", None, TASK)]


def test_before_gate_on_a_branch_edit_gives_the_branch_the_new_input() -> None:
    gated = Branch("B")
    app = compiled(abc(b=Agent("b", runnable=gated, approval="before")))
    config: RunnableConfig = {"configurable": {"thread_id": "before-edit"}}
    app.invoke(INPUT, config)
    result = app.invoke(Command(resume={"action": "edit", "content": "Only risks."}), config)
    # The edit replaces what the branch was about to answer (the task, for a branch);
    # the transcript keeps the task and adds the reviewer's text.
    assert seen(gated.views[0]) == [("human", "reviewer", "Only risks.")]
    assert seen(result["messages"][:1]) == [("human", None, TASK)]
    assert [m.text for m in result["messages"] if m.name == "reviewer"] == ["Only risks."]
    assert result["final"] == "a: A\n\nb: B\n\nc: C"


def test_before_gate_on_a_branch_reject_stops_with_the_partial_answer() -> None:
    gated = Branch()
    app = compiled(abc(b=Agent("b", runnable=gated, approval="before")))
    config: RunnableConfig = {"configurable": {"thread_id": "before-reject"}}
    app.invoke(INPUT, config)
    result = whole(app, Command(resume={"action": "reject", "feedback": "not this one"}), config)
    assert gated.views == []
    assert result["stop_reason"] == "rejected"
    assert result["final"] == "a: A\n\nc: C"
    assert result["results"] == {"a": "A", "b": None, "c": "C"}


def test_after_gate_on_the_synthesizer() -> None:
    model = ScriptedModel(["Ship.", "Ship on Monday after QA signs off."])
    judge = Agent("judge", model=model, approval="after")
    app = compiled(abc(), aggregator=judge)
    config: RunnableConfig = {"configurable": {"thread_id": "judge"}}
    [pending] = interrupts(app.invoke(INPUT, config))
    assert (pending.value["agent"], pending.value["content"]) == ("judge", "Ship.")
    assert app.get_state(config).values.get("final") is None

    result = app.invoke(Command(resume={"action": "reject", "feedback": "Say when."}), config)
    [pending] = interrupts(result)
    assert pending.value["content"] == "Ship on Monday after QA signs off."
    revision = model.calls[1]
    assert seen(revision[-2:]) == [
        ("ai", "judge", "Ship."),
        (
            "human",
            "reviewer",
            REVISION_REQUEST.format(reviewer="human", draft="Ship.", feedback="Say when."),
        ),
    ]

    result = app.invoke(Command(resume={"action": "approve"}), config)
    model.assert_complete()
    assert result["final"] == "Ship on Monday after QA signs off."
    assert result["stop_reason"] == "completed"
    assert result["usage"]["judge"]["calls"] == 2
    assert len(kinds(result["audit"], "termination")) == 1


def test_after_gate_on_the_synthesizer_edit() -> None:
    judge = Agent("judge", model=ScriptedModel(["Ship."]), approval="after")
    app = compiled(abc(), aggregator=judge)
    config: RunnableConfig = {"configurable": {"thread_id": "judge-edit"}}
    app.invoke(INPUT, config)
    result = app.invoke(Command(resume={"action": "edit", "content": "Ship Monday."}), config)
    assert (result["final"], result["stop_reason"]) == ("Ship Monday.", "completed")


def test_before_gate_on_the_synthesizer_reject_leaves_the_joined_answers() -> None:
    model = ScriptedModel([])
    judge = Agent("judge", model=model, approval="before")
    app = compiled(abc(), aggregator=judge)
    config: RunnableConfig = {"configurable": {"thread_id": "judge-before"}}
    [pending] = interrupts(app.invoke(INPUT, config))
    assert pending.value["content"].startswith(SYNTHESIS_REQUEST.split("{answers}")[0])
    result = app.invoke(Command(resume={"action": "reject"}), config)
    assert result["stop_reason"] == "rejected"
    assert result["final"] == "a: A\n\nb: B\n\nc: C"
    assert model.calls == []


# --- validation ----------------------------------------------------------------------


def _raises(message: str, agents: Sequence[Agent] | None = None, **kwargs: Any) -> None:
    with pytest.raises(TeamConfigError, match=f"^{re.escape(message)}$"):
        create_concurrent(abc() if agents is None else agents, **kwargs)


def test_unknown_aggregator_is_refused() -> None:
    _raises(
        "Unknown aggregator 'mean': use 'concat', 'vote', 'confidence', an Agent, or a "
        "callable {agent: output} -> str",
        aggregator="mean",
    )


@pytest.mark.parametrize(
    ("quorum", "message"),
    [
        (
            0,
            "quorum=0 is out of range: give 1..3 (the number of branches) or a fraction 0 < q <= 1",
        ),
        (
            4,
            "quorum=4 is out of range: give 1..3 (the number of branches) or a fraction 0 < q <= 1",
        ),
        (1.5, "quorum=1.5 is out of range: a fraction must be 0 < q <= 1, or give a count 1..3"),
        (0.0, "quorum=0.0 is out of range: a fraction must be 0 < q <= 1, or give a count 1..3"),
        (True, "quorum must be a count (1..3) or a fraction (0 < q <= 1), got True"),
        ("2", "quorum must be a count (1..3) or a fraction (0 < q <= 1), got '2'"),
    ],
)
def test_bad_quorum_is_refused(quorum: Any, message: str) -> None:
    _raises(message, quorum=quorum)


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2"])
def test_bad_max_concurrency_is_refused(value: Any) -> None:
    _raises(
        f"max_concurrency must be a whole number >= 1 or None, got {value!r}", max_concurrency=value
    )


@pytest.mark.parametrize("value", [0, -0.5, True, "1"])
def test_bad_timeout_is_refused(value: Any) -> None:
    _raises(f"timeout must be a positive number of seconds or None, got {value!r}", timeout=value)


def test_bad_timeout_is_refused_even_when_every_agent_has_its_own() -> None:
    team = [Agent("a", runnable=fixed("A"), timeout=1)]
    _raises("timeout must be a positive number of seconds or None, got -1", team, timeout=-1)


def test_synthesizer_named_like_a_branch_is_refused() -> None:
    model = ScriptedModel([])
    _raises(
        "Duplicate agent name 'b' in concurrent: names must be unique",
        aggregator=Agent("b", model=model),
    )
    assert model.calls == []


def test_empty_team_is_refused() -> None:
    _raises("concurrent needs at least one agent, got none", [])


def test_duplicate_branch_is_refused() -> None:
    _raises(
        "Duplicate agent name 'a' in concurrent: names must be unique",
        [Agent("a", runnable=fixed("A")), Agent("a", runnable=fixed("A2"))],
    )


def test_validators_for_an_unknown_agent_are_refused() -> None:
    judge = Agent("judge", model=ScriptedModel([]))
    _raises(
        "Validators given for unknown agent 'z'; known agents: ['a', 'b', 'c', 'judge']",
        aggregator=judge,
        validators={"z": len},
    )


def test_bad_team_context_is_refused_in_the_teams_name() -> None:
    _raises(
        "Invalid context 'everything' for concurrent: use 'full', 'last', 'own', Window(k), "
        "TokenBudget(n), Summary(model, keep_last=k) or a callable state -> list[BaseMessage]",
        context="everything",
    )


def test_state_schema_without_the_concurrent_keys_is_refused() -> None:
    class Plain(BaseModel):
        messages: list[AnyMessage]

    _raises(
        "concurrent state_schema Plain lacks the keys ['audit', 'dispatched', 'exceptions', "
        "'final', 'outbox', 'results', 'round', 'run', 'run_usage', 'stop_reason', 'usage']: "
        "extend ConcurrentState (or declare them with the same reducers)",
        state_schema=Plain,
    )


def test_validator_refusal_is_a_branch_failure() -> None:
    team = abc(b=Agent("b", runnable=fixed("maybe"), on_error="continue"))
    result = create_concurrent(team, validators={"b": lambda text: text != "maybe"}).compile()
    out = result.invoke(INPUT)
    assert out["final"] == "a: A\n\nc: C"
    [record] = out["exceptions"]
    assert record["error_type"] == "OutputValidationError"
    assert record["output"] == "maybe"


# --- every checkpointer --------------------------------------------------------------


def test_gate_interrupt_and_resume_on_every_checkpointer(
    checkpointer: BaseCheckpointSaver[Any], thread: RunnableConfig
) -> None:
    def build() -> Any:
        team = abc(b=Agent("b", runnable=fixed("B draft"), approval="after"))
        return create_concurrent(team, max_concurrency=2).compile(checkpointer=checkpointer)

    [pending] = interrupts(build().invoke(INPUT, thread))
    assert pending.value["content"] == "B draft"
    # Resume from the store alone, with a newly built graph.
    fresh = build()
    assert fresh.get_state(thread).next == ("approve_b",)
    result = fresh.invoke(Command(resume={"action": "edit", "content": "B edited"}), thread)
    assert result["final"] == "a: A\n\nb: B edited\n\nc: C"
    assert result["stop_reason"] == "completed"
    assert fresh.get_state(thread).values["results"] == {"a": "A", "b": "B edited", "c": "C"}


async def test_gate_interrupt_and_resume_on_every_async_checkpointer(
    async_checkpointer: BaseCheckpointSaver[Any], thread: RunnableConfig
) -> None:
    async def answer(messages: list[BaseMessage]) -> str:
        await asyncio.sleep(0)
        return "B draft"

    def build() -> Any:
        team = abc(b=Agent("b", runnable=answer, approval="after"))
        return create_concurrent(team).compile(checkpointer=async_checkpointer)

    [pending] = interrupts(await build().ainvoke(INPUT, thread))
    assert pending.value["agent"] == "b"
    fresh = build()
    result = await fresh.ainvoke(Command(resume={"action": "approve"}), thread)
    assert result["final"] == "a: A\n\nb: B draft\n\nc: C"
    assert (await fresh.aget_state(thread)).values["stop_reason"] == "completed"


# --- several runs on one thread ------------------------------------------------------


@pytest.mark.parametrize("max_concurrency", [None, 2])
def test_second_run_on_a_thread_reruns_every_branch(max_concurrency: int | None) -> None:
    flaky = Branch(ValueError("down"), "B2")
    team = [
        Agent("a", runnable=Branch("A1", "A2")),
        Agent("b", runnable=flaky, on_error="continue"),
        Agent("c", runnable=Branch("C1", "C2")),
    ]
    app = compiled(team, quorum=3, max_concurrency=max_concurrency)
    config: RunnableConfig = {"configurable": {"thread_id": "multi"}}
    first = app.invoke(INPUT, config)
    assert (first["final"], first["stop_reason"]) == ("a: A1\n\nc: C1", "quorum_not_met")

    second = whole(app, {"messages": [("user", "And on Monday?")]}, config)
    assert second["results"] == {"a": "A2", "b": "B2", "c": "C2"}
    assert second["dispatched"] == ["a", "b", "c"]
    assert (second["final"], second["stop_reason"]) == ("a: A2\n\nb: B2\n\nc: C2", "completed")
    assert seen(flaky.views[1])[-1] == ("human", None, "And on Monday?")
    assert len(kinds(second["audit"], "termination")) == 2
    assert len(second["exceptions"]) == 1  # the queue keeps the first run's failure


def test_second_run_paused_on_a_gate_waits_despite_the_first_runs_results() -> None:
    team = [
        Agent("a", runnable=Branch("A1", "A2"), approval="after"),
        *(Agent(n, runnable=Branch(f"{n.upper()}1", f"{n.upper()}2")) for n in "bcd"),
    ]
    app = compiled(team, max_concurrency=2)
    config: RunnableConfig = {"configurable": {"thread_id": "multi-gate"}}
    app.invoke(INPUT, config)
    first = app.invoke(Command(resume={"action": "approve"}), config)
    assert first["final"] == "a: A1\n\nb: B1\n\nc: C1\n\nd: D1"
    audit_before = len(first["audit"])

    [pending] = interrupts(app.invoke({"messages": [("user", "again")]}, config))
    assert pending.value["content"] == "A2"
    _not_finalized(app, config, earlier_runs=1)
    second = app.invoke(Command(resume={"action": "approve"}), config)
    assert second["final"] == "a: A2\n\nb: B2\n\nc: C2\n\nd: D2"
    # a's open review holds its slot in this run too (its first-run result is gone).
    assert batches(second["audit"][audit_before:]) == [["a", "b"], ["c"], ["d"]]


def test_second_run_never_reports_the_previous_synthesis() -> None:
    judge = Agent("judge", model=ScriptedModel(["Ship on Monday."]), approval="before")
    app = compiled(abc(), aggregator=judge)
    config: RunnableConfig = {"configurable": {"thread_id": "stale"}}
    app.invoke(INPUT, config)
    first = app.invoke(Command(resume={"action": "approve"}), config)
    assert first["final"] == "Ship on Monday."

    app.invoke({"messages": [("user", "And on Tuesday?")]}, config)
    second = app.invoke(Command(resume={"action": "reject"}), config)
    assert second["stop_reason"] == "rejected"
    assert second["final"] == "a: A\n\nb: B\n\nc: C"


# --- custom state schemas ------------------------------------------------------------


class TeamState(ConcurrentState):
    audience: str


def test_typeddict_state_subclass_with_an_extra_key() -> None:
    def for_audience(state: Mapping[str, Any]) -> list[BaseMessage]:
        return [HumanMessage(f"{state['messages'][-1].text} (for {state['audience']})")]

    briefing = Branch("Brief")
    team = abc(b=Agent("b", runnable=briefing, context=for_audience))
    app = create_concurrent(team, state_schema=TeamState).compile()
    result = app.invoke({**INPUT, "audience": "the board"})
    assert result["audience"] == "the board"
    assert result["final"] == "a: A\n\nb: Brief\n\nc: C"
    assert seen(briefing.views[0]) == [("human", None, f"{TASK} (for the board)")]


class PydanticTeamState(BaseModel):
    messages: Annotated[list[AnyMessage], add_messages]
    audit: Annotated[list[AuditRecord], append] = Field(default_factory=list)
    exceptions: Annotated[list[ExceptionRecord], add_exceptions] = Field(default_factory=list)
    usage: Annotated[dict[str, Usage], add_usage] = Field(default_factory=dict)
    run_usage: Annotated[dict[str, Usage], add_usage] = Field(default_factory=dict)
    run: RunStart | None = None
    round: Annotated[int, add_count] = 0
    final: str | None = None
    stop_reason: str | None = None
    results: Annotated[dict[str, str | None], merge_dict] = Field(default_factory=dict)
    dispatched: Annotated[list[str], append] = Field(default_factory=list)
    outbox: Annotated[dict[str, Any], merge_dict] = Field(default_factory=dict)
    audience: str = "everyone"


def test_pydantic_state_with_the_same_fields_and_reducers() -> None:
    team = [
        Agent("a", runnable=Branch("A1", "A2")),
        Agent("b", runnable=Branch("B1", "B2"), approval="after"),
        Agent("c", runnable=Branch(ValueError("down"), "C2"), on_error="continue"),
    ]
    app = compiled(team, max_concurrency=2, state_schema=PydanticTeamState)
    config: RunnableConfig = {"configurable": {"thread_id": "pydantic"}}
    app.invoke({**INPUT, "audience": "the board"}, config)
    first = whole(app, Command(resume={"action": "approve"}), config)
    assert first["final"] == "a: A1\n\nb: B1"
    assert first["results"] == {"a": "A1", "b": "B1", "c": None}
    assert first["audience"] == "the board"
    assert first["exceptions"][0]["agent"] == "c"

    app.invoke({"messages": [("user", "again")]}, config)
    second = whole(app, Command(resume={"action": "edit", "content": "B edited"}), config)
    assert second["results"] == {"a": "A2", "b": "B edited", "c": "C2"}
    assert second["dispatched"] == ["a", "b", "c"]
    assert second["final"] == "a: A2\n\nb: B edited\n\nc: C2"
    assert second["usage"]["a"]["calls"] == 2


def test_messages_of_all_branches_enter_the_transcript_named_after_them() -> None:
    result = create_concurrent(abc()).compile().invoke(INPUT)
    named = {m.name: m.text for m in result["messages"] if isinstance(m, AIMessage)}
    assert named == {"a": "A", "b": "B", "c": "C"}
    assert result["messages"][0].text == TASK


def test_branch_turns_enter_the_transcript_in_team_order_when_the_fan_out_closes() -> None:
    def slow(messages: Sequence[BaseMessage]) -> str:
        time.sleep(0.2)
        return "slow answer"

    team = create_concurrent(
        [Agent("slow", runnable=slow), Agent("fast", runnable=lambda m: "fast answer")]
    ).compile()
    state = whole(team, {"messages": [("user", "task")]})
    assert [(m.name, m.text) for m in state["messages"][1:]] == [
        ("slow", "slow answer"),
        ("fast", "fast answer"),
    ]
    assert [r["agent"] for r in state["audit"] if r["kind"] == "turn"] == ["slow", "fast"]
    assert state["outbox"] == {}
    assert set(state["usage"]) == {"slow", "fast"}


def test_a_paused_fan_out_holds_finished_turns_until_it_closes() -> None:
    saver = InMemorySaver()
    team = create_concurrent(
        [
            Agent("plain", model=ScriptedModel(["plain answer"])),
            Agent("gated", runnable=lambda m: "gated answer", approval="after"),
        ]
    ).compile(checkpointer=saver)
    config: RunnableConfig = {"configurable": {"thread_id": "held"}}
    team.invoke({"messages": [("user", "task")]}, config)
    paused = team.get_state(config).values
    assert list(paused["outbox"]) == ["plain"]
    assert "plain" not in paused.get("usage", {})
    info = read_thread(saver, "held")
    assert info.usage["plain"]["calls"] == 1
    assert [r["agent"] for r in info.audit if r["kind"] == "turn"] == ["gated", "plain"]

    state = whole(team, Command(resume={"action": "approve"}), config)
    assert state["outbox"] == {}
    assert state["results"] == {"plain": "plain answer", "gated": "gated answer"}
    assert state["usage"]["plain"]["calls"] == 1
    assert state["final"] == "plain: plain answer\n\ngated: gated answer"


def test_replies_used_by_held_branch_turns_are_counted() -> None:
    team = create_concurrent(
        [
            Agent("plain", model=ScriptedModel(["plain answer"])),
            Agent("gated", model=ScriptedModel(["gated answer"]), approval="after"),
        ]
    ).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "counted"}}
    team.invoke({"messages": [("user", "task")]}, config)
    assert consumed_replies(team.get_state(config).values) == {"plain": 1, "gated": 1}
