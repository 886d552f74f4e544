"""Governance conformance: every pattern factory in `registry.CASES`, the same checks.

Each test builds its pattern around two agents the suite scripts: `a`, which answers
`A`, and `b`, the agent under test (gates, escalation), which answers `B`. Expected
answers come from the entry (`case.final`), so the tests are the same for every pattern.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, get_args, get_origin, get_type_hints

import pytest
from _views import seen_by
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel, Field, ValidationError, create_model

from conformance import resume_worker
from conformance.registry import CASES, PRESETS, PatternCase
from langgraph_orchestra import Agent, FunctionCondition, graphs, open_checkpointer
from langgraph_orchestra.prompts import REVISION_REQUEST
from langgraph_orchestra.spec import PATTERNS
from langgraph_orchestra.testing import ScriptedModel

OUTPUTS = {"a": "A", "b": "B"}
Graph = CompiledStateGraph[Any, Any, Any, Any]
TASK = "task"
APPROVAL_ACTIONS = ["approve", "reject", "edit", "respond"]
ESCALATION_ACTIONS = ["retry", "skip", "supply", "abort"]
TESTS = Path(__file__).resolve().parent.parent
WORKER = "conformance.resume_worker"


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request: pytest.FixtureRequest) -> PatternCase:
    """Each registered pattern in turn."""
    entry: PatternCase = request.param
    return entry


# --- helpers ---------------------------------------------------------------------------


@dataclass
class _Run:
    """A compiled team on a fresh thread, with its agents' scripted models."""

    app: Graph
    models: dict[str, ScriptedModel]
    config: RunnableConfig

    def start(self, **extra: Any) -> dict[str, Any]:
        state: dict[str, Any] = self.app.invoke(
            {"messages": [("user", TASK)], **extra}, self.config
        )
        return state

    def decide(self, **decision: Any) -> dict[str, Any]:
        state: dict[str, Any] = self.app.invoke(Command(resume=decision), self.config)
        return state

    def pending(self) -> dict[str, Any]:
        """The value of the one open interrupt."""
        interrupts = self.app.get_state(self.config).interrupts
        assert len(interrupts) == 1, interrupts
        value: dict[str, Any] = interrupts[0].value
        return value

    def seen(self, agent: str) -> list[list[tuple[str, str | None, str]]]:
        """What `agent`'s model was shown, call by call."""
        return seen_by(self.models[agent])

    def complete(self) -> None:
        for model in self.models.values():
            model.assert_complete()


def _team(
    case: PatternCase, b_script: Sequence[Any], *, agent_options: Mapping[str, Any], **options: Any
) -> _Run:
    """`a` (answers `A`) and `b` (replays `b_script`, with `agent_options`) in `case`."""
    models = {"a": ScriptedModel(["A"]), "b": ScriptedModel(list(b_script))}
    agents = [Agent("a", model=models["a"]), Agent("b", model=models["b"], **agent_options)]
    app = case.build(agents, **options).compile(checkpointer=InMemorySaver())
    return _Run(app, models, {"configurable": {"thread_id": str(uuid.uuid4())}})


def _approval(when: str, content: str, *, revision: int = 0) -> dict[str, Any]:
    return {
        "type": "approval",
        "agent": "b",
        "when": when,
        "content": content,
        "actions": APPROVAL_ACTIONS,
        "revision": revision,
        "max_revisions": 3,
    }


def _records(state: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["detail"] for r in state["audit"] if r["kind"] == kind]


def _ended(state: Mapping[str, Any], final: str | None, reason: str) -> None:
    """The run ended with `final` and `reason`, and its last audit record says so."""
    assert (state["final"], state["stop_reason"]) == (final, reason)
    terminations = [r for r in state["audit"] if r["kind"] == "termination"]
    assert terminations == [state["audit"][-1]]
    assert terminations[0]["detail"] == {"reason": reason}


def _last_seen(run: _Run, agent: str, call: int) -> tuple[str, str | None, str]:
    return run.seen(agent)[call][-1]


# --- registry --------------------------------------------------------------------------


def test_every_factory_is_registered_once() -> None:
    registered = sorted([c.factory.__name__ for c in CASES] + list(PRESETS))
    assert registered == sorted(graphs.__all__)
    presets = {name.removeprefix("create_") for name in PRESETS}
    assert sorted(c.name for c in CASES) == sorted(set(PATTERNS) - presets)
    assert all(PRESETS[name] in {c.name for c in CASES} for name in PRESETS)
    assert all(PATTERNS[c.name].factory is c.factory for c in CASES)


