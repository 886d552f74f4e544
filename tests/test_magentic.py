"""`create_magentic`: ledgers, stalls, replans, resets, plan review, resume, bounds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import ValidationError

from langgraph_orchestra import Agent, TeamConfigError, create_magentic
from langgraph_orchestra.testing import ScriptedModel

TASK = {"messages": [("user", "What share of new cars sold in Spain in 2025 were EVs?")]}
LEDGER = {
    "facts_given": ["the country and the year"],
    "facts_to_look_up": ["2025 car and EV sales"],
    "facts_to_derive": ["the share"],
    "educated_guesses": [],
    "plan": ["researcher: find the sales", "analyst: compute the share"],
}
NEW_PLAN = {**LEDGER, "plan": ["analyst: estimate from 2024 data"]}


def progress(
    speaker: str = "researcher",
    instruction: str = "Find 2025 sales",
    *,
    done: bool = False,
    moving: bool = True,
    loop: bool = False,
) -> dict[str, Any]:
    return {
        "is_request_satisfied": done,
        "is_in_loop": loop,
        "is_progress_being_made": moving,
        "next_speaker": speaker,
        "instruction": instruction,
        "reason": "per the plan",
    }


def thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def team(
    manager: ScriptedModel, seen: dict[str, list[list[str]]] | None = None, **options: Any
) -> Any:
    def agent(name: str, reply: str) -> Agent:
        def run(messages: list[BaseMessage]) -> str:
            if seen is not None:
                seen.setdefault(name, []).append([m.text for m in messages])
            return reply

        return Agent(name, f"The {name}", runnable=run)

    return create_magentic(
        [agent("researcher", "1.1M cars, 130k EVs"), agent("analyst", "About 12%")],
        manager_model=manager,
        **options,
    )


def decisions(state: dict[str, Any]) -> list[str | None]:
    return [r["detail"].get("decision") for r in state["audit"] if r["agent"] == "manager"]


def test_a_clean_run_to_satisfaction() -> None:
    manager = ScriptedModel(
        [
            LEDGER,
            progress(),
            progress("analyst", "Compute the share"),
            progress(done=True),
            "About 12% of new cars were EVs (130k of 1.1M).",
        ]
    )
    seen: dict[str, list[list[str]]] = {}
    app = team(manager, seen).compile(checkpointer=InMemorySaver())
    events: list[str] = []
    state: dict[str, Any] = {}
    for mode, chunk in app.stream(TASK, thread(), stream_mode=["custom", "values"]):
        if mode == "custom":
            if chunk["type"].startswith("magentic."):  # the pattern's own events
                events.append(chunk["type"])
        else:
            state = chunk
    assert (state["final"], state["stop_reason"], state["round"]) == (
        "About 12% of new cars were EVs (130k of 1.1M).",
        "completed",
        2,
    )
    assert state["task_ledger"] == LEDGER
    assert state["progress_ledger"]["is_request_satisfied"] is True
    # Each agent answered the manager's instruction (with the task, as context "last").
    assert seen["analyst"] == [[TASK["messages"][0][1], "Compute the share"]]
    assert decisions(state) == ["plan", "progress", "progress", "progress", "final_answer"]
    assert events == [
        "magentic.plan",
        "magentic.progress",
        "magentic.progress",
        "magentic.progress",
        "magentic.final",
    ]
    assert state["usage"]["manager"]["calls"] == 5
    manager.assert_complete()


def test_an_invalid_ledger_is_reasked_then_the_manager_replans() -> None:
    ghost = progress("ghost", "Do something")  # an unknown speaker: never reaches a node
    manager = ScriptedModel(
        [LEDGER, ghost, ghost, ghost, NEW_PLAN, progress("analyst"), progress(done=True), "12%"]
    )
    state = team(manager, final_answer=True).compile().invoke(TASK)
    assert state["stop_reason"] == "completed"
    assert "ghost" not in {m.name for m in state["messages"]}
    assert decisions(state)[:3] == ["plan", "invalid_ledger", "replan"]
    assert state["task_ledger"] == NEW_PLAN
    assert state["stalls"] == 0
    reask = manager.calls[2][-1].text
    assert reask.startswith("Your last reply could not be used as a ProgressLedger: next_speaker:")
    manager.assert_complete()


def test_stalls_replan_with_history_then_reset_then_end_with_a_real_partial_answer() -> None:
    stuck = progress("researcher", "Try again", moving=False)
    manager = ScriptedModel(
        [
            LEDGER,
            stuck,  # stall 1 -> floor
            stuck,  # stall 2 = max: replan with the full history, then reset
            NEW_PLAN,
            stuck,  # stall 1 after the reset -> floor
            stuck,  # stall 2, no resets left: end
            "Partial: 130k EVs found; total sales unknown.",
        ]
    )
    seen: dict[str, list[list[str]]] = {}
    state = team(manager, seen, max_stalls=2, max_resets=1).compile().invoke(TASK)
    assert (state["final"], state["stop_reason"]) == (
        "Partial: 130k EVs found; total sales unknown.",
        "stalled",
    )
    assert decisions(state) == [
        "plan",
        "progress",
        "progress",
        "replan",
        "reset",
        "progress",
        "progress",
        "final_answer",
    ]
    assert state["resets"] == 1
    # The replan read the full history (the researcher's earlier answer is in it).
    replan_prompt = [m.text for m in manager.calls[3]]
    assert "1.1M cars, 130k EVs" in replan_prompt
    # After the reset the researcher sees the task and what came since, nothing older.
    before, after = seen["researcher"][0], seen["researcher"][-1]
    assert after == [TASK["messages"][0][1], "Try again"]
    assert len(seen["researcher"]) == 2 and before == after
    manager.assert_complete()


def test_max_rounds_ends_with_a_synthesis_and_without_one_the_latest_output() -> None:
    manager = ScriptedModel([LEDGER, progress(), "so far: 130k EVs"])
    state = team(manager, max_rounds=1).compile().invoke(TASK)
    assert (state["final"], state["stop_reason"]) == ("so far: 130k EVs", "max_rounds")
    manager = ScriptedModel([LEDGER, progress()])
    state = team(manager, max_rounds=1, final_answer=False).compile().invoke(TASK)
    assert (state["final"], state["stop_reason"]) == ("1.1M cars, 130k EVs", "max_rounds")


def test_a_plan_that_never_comes_ends_the_run_with_the_reason() -> None:
    manager = ScriptedModel(["not json", "still not", "nope"])
    state = team(manager).compile().invoke(TASK)
    assert (state["final"], state["stop_reason"]) == (None, "error")
    assert state["usage"]["manager"]["calls"] == 3


# --- plan review ----------------------------------------------------------------------------


def reviewed(*replies: Any) -> tuple[Any, ScriptedModel]:
    manager = ScriptedModel(list(replies))
    return team(manager, plan_review=True, max_revisions=1).compile(
        checkpointer=InMemorySaver()
    ), manager


def test_plan_review_approve() -> None:
    app, manager = reviewed(LEDGER, progress(done=True), "done")
    paused = app.invoke(TASK, thread())
    (request,) = [i.value for i in paused["__interrupt__"]]
    assert request == {
        "type": "plan_review",
        "ledger": LEDGER,
        "revision": 0,
        "max_revisions": 1,
        "actions": ["approve", "edit", "reject"],
    }
    state = app.invoke(Command(resume={"action": "approve", "reviewer": "ana"}), thread())
    assert state["stop_reason"] == "completed"
    manager.assert_complete()


def test_plan_review_edit_replaces_the_steps() -> None:
    app, _ = reviewed(LEDGER, progress(done=True), "done")
    app.invoke(TASK, thread())
    state = app.invoke(Command(resume={"action": "edit", "plan": ["analyst: guess"]}), thread())
    assert state["task_ledger"]["plan"] == ["analyst: guess"]


def test_plan_review_reject_replans_with_the_feedback_then_reviews_again() -> None:
    app, manager = reviewed(LEDGER, NEW_PLAN, progress(done=True), "done")
    app.invoke(TASK, thread())
    paused = app.invoke(Command(resume={"action": "reject", "feedback": "use 2024 data"}), thread())
    (request,) = [i.value for i in paused["__interrupt__"]]
    assert (request["ledger"], request["revision"]) == (NEW_PLAN, 1)
    assert "Reviewer's feedback on the plan: use 2024 data" in manager.calls[1][0].text
    # One more rejection is past max_revisions=1: the run stops as rejected.
    state = app.invoke(Command(resume={"action": "reject", "feedback": "no"}), thread())
    assert state["stop_reason"] == "rejected"


def test_a_malformed_plan_decision_is_refused() -> None:
    app, _ = reviewed(LEDGER, progress(done=True), "done")
    app.invoke(TASK, thread())
    before = app.get_state(thread()).values
    with pytest.raises(ValidationError):
        app.invoke(Command(resume={"action": "edit"}), thread())
    assert app.get_state(thread()).values == before


def test_resume_in_a_fresh_process_keeps_the_ledgers(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    script = textwrap.dedent(
        f"""
        import json, sys
        from langgraph.types import Command
        from langgraph_orchestra import Agent, create_magentic, open_checkpointer
        from langgraph_orchestra.testing import ScriptedModel

        LEDGER = {LEDGER!r}
        done = {progress(done=True)!r}
        replies = [LEDGER] if sys.argv[1] == "start" else [done, "final answer"]
        team = create_magentic(
            [Agent("researcher", runnable=lambda m: "x")],
            manager_model=ScriptedModel(replies),
            plan_review=True,
        )
        config = {{"configurable": {{"thread_id": "m"}}}}
        with open_checkpointer("sqlite:///{db}") as saver:
            app = team.compile(checkpointer=saver)
            if sys.argv[1] == "start":
                out = app.invoke({{"messages": [("user", "go")]}}, config)
                print(json.dumps(out["__interrupt__"][0].value["type"]))
            else:
                out = app.invoke(Command(resume={{"action": "approve"}}), config)
                print(json.dumps([out["final"], out["stop_reason"], out["task_ledger"]]))
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

    assert run("start") == "plan_review"
    assert run("resume") == ["final answer", "completed", LEDGER]


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"manager_model": None},
            "magentic needs manager_model: the chat model that leads the team",
        ),
        ({"max_stalls": 0}, "max_stalls must be a whole number >= 1, got 0"),
        ({"max_resets": -1}, "max_resets must be a whole number >= 0, got -1"),
        ({"plan_review": "yes"}, "plan_review must be True or False, got 'yes'"),
    ],
)
def test_bad_arguments(options: dict[str, Any], message: str) -> None:
    arguments = {"manager_model": ScriptedModel([]), **options}
    with pytest.raises(TeamConfigError, match="^" + re.escape(message) + "$"):
        create_magentic([Agent("a", runnable=lambda m: "x")], **arguments)
