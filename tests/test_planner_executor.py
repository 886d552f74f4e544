"""`create_planner_executor`: validated plans, DAG waves, evaluation, replans, approval."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from _meet import Meeting
from _views import seen_by
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import ValidationError

from langgraph_orchestra import Agent, Score, TeamConfigError, create_planner_executor
from langgraph_orchestra.prompts import (
    EVALUATION_REQUEST,
    PLAN_REJECTED,
    PLAN_REPLAN,
    PLAN_SCORED,
    PLAN_STEP_LINE,
    PLAN_STEP_OUTPUT,
    PLAN_SYNTHESIS,
    REASK,
)
from langgraph_orchestra.testing import ScriptedModel

TASK = {"messages": [("user", "Write a brief on e-bike rules")]}


def step(id: str, agent: str, instruction: str, *depends_on: str) -> dict[str, Any]:
    return {"id": id, "agent": agent, "instruction": instruction, "depends_on": list(depends_on)}


def plan(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"steps": list(steps)}


class Team:
    """Agents that answer `<name>: <instruction>` and record what they saw."""

    def __init__(
        self, *names: str, meet: Mapping[str, Meeting] | None = None, **agent_options: Any
    ) -> None:
        self.seen: dict[str, list[list[str]]] = {}
        meetings = meet or {}
        self.agents = [self._agent(n, meetings.get(n), agent_options.get(n, {})) for n in names]

    def _agent(self, name: str, meeting: Meeting | None, options: Mapping[str, Any]) -> Agent:
        def run(messages: list[BaseMessage]) -> str:
            self.seen.setdefault(name, []).append([m.text for m in messages])
            if meeting is not None:
                meeting.wait()  # passes only once every agent of the meeting runs
            if messages[-1].text == "fail":
                raise ValueError("boom")
            return f"{name}: {messages[-1].text}"

        return Agent(name, f"The {name}", runnable=run, **options)


def thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def records(state: Mapping[str, Any], kind: str) -> list[tuple[str | None, dict[str, Any]]]:
    return [(r["agent"], r["detail"]) for r in state["audit"] if r["kind"] == kind]


def output(step_id: str, agent: str, text: str) -> str:
    return PLAN_STEP_OUTPUT.format(step=step_id, agent=agent, output=text)


# --- execution -------------------------------------------------------------------------


def test_ready_steps_run_in_parallel_and_a_step_sees_only_its_inputs() -> None:
    both = Meeting(2)  # the two independent steps must run at the same time
    team = Team("market", "rules", "writer", meet={"market": both, "rules": both})
    planner = ScriptedModel(
        [
            plan(
                step("m", "market", "Size the market"),
                step("r", "rules", "List the rules"),
                step("w", "writer", "Write the brief", "m", "r"),
            )
        ]
    )
    app = create_planner_executor(team.agents, planner_model=planner).compile()
    result = app.invoke(TASK)
    # No step sees the transcript: only its dependencies' outputs, then its instruction.
    assert team.seen["market"] == [["Size the market"]]
    assert team.seen["writer"] == [
        [
            output("m", "market", "market: Size the market"),
            output("r", "rules", "rules: List the rules"),
            "Write the brief",
        ]
    ]
    assert (result["final"], result["stop_reason"]) == ("writer: Write the brief", "completed")
    assert {k: v["status"] for k, v in result["steps"].items()} == {
        "m": "done",
        "r": "done",
        "w": "done",
    }
    assert result["steps"]["r"] == {
        "status": "done",
        "output": "rules: List the rules",
        "reason": None,
    }
    runs = [d["steps"] for a, d in records(result, "routing") if d.get("decision") == "run"]
    assert runs == [["m", "r"], ["w"]]
    assert [a for a, d in records(result, "plan")] == ["planner"] * 3
    assert result["usage"]["planner"]["calls"] == 1
    planner.assert_complete()


def test_two_ready_steps_of_one_agent_run_in_successive_waves_and_sinks_are_joined() -> None:
    team = Team("analyst")
    planner = ScriptedModel(
        [plan(step("q1", "analyst", "Price in Spain"), step("q2", "analyst", "Price in France"))]
    )
    result = create_planner_executor(team.agents, planner_model=planner).compile().invoke(TASK)
    runs = [d["steps"] for _, d in records(result, "routing") if d.get("decision") == "run"]
    assert runs == [["q1"], ["q2"]]
    assert result["final"] == "q1: analyst: Price in Spain\n\nq2: analyst: Price in France"


def test_a_failed_step_with_continue_skips_its_dependents_and_the_rest_goes_on() -> None:
    team = Team("a", "b", "c", a={"on_error": "continue"})
    planner = ScriptedModel(
        [
            plan(
                step("s1", "a", "fail"),
                step("s2", "b", "use s1", "s1"),
                step("s3", "c", "use s2", "s2"),
                step("s4", "c", "on its own"),
            )
        ]
    )
    result = create_planner_executor(team.agents, planner_model=planner).compile().invoke(TASK)
    assert result["steps"] == {
        "s1": {"status": "failed", "output": None, "reason": "boom"},
        "s2": {"status": "skipped", "output": None, "reason": "step 's1' failed"},
        "s3": {"status": "skipped", "output": None, "reason": "step 's2' skipped"},
        "s4": {"status": "done", "output": "c: on its own", "reason": None},
    }
    assert "b" not in team.seen
    assert (result["final"], result["stop_reason"]) == ("c: on its own", "completed")
    [exception] = result["exceptions"]
    assert (exception["agent"], exception["status"]) == ("a", "continued")
    [(_, first)] = [r for r in records(result, "plan") if r[1]["decision"] == "steps"][:1]
    assert first["steps"]["s2"]["status"] == "skipped"


# --- invalid plans ---------------------------------------------------------------------

GOOD = plan(step("s1", "a", "go"))


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (plan(step("s1", "zed", "go")), "steps.0.agent: Input should be 'a' or 'b'"),
        (
            plan(step("s1", "a", "go", "s2"), step("s2", "b", "go", "s1")),
            "the steps s1 -> s2 -> s1 form a cycle; a step cannot depend on itself, "
            "directly or through other steps",
        ),
        (
            plan(step("s1", "a", "go", "s1")),
            "the steps s1 -> s1 form a cycle; a step cannot depend on itself, "
            "directly or through other steps",
        ),
        (
            plan(step("s1", "a", "go", "s9")),
            "step 's1' depends on 's9', which is not a step of the plan; steps: s1",
        ),
        (
            plan(step("s1", "a", "go"), step("s1", "b", "again")),
            "step id 's1' is used twice; step ids must be unique",
        ),
        (plan(), "the plan has no steps; give at least one"),
    ],
    ids=["unknown-agent", "cycle", "self-dependency", "dangling", "duplicate", "empty"],
)
def test_an_invalid_plan_goes_back_to_the_planner_with_the_exact_error(
    bad: dict[str, Any], error: str
) -> None:
    planner = ScriptedModel([bad, GOOD])
    team = Team("a", "b")
    result = create_planner_executor(team.agents, planner_model=planner).compile().invoke(TASK)
    assert seen_by(planner)[1][-1] == (
        "HumanMessage",
        "orchestra",
        REASK.format(schema="Plan", error=error, reply=str(bad)),
    )
    assert (result["final"], result["stop_reason"]) == ("a: go", "completed")
    assert result["usage"]["planner"]["calls"] == 2


def test_no_valid_plan_within_the_reasks_ends_the_run_with_error() -> None:
    planner = ScriptedModel([plan(), plan(), plan()])
    result = create_planner_executor(Team("a").agents, planner_model=planner).compile().invoke(TASK)
    assert (result["final"], result["stop_reason"]) == (None, "error")
    assert records(result, "plan") == [
        (
            "planner",
            {
                "decision": "failed",
                "error": "'planner' gave no valid Plan after 3 replies; last problem: "
                "the plan has no steps; give at least one",
            },
        )
    ]
    assert result["audit"][-1]["detail"] == {"reason": "error"}
    assert result["usage"]["planner"]["calls"] == 3
    planner.assert_complete()


# --- evaluation and replans ------------------------------------------------------------

FIRST = plan(step("d", "a", "Draft it"))
SECOND = plan(step("d", "a", "Draft it with sources"))


def test_below_threshold_the_planner_replans_with_the_scores_and_what_was_done() -> None:
    planner = ScriptedModel([FIRST, SECOND])
    judge = ScriptedModel(
        [{"score": 0.3, "reasons": ["no sources"]}, {"score": 0.9, "reasons": ["good"]}]
    )
    app = create_planner_executor(
        Team("a").agents,
        planner_model=planner,
        evaluator=Agent("judge", model=judge),
        threshold=0.7,
    ).compile()
    events = [
        e
        for mode, e in app.stream(TASK, stream_mode=["custom", "values"])
        if mode == "custom" and e["type"].startswith("planner_executor.")
    ]
    assert [e["type"] for e in events] == [
        "planner_executor.plan",
        "planner_executor.evaluated",
        "planner_executor.replan",
        "planner_executor.evaluated",
    ]
    # The judge saw the task and the result; the planner saw why and what was done.
    assert seen_by(judge)[0] == [
        ("HumanMessage", None, "Write a brief on e-bike rules"),
        ("HumanMessage", None, EVALUATION_REQUEST.format(result="a: Draft it")),
    ]
    why = PLAN_SCORED.format(score=0.3, threshold=0.7, reasons="- no sources")
    done = PLAN_STEP_LINE.format(
        step="d", agent="a", status="done", instruction="Draft it", output="a: Draft it"
    )
    assert seen_by(planner)[1][-1] == (
        "HumanMessage",
        "orchestra",
        PLAN_REPLAN.format(why=why, done=done),
    )
    judge.assert_complete()
    planner.assert_complete()


def test_a_replan_is_typed_in_state_and_in_the_audit() -> None:
    planner = ScriptedModel([FIRST, SECOND])
    judge = ScriptedModel(
        [{"score": 0.3, "reasons": ["no sources"]}, {"score": 0.9, "reasons": ["good"]}]
    )
    result = (
        create_planner_executor(
            Team("a").agents,
            planner_model=planner,
            evaluator=Agent("judge", model=judge),
            threshold=0.7,
        )
        .compile()
        .invoke(TASK)
    )
    assert (result["final"], result["stop_reason"]) == ("a: Draft it with sources", "completed")
    first = {"score": 0.3, "reasons": ["no sources"], "threshold": 0.7, "result": "a: Draft it"}
    assert result["evaluations"] == [
        first,
        {"score": 0.9, "reasons": ["good"], "threshold": 0.7, "result": "a: Draft it with sources"},
    ]
    assert result["replans"] == [
        {
            "reason": "below_threshold",
            "feedback": "",
            "evaluation": first,
            "plan": FIRST["steps"],
            "steps": {"d": {"status": "done", "output": "a: Draft it", "reason": None}},
        }
    ]
    assert result["plan"] == SECOND["steps"]
    decisions = [(a, d["decision"]) for a, d in records(result, "plan")]
    assert decisions == [
        ("planner", "plan"),
        ("planner", "steps"),
        ("judge", "evaluated"),
        ("planner", "replan"),
        ("planner", "steps"),
        ("judge", "evaluated"),
    ]
    assert (result["usage"]["judge"]["calls"], result["usage"]["planner"]["calls"]) == (2, 2)


def test_after_max_replans_the_best_result_so_far_is_final() -> None:
    scores = {"a: v1": 0.4, "a: v2": 0.6, "a: v3": 0.5}
    planner = ScriptedModel([plan(step("s", "a", f"v{i}")) for i in (1, 2, 3)])

    def evaluate(state: Mapping[str, Any]) -> Score:
        return Score(score=scores[state["result"]], reasons=["meh"])

    result = (
        create_planner_executor(
            Team("a").agents, planner_model=planner, evaluator=evaluate, threshold=0.8
        )
        .compile()
        .invoke(TASK)
    )
    assert (result["final"], result["stop_reason"]) == ("a: v2", "below_threshold")
    assert [e["score"] for e in result["evaluations"]] == [0.4, 0.6, 0.5]
    assert len(result["replans"]) == 2
    assert [a for a, d in records(result, "plan") if d["decision"] == "evaluated"] == [
        "evaluator"
    ] * 3
    planner.assert_complete()


def test_the_synthesizer_sees_the_step_outputs_and_answers_final() -> None:
    writer = ScriptedModel(["The brief."])
    planner = ScriptedModel([plan(step("m", "a", "Size it"), step("r", "b", "Rules"))])
    result = (
        create_planner_executor(
            Team("a", "b").agents,
            planner_model=planner,
            synthesizer=Agent("editor", model=writer),
        )
        .compile()
        .invoke(TASK)
    )
    outputs = "\n\n".join([output("m", "a", "a: Size it"), output("r", "b", "b: Rules")])
    assert seen_by(writer) == [
        [
            ("HumanMessage", None, "Write a brief on e-bike rules"),
            ("HumanMessage", "planner", PLAN_SYNTHESIS.format(outputs=outputs)),
        ]
    ]
    assert (result["final"], result["stop_reason"]) == ("The brief.", "completed")
    assert result["usage"]["editor"]["calls"] == 1


# --- plan approval ---------------------------------------------------------------------


def approval_team(planner: ScriptedModel, **options: Any) -> Any:
    return create_planner_executor(
        Team("a", "b").agents, planner_model=planner, plan_approval=True, **options
    ).compile(checkpointer=InMemorySaver())


def test_plan_approval_shows_the_plan_and_approve_runs_it() -> None:
    app = approval_team(ScriptedModel([GOOD]))
    paused = app.invoke(TASK, thread())
    [request] = [i.value for i in paused["__interrupt__"]]
    assert request == {
        "type": "plan_approval",
        "plan": GOOD["steps"],
        "revision": 0,
        "max_revisions": 3,
        "actions": ["approve", "edit", "reject"],
    }
    result = app.invoke(Command(resume={"action": "approve", "reviewer": "cfo"}), thread())
    assert (result["final"], result["stop_reason"]) == ("a: go", "completed")
    assert records(result, "approval") == [
        (
            "planner",
            {"when": "plan", "action": "approve", "reviewer": "cfo", "feedback": "", "revision": 0},
        )
    ]


def test_an_edited_plan_is_checked_again_and_a_malformed_one_is_refused() -> None:
    app = approval_team(ScriptedModel([GOOD]))
    app.invoke(TASK, thread())
    before = app.get_state(thread())
    looping = plan(step("x", "a", "go", "x"))
    with pytest.raises(ValidationError, match=re.escape("the steps x -> x form a cycle")):
        app.invoke(Command(resume={"action": "edit", "plan": looping}), thread())
    with pytest.raises(ValidationError, match="Input should be 'a' or 'b'"):
        app.invoke(
            Command(resume={"action": "edit", "plan": plan(step("x", "zed", "go"))}), thread()
        )
    with pytest.raises(ValidationError, match="action 'edit' needs 'plan'"):
        app.invoke(Command(resume={"action": "edit"}), thread())
    after = app.get_state(thread())
    assert (after.config, after.interrupts) == (before.config, before.interrupts)

    edited = plan(step("x", "b", "edited step"))
    result = app.invoke(Command(resume={"action": "edit", "plan": edited}), thread())
    assert (result["final"], result["plan"]) == ("b: edited step", edited["steps"])
    [(_, record)] = records(result, "approval")
    assert (record["action"], record["plan"], record["original"]) == (
        "edit",
        edited["steps"],
        GOOD["steps"],
    )


def test_a_rejected_plan_is_replanned_with_the_feedback_and_reviewed_again() -> None:
    planner = ScriptedModel([GOOD, plan(step("s1", "b", "better"))])
    app = approval_team(planner, max_revisions=1)
    app.invoke(TASK, thread())
    paused = app.invoke(Command(resume={"action": "reject", "feedback": "use b"}), thread())
    [request] = [i.value for i in paused["__interrupt__"]]
    assert (request["plan"], request["revision"]) == ([step("s1", "b", "better")], 1)
    done = PLAN_STEP_LINE.format(
        step="s1", agent="a", status="pending", instruction="go", output="(none)"
    )
    assert seen_by(planner)[1][-1][2] == PLAN_REPLAN.format(
        why=PLAN_REJECTED.format(feedback="use b"), done=done
    )
    assert app.get_state(thread()).values["replans"][0]["reason"] == "rejected"
    # The second rejection uses up max_revisions=1: the run stops, nothing was run.
    result = app.invoke(Command(resume={"action": "reject", "feedback": "no"}), thread())
    assert (result["final"], result["stop_reason"]) == (None, "rejected")
    assert result["audit"][-1]["detail"] == {"reason": "rejected"}
    planner.assert_complete()


# --- durability ------------------------------------------------------------------------


def test_resume_in_another_process_mid_plan_reruns_no_finished_step(tmp_path: Path) -> None:
    db, log = tmp_path / "p.db", tmp_path / "runs.log"
    script = textwrap.dedent(
        f"""
        import json, sys
        from langgraph.types import Command
        from langgraph_orchestra import Agent, create_planner_executor, open_checkpointer
        from langgraph_orchestra.testing import ScriptedModel

        def agent(name, **options):
            def run(messages):
                with open({str(log)!r}, "a") as f:
                    f.write(name + "\\n")
                return name + ": " + messages[-1].text
            return Agent(name, runnable=run, **options)

        def step(i, agent, *deps):
            return {{"id": i, "agent": agent, "instruction": i, "depends_on": list(deps)}}

        start = sys.argv[1] == "start"
        planner = ScriptedModel(
            [{{"steps": [step("s1", "a"), step("s2", "b", "s1"), step("s3", "c", "s2")]}}]
            if start else []
        )
        team = create_planner_executor(
            [agent("a"), agent("b", approval="after"), agent("c")], planner_model=planner
        )
        config = {{"configurable": {{"thread_id": "p"}}}}
        with open_checkpointer("sqlite:///{db}") as saver:
            app = team.compile(checkpointer=saver)
            if start:
                out = app.invoke({{"messages": [("user", "report")]}}, config)
                steps = {{k: v["status"] for k, v in out["steps"].items()}}
                print(json.dumps([[i.value for i in out["__interrupt__"]], steps]))
            else:
                out = app.invoke(Command(resume={{"action": "approve"}}), config)
                steps = {{k: v["status"] for k, v in out["steps"].items()}}
                print(json.dumps([out["final"], out["stop_reason"], steps]))
        """
    )

    def run(phase: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-W", "error", "-c", script, phase],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    [request], steps = run("start")
    assert (request["agent"], request["content"]) == ("b", "b: s2")
    assert steps == {"s1": "done", "s2": "running", "s3": "pending"}
    final, reason, steps = run("resume")
    assert (final, reason) == ("c: s3", "completed")
    assert steps == {"s1": "done", "s2": "done", "s3": "done"}
    assert log.read_text().splitlines() == ["a", "b", "c"]


# --- shape and arguments ---------------------------------------------------------------


def test_topology() -> None:
    graph = create_planner_executor(
        Team("a", "b").agents,
        planner_model=ScriptedModel([]),
        evaluator=lambda state: Score(score=1.0),
        threshold=0.5,
        plan_approval=True,
        synthesizer=Agent("editor", runnable=lambda m: "x"),
    ).compile()
    drawing = graph.get_graph()
    assert set(drawing.nodes) == {
        "__start__",
        "start",
        "plan",
        "review_plan",
        "fanout",
        "a",
        "b",
        "editor",
        "join",
        "evaluate",
        "__end__",
    }
    # (LangGraph's drawing may add edges into the deferred `join` that never run.)
    assert {(e.source, e.target) for e in drawing.edges} >= {
        ("__start__", "start"),
        ("start", "review_plan"),
        ("start", "__end__"),
        ("plan", "review_plan"),
        ("plan", "__end__"),
        ("review_plan", "fanout"),
        ("review_plan", "plan"),
        ("review_plan", "__end__"),
        ("fanout", "a"),
        ("fanout", "b"),
        ("fanout", "editor"),
        ("fanout", "evaluate"),
        ("fanout", "join"),
        ("fanout", "__end__"),
        ("a", "join"),
        ("b", "join"),
        ("join", "fanout"),
        ("join", "__end__"),
        ("editor", "evaluate"),
        ("evaluate", "plan"),
        ("evaluate", "__end__"),
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"planner_model": None},
            "planner_executor needs planner_model: the chat model that writes the plan",
        ),
        (
            {"threshold": 0.5},
            "planner_executor threshold needs an evaluator: an Agent answering a Score, "
            "or a callable state -> Score",
        ),
        (
            {"evaluator": lambda s: Score(score=1)},
            "planner_executor evaluator needs threshold: a score from 0 to 1, got None",
        ),
        (
            {"evaluator": lambda s: Score(score=1), "threshold": 1.5},
            "threshold must be from 0 to 1, got 1.5",
        ),
        (
            {"evaluator": "judge", "threshold": 0.5},
            "planner_executor evaluator must be an Agent answering a Score or a callable "
            "state -> Score, got 'judge'",
        ),
        (
            {"evaluator": Agent("a", runnable=lambda m: "x"), "threshold": 0.5},
            "The evaluator 'a' has the name of an agent: give it another name",
        ),
        (
            {"synthesizer": Agent("a", runnable=lambda m: "x")},
            "The synthesizer 'a' has the name of an agent: give it another name",
        ),
        ({"synthesizer": "editor"}, "planner_executor synthesizer must be an Agent, got str"),
        ({"max_replans": -1}, "max_replans must be a whole number >= 0, got -1"),
        ({"plan_approval": "yes"}, "plan_approval must be True or False, got 'yes'"),
    ],
)
def test_bad_arguments(options: dict[str, Any], message: str) -> None:
    arguments = {"planner_model": ScriptedModel([]), **options}
    with pytest.raises(TeamConfigError, match="^" + re.escape(message) + "$"):
        create_planner_executor([Agent("a", runnable=lambda m: "x")], **arguments)


def test_an_agent_may_not_take_a_node_name_of_the_pattern() -> None:
    message = (
        "Agent name 'join' is taken by planner_executor's own nodes "
        "['planner', 'plan', 'review_plan', 'join', 'evaluate']: rename the agent"
    )
    with pytest.raises(TeamConfigError, match="^" + re.escape(message) + "$"):
        create_planner_executor(
            [Agent("join", runnable=lambda m: "x")], planner_model=ScriptedModel([])
        )


def test_context_puts_a_view_of_the_transcript_before_the_steps_inputs() -> None:
    team = Team("a", "b")
    planner = ScriptedModel([plan(step("s1", "a", "first"), step("s2", "b", "second", "s1"))])
    create_planner_executor(team.agents, planner_model=planner, context="last").compile().invoke(
        TASK
    )
    assert team.seen["a"] == [["Write a brief on e-bike rules", "first"]]
    # "last": the task and the latest message (a's output), then b's own inputs.
    assert team.seen["b"] == [
        [
            "Write a brief on e-bike rules",
            "a: first",
            output("s1", "a", "a: first"),
            "second",
        ]
    ]