# --- before-gate -----------------------------------------------------------------------


def test_before_gate_approve(case: PatternCase) -> None:
    run = _team(case, ["B"], agent_options={"approval": "before"})
    run.start()
    request = run.pending()
    assert run.models["b"].calls == []
    state = run.decide(action="approve", reviewer="carol")
    _ended(state, case.final(OUTPUTS), case.stop_reason)
    # The reviewer was shown what the agent then answered.
    assert request == _approval("before", _last_seen(run, "b", 0)[2])
    assert _records(state, "approval") == [
        {"when": "before", "action": "approve", "reviewer": "carol", "feedback": ""}
    ]
    run.complete()


def test_before_gate_reject_stops_without_calling_the_agent(case: PatternCase) -> None:
    run = _team(case, [], agent_options={"approval": "before"})
    run.start()
    state = run.decide(action="reject", feedback="out of scope", reviewer="dan")
    _ended(state, case.final({"a": "A"}), "rejected")
    assert "b" not in state["usage"]
    assert _records(state, "approval") == [
        {"when": "before", "action": "reject", "reviewer": "dan", "feedback": "out of scope"}
    ]
    run.complete()


def test_before_gate_edit_replaces_the_agents_input(case: PatternCase) -> None:
    run = _team(case, ["B"], agent_options={"approval": "before"})
    run.start()
    state = run.decide(action="edit", content="narrower task")
    _ended(state, case.final(OUTPUTS), case.stop_reason)
    assert run.seen("b") == [
        [*run.seen("b")[0][:-1], ("HumanMessage", "reviewer", "narrower task")]
    ]
    assert [d["action"] for d in _records(state, "approval")] == ["edit"]
    run.complete()


def test_before_gate_respond_answers_in_the_agents_place(case: PatternCase) -> None:
    run = _team(case, [], agent_options={"approval": "before"})
    run.start()
    state = run.decide(action="respond", content="a human answer")
    _ended(state, case.final({"a": "A", "b": "a human answer"}), case.stop_reason)
    assert [(m.name, m.text) for m in state["messages"] if m.name == "b"] == [
        ("b", "a human answer")
    ]
    assert "b" not in state["usage"]  # nobody called the agent's model
    run.complete()


# --- after-gate ------------------------------------------------------------------------


def test_after_gate_approve(case: PatternCase) -> None:
    run = _team(case, ["B"], agent_options={"approval": "after"})
    run.start()
    assert run.pending() == _approval("after", "B")
    state = run.decide(action="approve", reviewer="alice")
    _ended(state, case.final(OUTPUTS), case.stop_reason)
    assert _records(state, "approval") == [
        {"when": "after", "action": "approve", "reviewer": "alice", "feedback": "", "revision": 0}
    ]
    run.complete()


def test_after_gate_reject_sends_the_agent_back_to_revise(case: PatternCase) -> None:
    run = _team(case, ["B1", "B2"], agent_options={"approval": "after"})
    run.start()
    run.decide(action="reject", feedback="Too long.", reviewer="alice")
    assert run.pending() == _approval("after", "B2", revision=1)
    request = REVISION_REQUEST.format(reviewer="alice", feedback="Too long.", draft="B1")
    first, second = run.seen("b")
    assert second == [*first, ("AIMessage", "b", "B1"), ("HumanMessage", "reviewer", request)]

    state = run.decide(action="approve")
    _ended(state, case.final({"a": "A", "b": "B2"}), case.stop_reason)
    assert [(d["action"], d["revision"]) for d in _records(state, "approval")] == [
        ("reject", 1),
        ("approve", 1),
    ]
    assert state["usage"]["b"]["calls"] == 2
    run.complete()


def test_after_gate_edit_replaces_the_output(case: PatternCase) -> None:
    run = _team(case, ["B"], agent_options={"approval": "after"})
    run.start()
    state = run.decide(action="edit", content="B edited")
    _ended(state, case.final({"a": "A", "b": "B edited"}), case.stop_reason)
    assert [m.text for m in state["messages"] if m.name == "b"] == ["B edited"]
    assert _records(state, "approval")[0]["original"] == "B"
    run.complete()


