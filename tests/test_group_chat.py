"""`create_group_chat` and `create_maker_checker`: selectors, bounds, seats, verdicts."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import ValidationError

from langgraph_orchestra import (
    Agent,
    ExternalStop,
    OrchestraError,
    TeamConfigError,
    TextMention,
    Verdict,
    create_group_chat,
    create_maker_checker,
)
from langgraph_orchestra.prompts import DEFAULT_PROMPTS
from langgraph_orchestra.testing import ScriptedModel

TASK = {"messages": [("user", "Write a tagline for a bicycle shop")]}


def says(text: str, seen: list[list[BaseMessage]] | None = None) -> Callable[..., str]:
    def reply(messages: list[BaseMessage]) -> str:
        if seen is not None:
            seen.append(list(messages))
        return text

    return reply


def trio(**options: Any) -> Any:
    agents = [
        Agent(n, f"The {n}", runnable=says(n.upper())) for n in ("writer", "critic", "editor")
    ]
    return create_group_chat(agents, **options)


def speakers(state: dict[str, Any]) -> list[str]:
    return [m.name for m in state["messages"] if m.name]


def routing(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["detail"] for r in state["audit"] if r["kind"] == "routing"]


# --- shape and round robin ---------------------------------------------------------------


def test_topology_is_a_star_around_the_manager() -> None:
    drawing = trio().compile().get_graph().draw_mermaid()
    edges = sorted(
        line.strip().rstrip(";") for line in drawing.splitlines() if "-->" in line or "-.->" in line
    )
    assert edges == [
        "__start__ --> start",
        "critic -.-> manager",
        "editor -.-> manager",
        "manager -.-> __end__",
        "manager -.-> critic",
        "manager -.-> editor",
        "manager -.-> writer",
        "start -.-> __end__",
        "start -.-> critic",
        "start -.-> editor",
        "start -.-> writer",
        "writer -.-> manager",
    ]


def test_round_robin_until_max_rounds_ends_with_the_real_last_answer() -> None:
    result = trio(max_rounds=4).compile().invoke(TASK)
    assert speakers(result) == ["writer", "critic", "editor", "writer"]
    assert (result["final"], result["stop_reason"], result["round"]) == ("WRITER", "max_rounds", 4)
    assert result["speaker"] == "writer"
    assert [(d["selector"], d["speaker"], d["round"]) for d in routing(result)] == [
        ("round_robin", "writer", 0),
        ("round_robin", "critic", 1),
        ("round_robin", "editor", 2),
        ("round_robin", "writer", 3),
    ]
    assert result["audit"][-1]["kind"] == "termination"
    assert result["audit"][-1]["detail"] == {"reason": "max_rounds"}


def test_a_default_bound_always_applies() -> None:
    result = trio().compile().invoke(TASK)
    assert (result["round"], result["stop_reason"]) == (20, "max_rounds")


def test_termination_condition_ends_the_chat() -> None:
    agents = [
        Agent("writer", runnable=says("draft")),
        Agent("critic", runnable=says("Looks good. APPROVED")),
    ]
    result = (
        create_group_chat(agents, termination=TextMention("APPROVED", reason="approved"))
        .compile()
        .invoke(TASK)
    )
    assert (result["final"], result["stop_reason"], result["round"]) == (
        "Looks good. APPROVED",
        "approved",
        2,
    )


def test_final_from_takes_that_participants_latest_answer() -> None:
    result = trio(max_rounds=5, final_from="critic").compile().invoke(TASK)
    assert speakers(result)[-1] == "critic"  # writer, critic, editor, writer, critic
    result = trio(max_rounds=4, final_from="critic").compile().invoke(TASK)
    assert speakers(result)[-1] == "writer"
    assert result["final"] == "CRITIC"


def test_external_stop_ends_after_the_current_turn() -> None:
    stop = ExternalStop()

    def writer(messages: list[BaseMessage]) -> str:
        stop.set()
        return "half a tagline"

    agents = [Agent("writer", runnable=writer), Agent("critic", runnable=says("no"))]
    result = create_group_chat(agents, termination=stop).compile().invoke(TASK)
    assert (result["final"], result["stop_reason"], result["round"]) == (
        "half a tagline",
        "stopped",
        1,
    )


def test_each_run_on_a_thread_starts_its_own_count() -> None:
    team = trio(max_rounds=2).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    team.invoke(TASK, config)
    second = team.invoke({"messages": [("user", "Now a slogan")]}, config)
    assert second["round"] == 2
    assert speakers(second)[-2:] == ["writer", "critic"]  # round robin starts over
    assert second["final"] == "CRITIC"


def test_agents_see_the_whole_conversation_by_default_and_a_window_when_asked() -> None:
    seen: list[list[BaseMessage]] = []
    agents = [Agent("a", runnable=says("A", seen)), Agent("b", runnable=says("B"))]
    create_group_chat(agents, max_rounds=5).compile().invoke(TASK)
    assert [len(v) for v in seen] == [1, 3, 5]
    from langgraph_orchestra import Window

    seen.clear()
    create_group_chat(agents, max_rounds=5, context=Window(1)).compile().invoke(TASK)
    assert [len(v) for v in seen] == [1, 2, 2]  # the task and the latest message
    assert isinstance(seen[-1][-1], HumanMessage) and seen[-1][-1].name == "b"


# --- the LLM selector ----------------------------------------------------------------------


def choose(*picks: str | dict[str, Any]) -> ScriptedModel:
    return ScriptedModel(
        [p if isinstance(p, dict) else {"speaker": p, "reason": f"{p} should speak"} for p in picks]
    )


def test_llm_selector_choice_reason_and_usage() -> None:
    manager = choose("critic", "writer")
    result = trio(selector="llm", manager_model=manager, max_rounds=2).compile().invoke(TASK)
    manager.assert_complete()
    assert speakers(result) == ["critic", "writer"]
    assert [(d["selector"], d["speaker"], d["reason"]) for d in routing(result)] == [
        ("llm", "critic", "critic should speak"),
        ("llm", "writer", "writer should speak"),
    ]
    usage = result["usage"]["manager"]
    assert usage["calls"] == 2 and usage["input_tokens"] > 0
    assert result["run_usage"]["manager"] == usage
    first = manager.calls[0]
    assert first[0].text == DEFAULT_PROMPTS.speaker_selection.format(
        participants="- writer: The writer\n- critic: The critic\n- editor: The editor",
        candidates="writer, critic, editor",
    )


def test_llm_selector_is_offered_only_allowed_names() -> None:
    manager = choose("critic", "editor")
    trio(selector="llm", manager_model=manager, max_rounds=2).compile().invoke(TASK)
    # After the critic, it may not speak again (allow_repeat=False).
    assert manager.calls[1][0].text.endswith(
        "Choose one of: writer, editor. Give a short reason for your choice."
    )


def test_an_unknown_name_is_reasked_with_the_error() -> None:
    manager = choose("publisher", "critic")
    result = trio(selector="llm", manager_model=manager, max_rounds=1).compile().invoke(TASK)
    assert speakers(result) == ["critic"]
    reask = manager.calls[1][-1].text
    assert reask.startswith("Your last reply could not be used as a SpeakerChoice: speaker:")
    assert "'writer', 'critic' or 'editor'" in reask
    assert result["usage"]["manager"]["calls"] == 2


def test_a_selector_that_keeps_answering_unknown_names_falls_back_within_the_rules() -> None:
    bad = {"speaker": "publisher", "reason": "?"}
    manager = ScriptedModel([{"speaker": "writer", "reason": "first"}, bad, bad, bad])
    result = (
        trio(
            selector="llm",
            manager_model=manager,
            max_rounds=2,
            allowed_transitions={"writer": ["writer", "editor"]},
        )
        .compile()
        .invoke(TASK)
    )
    # The fallback never picks the last speaker again nor someone the transitions exclude.
    assert speakers(result) == ["writer", "editor"]
    fallback = routing(result)[1]
    assert fallback["fallback"] is True
    assert fallback["reason"] == "no valid choice from the model: next in turn"
    assert fallback["error"].startswith("'manager' gave no valid SpeakerChoice after 3 replies")
    assert result["usage"]["manager"]["calls"] == 4  # failed attempts are paid for too
    manager.assert_complete()


async def test_llm_selector_async() -> None:
    manager = choose("editor", "writer")
    result = await trio(selector="llm", manager_model=manager, max_rounds=2).compile().ainvoke(TASK)
    assert speakers(result) == ["editor", "writer"]


# --- function selector and transitions ------------------------------------------------------


def test_function_selector_and_none_ends_the_chat() -> None:
    def pick(state: Any) -> str | None:
        return [None, "editor", "writer"][len(speakers(state)) % 3] if speakers(state) else "writer"

    result = trio(selector=pick).compile().invoke(TASK)
    assert speakers(result) == ["writer", "editor", "writer"]
    assert (result["stop_reason"], result["final"]) == ("completed", "WRITER")
    assert routing(result)[-1]["reason"] == "the selector ended the chat"


def test_function_selector_may_not_break_the_rules() -> None:
    def again(state: Any) -> str:
        return "writer"

    with pytest.raises(
        OrchestraError,
        match=re.escape(
            "Speaker selector 'again' chose 'writer', who may not speak after 'writer'; "
            "allowed: ['critic', 'editor']"
        ),
    ):
        trio(selector=again).compile().invoke(TASK)


def test_round_robin_follows_allowed_transitions() -> None:
    result = (
        trio(max_rounds=5, allowed_transitions={"writer": ["editor"], "editor": ["critic"]})
        .compile()
        .invoke(TASK)
    )
    # The critic, free to hand over to anyone, is followed by the next in team order.
    assert speakers(result) == ["writer", "editor", "critic", "editor", "critic"]


def test_allow_repeat() -> None:
    solo = [Agent("solo", runnable=says("again"))]
    result = create_group_chat(solo, allow_repeat=True, max_rounds=3).compile().invoke(TASK)
    assert speakers(result) == ["solo"] * 3


# --- maker-checker and consensus --------------------------------------------------------------


def verdicts(*items: dict[str, Any]) -> ScriptedModel:
    return ScriptedModel(list(items))


def test_maker_checker_approves_after_a_revision() -> None:
    maker = ScriptedModel(["Ride on.", "Ride further, ride better."])
    checker = verdicts(
        {"decision": "revise", "reasons": ["too short", "say what we sell"]},
        {"decision": "approve", "reasons": ["clear and friendly"]},
    )
    result = (
        create_maker_checker(Agent("maker", model=maker), Agent("checker", model=checker))
        .compile()
        .invoke(TASK)
    )
    assert (result["final"], result["stop_reason"]) == ("Ride further, ride better.", "approved")
    # The maker saw the reasons as a revision request.
    request = maker.calls[1][-1]
    assert request.text == DEFAULT_PROMPTS.checker_revision.format(
        checker="checker", reasons="- too short\n- say what we sell"
    )
    # The checker was asked for a verdict on the maker's draft.
    assert checker.calls[0][-1].text == DEFAULT_PROMPTS.verdict.format(maker="maker")
    turns = [r["detail"].get("output") for r in result["audit"] if r["agent"] == "checker"]
    assert turns == [
        {"decision": "revise", "reasons": ["too short", "say what we sell"]},
        {"decision": "approve", "reasons": ["clear and friendly"]},
    ]
    assert result["usage"]["checker"]["calls"] == 2


def test_maker_checker_bound_ends_with_the_last_draft() -> None:
    maker = ScriptedModel(["v1", "v2", "v3"])
    no = {"decision": "revise", "reasons": ["not yet"]}
    checker = verdicts(no, no, no)
    result = (
        create_maker_checker(
            Agent("maker", model=maker), Agent("checker", model=checker), max_revisions=2
        )
        .compile()
        .invoke(TASK)
    )
    assert (result["final"], result["stop_reason"]) == ("v3", "max_revisions")
    maker.assert_complete()
    checker.assert_complete()


def test_a_runnable_checker_returns_a_verdict() -> None:
    def checker(messages: list[BaseMessage]) -> Verdict:
        ok = "bike" in messages[-1].text
        return Verdict(decision="approve" if ok else "revise", reasons=["mention bikes"])

    maker = ScriptedModel(["Ride on.", "Your bike, our care."])
    result = (
        create_maker_checker(Agent("maker", model=maker), Agent("checker", runnable=checker))
        .compile()
        .invoke(TASK)
    )
    assert (result["final"], result["stop_reason"]) == ("Your bike, our care.", "approved")


def test_an_invalid_verdict_is_reasked() -> None:
    maker = ScriptedModel(["Ride on."])
    checker = verdicts({"decision": "maybe"}, {"decision": "approve", "reasons": ["fine"]})
    result = (
        create_maker_checker(Agent("maker", model=maker), Agent("checker", model=checker))
        .compile()
        .invoke(TASK)
    )
    assert result["stop_reason"] == "approved"
    assert "decision: Input should be 'approve' or 'revise'" in checker.calls[1][-1].text
    assert result["usage"]["checker"]["calls"] == 2


def test_consensus_of_approvers_ends_the_chat() -> None:
    proposer = ScriptedModel(["Plan A", "Plan B"])
    legal = verdicts(
        {"decision": "revise", "reasons": ["plan A breaks the contract"]},
        {"decision": "approve", "reasons": ["plan B is fine"]},
    )
    finance = verdicts(
        {"decision": "approve", "reasons": ["cheap"]},
        {"decision": "approve", "reasons": ["still cheap"]},
    )
    team = create_group_chat(
        [
            Agent("proposer", model=proposer),
            Agent("legal", model=legal),
            Agent("finance", model=finance),
        ],
        approvers=["legal", "finance"],
    ).compile()
    result = team.invoke(TASK)
    assert (result["final"], result["stop_reason"], result["round"]) == ("Plan B", "approved", 6)
    audited = [
        (r["agent"], r["detail"]["output"]["decision"], r["detail"]["output"]["reasons"])
        for r in result["audit"]
        if r["kind"] == "turn" and r["agent"] in ("legal", "finance")
    ]
    assert audited[-2:] == [
        ("legal", "approve", ["plan B is fine"]),
        ("finance", "approve", ["still cheap"]),
    ]


# --- the human seat -------------------------------------------------------------------------


def seat_team() -> Any:
    return create_group_chat(
        [Agent("writer", runnable=says("draft"))], human="ana", max_rounds=3
    ).compile(checkpointer=InMemorySaver())


def test_human_seat_interrupts_and_joins_the_conversation() -> None:
    team = seat_team()
    config = {"configurable": {"thread_id": "t"}}
    paused = team.invoke(TASK, config)
    (request,) = [i.value for i in paused["__interrupt__"]]
    assert request == {"type": "human_turn", "participant": "ana", "last": "draft", "round": 1}
    result = team.invoke(Command(resume={"content": "make it rhyme"}), config)
    assert [(m.name, m.text) for m in result["messages"][1:]] == [
        ("writer", "draft"),
        ("ana", "make it rhyme"),
        ("writer", "draft"),
    ]
    assert (result["final"], result["stop_reason"]) == ("draft", "max_rounds")
    assert [r["agent"] for r in result["audit"] if r["kind"] == "turn"] == [
        "writer",
        "ana",
        "writer",
    ]
    # The person's message is a turn, not a new task.
    assert result["messages"][result["run"]["task"]].text == TASK["messages"][0][1]


@pytest.mark.parametrize("bad", [{"content": ""}, {"content": "  "}, {"text": "hi"}, "hi"])
def test_a_malformed_human_turn_is_refused_and_the_seat_stays_open(bad: Any) -> None:
    team = seat_team()
    config = {"configurable": {"thread_id": "t"}}
    team.invoke(TASK, config)
    before = team.get_state(config)
    with pytest.raises(ValidationError):
        team.invoke(Command(resume=bad), config)
    after = team.get_state(config)
    assert after.values == before.values
    assert [i.value for i in after.interrupts] == [i.value for i in before.interrupts]
    result = team.invoke(Command(resume={"content": "ok"}), config)
    assert result["stop_reason"] == "max_rounds"


def test_human_seat_resumes_in_another_process(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    script = textwrap.dedent(
        f"""
        import sys, json
        from langgraph.types import Command
        from langgraph_orchestra import Agent, create_group_chat, open_checkpointer
        team = create_group_chat(
            [Agent("writer", runnable=lambda m: "draft " + m[-1].text)], human="ana", max_rounds=3
        )
        config = {{"configurable": {{"thread_id": "chat"}}}}
        with open_checkpointer("sqlite:///{db}") as saver:
            app = team.compile(checkpointer=saver)
            if sys.argv[1] == "start":
                out = app.invoke({{"messages": [("user", "go")]}}, config)
                print(json.dumps([i.value for i in out["__interrupt__"]]))
            else:
                out = app.invoke(Command(resume={{"content": "shorter"}}), config)
                print(json.dumps([out["final"], out["stop_reason"]]))
        """
    )

    def run(step: str) -> Any:
        import json

        done = subprocess.run(
            [sys.executable, "-W", "error", "-c", script, step],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert run("start")[0]["participant"] == "ana"
    assert run("resume") == ["draft shorter", "max_rounds"]


# --- bad input ----------------------------------------------------------------------------------


def _agents() -> list[Agent]:
    return [Agent("writer", runnable=says("w")), Agent("critic", runnable=says("c"))]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"selector": "loudest"},
            "Unknown selector 'loudest': use 'round_robin', 'llm' or a callable "
            "state -> name | None",
        ),
        (
            {"selector": "llm"},
            "selector='llm' needs manager_model: the chat model that picks speakers",
        ),
        (
            {"manager_model": ScriptedModel([])},
            "manager_model is only used by selector='llm', but selector='round_robin'",
        ),
        (
            {"allowed_transitions": {"writer": ["publisher"]}},
            "allowed_transitions['writer'] names unknown participant 'publisher'; "
            "participants: ['writer', 'critic']",
        ),
        (
            {"allowed_transitions": {"author": ["critic"]}},
            "allowed_transitions names unknown speaker 'author'; participants: "
            "['writer', 'critic']",
        ),
        (
            {"allowed_transitions": {"writer": ["writer"]}},
            "No one may speak after 'writer' (allow_repeat=False, allowed_transitions="
            "{'writer': ['writer']}): the chat would stall",
        ),
        (
            {"human": "writer"},
            "The human seat 'writer' has the name of an agent: give the person another name",
        ),
        (
            {"human": "manager"},
            "Human seat name 'manager' is reserved: pick another name",
        ),
        ({"max_rounds": 0}, "max_rounds must be a whole number >= 1, got 0"),
        (
            {"final_from": "ghost"},
            "final_from names unknown agent 'ghost'; agents: ['writer', 'critic']",
        ),
        ({"approvers": ["ghost"]}, "Unknown approver 'ghost'; agents: ['writer', 'critic']"),
        ({"approvers": []}, "approvers must be a non-empty list of agent names, got []"),
        (
            {"termination": "DONE"},
            "group_chat termination must be a condition (MaxRounds, TextMention, TokenBudget, "
            "CostBudget, Timeout, ExternalStop, FunctionCondition, combined with | and &), "
            "got 'DONE'",
        ),
        ({"allow_repeat": "yes"}, "allow_repeat must be True or False, got 'yes'"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(options: dict[str, Any], message: str) -> None:
    with pytest.raises(TeamConfigError, match="^" + re.escape(message)):
        create_group_chat(_agents(), **options)


def test_a_single_participant_needs_allow_repeat() -> None:
    with pytest.raises(TeamConfigError, match=re.escape("No one may speak after 'solo'")):
        create_group_chat([Agent("solo", runnable=says("x"))])


def test_maker_checker_refuses_non_agents() -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape("maker_checker checker must be an Agent, got str")
    ):
        create_maker_checker(Agent("maker", runnable=says("x")), "checker")  # type: ignore[arg-type]