def test_after_gate_respond_answers_the_agents_question(case: PatternCase) -> None:
    run = _team(case, ["Which tone?", "B"], agent_options={"approval": "after"})
    run.start()
    run.decide(action="respond", content="Formal.")
    # An answer is not a revision: the count stays at 0.
    assert run.pending() == _approval("after", "B", revision=0)
    assert run.seen("b")[1][-2:] == [
        ("AIMessage", "b", "Which tone?"),
        ("HumanMessage", "reviewer", "Formal."),
    ]
    state = run.decide(action="approve")
    _ended(state, case.final(OUTPUTS), case.stop_reason)
    assert [(d["action"], d["revision"]) for d in _records(state, "approval")] == [
        ("respond", 0),
        ("approve", 0),
    ]
    run.complete()


# --- escalation ------------------------------------------------------------------------

# action -> (b's script after the failure, decision extras, b's output, stop reason, status)
ESCALATIONS: dict[str, tuple[list[str], dict[str, str], str | None, str | None, str]] = {
    "retry": (["B"], {}, "B", None, "retried"),
    "skip": ([], {}, None, None, "skipped"),
    "supply": ([], {"content": "B by hand"}, "B by hand", None, "supplied"),
    "abort": ([], {}, None, "aborted", "aborted"),
}


@pytest.mark.parametrize("action", ESCALATION_ACTIONS)
def test_escalation(case: PatternCase, action: str) -> None:
    script, extras, output, reason, status = ESCALATIONS[action]
    run = _team(case, [ValueError("boom"), *script], agent_options={"on_error": "escalate"})
    paused = run.start()
    [record] = paused["exceptions"]
    assert run.pending() == {
        "type": "exception",
        "exception_id": record["id"],
        "agent": "b",
        "error": "boom",
        "error_type": "ValueError",
        "input": _last_seen(run, "b", 0)[2],
        "output": None,
        "actions": ESCALATION_ACTIONS,
    }

    state = run.decide(action=action, reviewer="erin", **extras)
    outputs = {"a": "A", **({"b": output} if output is not None else {})}
    _ended(state, case.final(outputs), reason or case.stop_reason)
    [resolved] = state["exceptions"]
    assert (resolved["id"], resolved["status"]) == (record["id"], status)
    assert resolved["resolution"] == {"action": action, "reviewer": "erin", **extras}
    assert [(d["status"], d["exception_id"]) for d in _records(state, "exception")] == [
        ("open", record["id"]),
        (status, record["id"]),
    ]
    assert len(run.models["b"].calls) == 1 + len(script)
    assert [m.text for m in state["messages"] if m.name == "b"] == ([output] if output else [])
    run.complete()


# --- audit -----------------------------------------------------------------------------


def test_audit_records_in_order_with_termination_last(case: PatternCase) -> None:
    run = _team(
        case,
        [ValueError("boom"), "B"],
        agent_options={"on_error": "escalate", "approval": "after"},
    )
    run.start()
    run.decide(action="retry")
    state = run.decide(action="approve")
    _ended(state, case.final(OUTPUTS), case.stop_reason)

    audit = state["audit"]
    of_b = [(r["kind"], r["detail"].get("status") or r["detail"].get("action")) for r in audit]
    of_b = [item for item, r in zip(of_b, audit, strict=True) if r["agent"] == "b"]
    assert of_b == [
        ("exception", "open"),
        ("exception", "retried"),
        ("turn", None),
        ("approval", "approve"),
    ]
    # An agent's own records are its turn and the routing it decided (a handoff).
    assert [r["kind"] for r in audit if r["agent"] == "a" and r["kind"] != "handoff"] == ["turn"]
    # Whatever else the pattern records is its routing; the termination record is last.
    assert {r["kind"] for r in audit[:-1] if r["agent"] is None} <= {"routing"}
    assert audit[-1]["kind"] == "termination"
    assert len({r["id"] for r in audit}) == len(audit)
    run.complete()


# --- usage -----------------------------------------------------------------------------


def test_usage_counts_every_model_call_orchestration_included(case: PatternCase) -> None:
    orchestration = case.orchestration() if case.orchestration else None
    run = _team(case, ["B"], agent_options={}, **(orchestration.options if orchestration else {}))
    state = run.start()
    expected = orchestration.final if orchestration else case.final(OUTPUTS)
    _ended(state, expected, case.stop_reason)

    models = {**run.models, **(orchestration.models if orchestration else {})}
    assert set(state["usage"]) == set(models)
    for name, model in models.items():
        usage = state["usage"][name]
        assert usage["calls"] == len(model.calls) >= 1, name
        assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0, name
        assert usage["latency_s"] >= 0, name
        model.assert_complete()
    # Every participant that was called is in the audit trail: agents by their turns,
    # a manager by its routing decisions.
    turns = sorted(r["agent"] for r in state["audit"] if r["kind"] == "turn")
    assert set(turns) | {r["agent"] for r in state["audit"]} >= set(models)
    assert turns == sorted(n for n in models if n not in _routers(state))


def _routers(state: Mapping[str, Any]) -> set[str]:
    return {r["agent"] for r in state["audit"] if r["kind"] == "routing" and r["agent"]}


# --- custom state schemas --------------------------------------------------------------


def _mirror(schema: type[Any], **extra: Any) -> type[BaseModel]:
    """A pydantic model with `schema`'s fields (and reducers), plus `extra` fields."""
    fields: dict[str, Any] = {}
    for key, hint in get_type_hints(schema, include_extras=True).items():
        if get_origin(hint) is NotRequired:
            (hint,) = get_args(hint)
            inner = get_args(hint)[0] if hasattr(hint, "__metadata__") else hint
            container = get_origin(inner)
            default = Field(default_factory=container) if container in (list, dict) else None
            fields[key] = (hint, default)
        else:
            fields[key] = (hint, ...)
    model: type[BaseModel] = create_model(f"Pydantic{schema.__name__}", **fields, **extra)
    return model


def _typed(schema: type[Any]) -> type[Any]:
    """`schema` extended, as a TypedDict, with a `ticket` key."""

    class Ticketed(schema):  # type: ignore[misc]
        ticket: str

    return Ticketed


def _ticket_view(state: Mapping[str, Any]) -> list[BaseMessage]:
    """A context policy that reads the user's own state key."""
    return [HumanMessage(f"ticket {state['ticket']}"), state["messages"][0]]


@pytest.mark.parametrize("kind", ["typeddict", "pydantic"])
def test_custom_state_schema_runs_with_a_gate(case: PatternCase, kind: str) -> None:
    schema = _typed(case.state) if kind == "typeddict" else _mirror(case.state, ticket=(str, ""))
    run = _team(
        case,
        ["B1", "B2"],
        agent_options={"approval": "after", "context": _ticket_view},
        state_schema=schema,
    )
    run.start(ticket="T-42")
    assert run.seen("b")[0] == [("HumanMessage", None, "ticket T-42"), ("HumanMessage", None, TASK)]
    run.decide(action="reject", feedback="shorter")
    assert run.pending() == _approval("after", "B2", revision=1)
    state = run.decide(action="approve")

    _ended(state, case.final({"a": "A", "b": "B2"}), case.stop_reason)
    assert state["ticket"] == "T-42"
    assert run.app.get_state(run.config).values["ticket"] == "T-42"
    assert state["usage"]["b"]["calls"] == 2
    run.complete()


# --- malformed decisions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "decision",
    [{"action": "approve", "bogus": 1}, {"action": "edit"}],
    ids=["extra-key", "edit-without-content"],
)
def test_malformed_decision_is_refused_with_the_state_unchanged(
    case: PatternCase, decision: dict[str, Any]
) -> None:
    run = _team(case, ["B"], agent_options={"approval": "after"})
    run.start()
    before = run.app.get_state(run.config)

    with pytest.raises(ValidationError) as caught:
        run.app.invoke(Command(resume=decision), run.config)
    assert caught.value.title == "ApprovalDecision"

    after = run.app.get_state(run.config)
    assert after.values == before.values
    assert after.next == before.next
    assert after.config == before.config  # no new checkpoint
    assert after.interrupts == before.interrupts
    assert run.pending() == _approval("after", "B")

    state = run.decide(action="approve")
    _ended(state, case.final(OUTPUTS), case.stop_reason)
    assert [d["action"] for d in _records(state, "approval")] == ["approve"]
    run.complete()


# --- termination -----------------------------------------------------------------------


def test_termination_condition_ends_with_the_real_last_output(case: PatternCase) -> None:
    if not case.takes_termination:
        pytest.skip(f"termination= not yet supported by {case.name}")

    def after_a(state: Mapping[str, Any]) -> bool:
        return any(isinstance(m, AIMessage) and m.name == "a" for m in state["messages"])

    condition = FunctionCondition(after_a, reason="enough_said")
    run = _team(case, ["B"], agent_options={}, termination=condition)
    state = run.start()
    took_turns = [r["agent"] for r in state["audit"] if r["kind"] == "turn"]
    outputs = {name: text for name, text in OUTPUTS.items() if name in took_turns}
    assert "a" in outputs
    _ended(state, case.final(outputs), "enough_said")


# --- resume in a fresh process ---------------------------------------------------------


def _child_env() -> dict[str, str]:
    """The fresh process's environment: the suite importable, no tracing (no network)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    env["LANGSMITH_TRACING"] = "false"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A durable store both processes open (Postgres skips when unreachable)."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'checkpoints.db'}"


def test_resume_in_a_fresh_process(case: PatternCase, store_url: str, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    thread = str(uuid.uuid4())
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    with open_checkpointer(store_url) as saver:
        team = resume_worker.build_team(case, log).compile(checkpointer=saver)
        team.invoke({"messages": [("user", TASK)]}, config)
        assert [i.value for i in team.get_state(config).interrupts] == [_approval("after", "B")]
    before = log.read_text().splitlines()
    assert "b" in before

    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", WORKER, case.name, store_url, str(log), thread],
        capture_output=True,
        text=True,
        timeout=90,
        env=_child_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result = json.loads(done.stdout)

    # Work done before the pause was not redone: each agent ran exactly once in all.
    assert sorted(log.read_text().splitlines()) == ["a", "b", "c"]
    assert log.read_text().splitlines()[: len(before)] == before
    expected = case.final(resume_worker.OUTPUTS)
    assert (result["final"], result["stop_reason"]) == (expected, case.stop_reason)
    assert (result["interrupted"], result["next"]) == (False, [])
    approvals = [detail for kind, _, detail in result["audit"] if kind == "approval"]
    assert [(d["action"], d["reviewer"]) for d in approvals] == [
        ("approve", resume_worker.REVIEWER)
    ]
    assert result["audit"][-1][0] == "termination"
    # Each agent was called once in all; a manager's own calls may be counted too.
    assert {k: v for k, v in result["usage"].items() if k in "abc"} == {"a": 1, "b": 1, "c": 1}

    # The resumed state is in the store for any later process.
    with open_checkpointer(store_url) as saver:
        team = resume_worker.build_team(case, log).compile(checkpointer=saver)
        stored = team.get_state(config).values
    assert (stored["final"], len(stored["audit"])) == (result["final"], len(result["audit"]))


# --- completion actions and redaction ---------------------------------------------------


def test_on_end_runs_once_with_the_final_state(case: PatternCase) -> None:
    seen: list[tuple[str | None, str | None]] = []

    def note(state: Mapping[str, Any]) -> None:
        seen.append((state["final"], state["stop_reason"]))

    run = _team(case, ["B"], agent_options={"approval": "after"}, on_end=[note])
    run.start()
    assert seen == []  # a pause for approval is not the end of the run
    state = run.decide(action="approve")
    assert seen == [(case.final(OUTPUTS), case.stop_reason)]
    assert (state["final"], state["stop_reason"]) == (case.final(OUTPUTS), case.stop_reason)
    completion = state["audit"][-1]
    assert (completion["kind"], completion["detail"]["action"]) == ("completion", "note")
    assert completion["detail"]["status"] == "done"
    assert state["audit"][-2]["kind"] == "termination"
    run.complete()


def test_redact_clears_the_stored_exceptions_and_audit(case: PatternCase) -> None:
    secret = "ana@example.com"
    run = _team(
        case,
        [ValueError(f"cannot mail {secret}")],
        agent_options={"on_error": "escalate"},
        redact="default",
    )
    paused = run.start()
    [record] = paused["exceptions"]
    assert record["error"] == "cannot mail [redacted email]"
    state = run.decide(action="abort")
    assert state["stop_reason"] == "aborted"
    assert secret not in json.dumps([state["audit"], state["exceptions"]], default=str)
    assert "[redacted email]" in json.dumps(state["audit"])
    run.complete()


def test_redact_agents_keeps_a_planted_secret_from_the_agents(case: PatternCase) -> None:
    secret = "ana@example.com"
    run = _team(case, ["B"], agent_options={}, redact="default", redact_agents=True)
    state = run.app.invoke({"messages": [("user", f"{TASK} for {secret}")]}, run.config)
    assert (state["final"], state["stop_reason"]) == (case.final(OUTPUTS), case.stop_reason)
    seen = json.dumps([run.seen("a"), run.seen("b")])
    assert secret not in seen
    assert state["messages"][0].text == f"{TASK} for {secret}"  # the transcript keeps it
    run.complete()
