"""The `orchestra` command line, in process (typer's CliRunner) and as real processes."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import itertools
import json
import os
import shlex
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from langgraph_orchestra.checkpoint import open_checkpointer
from langgraph_orchestra.cli import DEFAULT_STORE, app
from langgraph_orchestra.drawing import GRAPH_REF_HINT
from langgraph_orchestra.nodes import APPROVAL_ACTIONS, ESCALATION_ACTIONS
from langgraph_orchestra.nodes.conflicts import CONFLICT_ACTIONS, SPLIT_ACTIONS
from langgraph_orchestra.nodes.handoff import LIMIT_ACTIONS
from langgraph_orchestra.nodes.ledgers import PLAN_REVIEW_ACTIONS
from langgraph_orchestra.nodes.tool_approval import TOOL_APPROVAL_ACTIONS

ROOT = Path(__file__).resolve().parent.parent
SEQUENTIAL = str(ROOT / "examples" / "sequential.yaml")
HANDOFF = str(ROOT / "examples" / "handoff.yaml")

runner = CliRunner()


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every command in a fresh folder, with the default store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHESTRA_STORE", raising=False)
    return tmp_path


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), input=input, env=env)


def team(text: str, name: str = "team.yaml") -> str:
    Path(name).write_text(textwrap.dedent(text))
    return name


def resume_line(output: str, flag: str = "--approve") -> list[str]:
    """The printed `orchestra resume ... FLAG` command, split as a shell would."""
    for line in output.splitlines():
        words = shlex.split(line.strip()) if line.strip().startswith("orchestra resume") else []
        if flag in words:
            return words
    raise AssertionError(f"no 'orchestra resume ... {flag}' line in:\n{output}")


def thread_of(output: str) -> str:
    return resume_line(output, "--approve" if "--approve" in output else "--retry")[2]


def shown(thread: str, store: str | None = None) -> dict[str, Any]:
    args = ["show", thread, "--json", *(["--store", store] if store else [])]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


ESCALATING = """
    pattern: sequential
    agents:
      - name: fetcher
        on_error: escalate
        model: {scripted: [{error: upstream timed out}, fetched data]}
      - name: writer
        model: {scripted: [report]}
    """

PARALLEL = """
    pattern: concurrent
    agents:
      - {name: a, approval: after, model: {scripted: [A]}}
      - {name: b, approval: after, model: {scripted: [B, B2]}}
    """


# -- demo -------------------------------------------------------------------------------


def test_demo_runs_the_handoff_example_end_to_end_offline(workdir: Path) -> None:
    result = invoke("demo")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "orchestra demo · handoff · team 'support-desk'",
        "scripted models; pass --model to use a real one",
        "→ triage is in control",
        "▶ triage working…",
        '→ transfer to billing with {"order_id": "A-1002", "amount": 19.99, "reason": '
        '"charged twice for one order"}',
        "⏸ billing's call of issue_refund waits for approval",
        '"reason": "duplicate charge"',
        "auto-approving (non-interactive; pass --interactive to decide yourself)",
        "↻ resuming thread support-desk-",
        "✓ billing approval: approve by demo",
        "■ run ended: completed",
        "final answer · completed",
        "orchestra demo magentic",  # the next demo to try
    ):
        assert expected in out, expected
    assert out.index("auto-approving") < out.index("↻ resuming") < out.index("final answer")
    total = next(line for line in out.splitlines() if "│ total" in line)
    # the resumed graph went on with billing's script: triage 1, billing 2 (refund, answer)
    assert total.split("│")[2].strip() == "3"
    assert (workdir / DEFAULT_STORE).is_file()
    thread = out.split("next: orchestra show ")[1].split()[0]
    data = shown(thread)
    assert (data["status"], data["stop_reason"]) == ("done", "completed")
    assert data["final"].startswith("Hi Priya, sorry about the double charge.")
    assert [(r["kind"], r["agent"]) for r in data["audit"]] == [
        ("routing", None),
        ("turn", "triage"),
        ("handoff", "triage"),
        ("approval", "billing"),
        ("turn", "billing"),
        ("termination", None),
    ]


def test_demo_of_the_sequential_example(workdir: Path) -> None:
    result = invoke("demo", "sequential")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "orchestra demo · sequential · team 'support'",
        "scripted models; pass --model to use a real one",
        "▶ triage working…",
        "⏸ writer's output waits for approval",
        "auto-approving (non-interactive; pass --interactive to decide yourself)",
        "↻ resuming thread support-",
        "✓ writer approval: approve by demo",
        "■ run ended: completed",
        "final answer · completed",
        "audit trail · support-",
        "usage · support-",
    ):
        assert expected in out, expected
    assert out.index("auto-approving") < out.index("↻ resuming") < out.index("final answer")
    total = next(line for line in out.splitlines() if "│ total" in line)
    assert total.split("│")[2].strip() == "4"  # 2 triage calls (tool + answer), writer, editor
    # the state is in the default SQLite store, where `show` finds it
    assert (workdir / DEFAULT_STORE).is_file()
    thread = out.split("next: orchestra show ")[1].split()[0]
    data = shown(thread)
    assert (data["status"], data["stop_reason"]) == ("done", "completed")
    assert [(r["kind"], r["agent"]) for r in data["audit"]] == [
        ("turn", "triage"),
        ("turn", "writer"),
        ("approval", "writer"),
        ("turn", "editor"),
        ("termination", None),
    ]


def test_demo_of_another_pattern() -> None:
    result = invoke("demo", "concurrent", "--store", "c.db")
    assert result.exit_code == 0, result.output
    assert "→ dispatched to security, reliability, product" in result.stdout
    assert "✓ release_manager approval: approve by demo" in result.stdout


def test_demo_of_a_group_chat() -> None:
    result = invoke("demo", "group_chat", "--store", "g.db")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "orchestra demo · group_chat · team 'launch-note'",
        "→ writer speaks in round 1 (llm): Nothing is written yet, so the writer drafts first.",
        "→ critic speaks in round 2 (llm): The draft exists and needs a critical read.",
        "⏸ editor's output waits for approval",
        "↻ resuming thread launch-note-",
        "✓ editor approval: approve by demo",
        "■ run ended: completed",
        "final answer · completed",
        "orchestra demo maker_checker",  # the next demo to try
    ):
        assert expected in out, expected
    usage = {
        cells[1].strip(): cells[2].strip()
        for line in out.splitlines()
        if len(cells := line.split("│")) > 3
    }
    # the manager's four choices are counted like the agents' turns
    assert {k: usage[k] for k in ("manager", "writer", "critic", "editor", "total")} == {
        "manager": "4",
        "writer": "2",
        "critic": "1",
        "editor": "1",
        "total": "8",
    }


def test_demo_of_maker_checker_runs_without_a_pause() -> None:
    result = invoke("demo", "maker_checker", "--store", "m.db")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "⏸" not in out and "↻ resuming" not in out
    assert "■ run ended: approved" in out
    assert "final answer · approved" in out
    assert "- Changed: macOS 11 is no longer supported" in out


def test_demo_of_magentic_approves_the_plan_then_runs_the_ledgers() -> None:
    result = invoke("demo", "magentic", "--store", "mg.db")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "orchestra demo · magentic · team 'peak-staffing'",
        "→ plan: 1. researcher finds this year's growth in ticket volume. 2. analyst works "
        "out the tickets and the agents needed, with a buffer.",
        "⏸ the manager's plan waits for review",
        "auto-approving (non-interactive; pass --interactive to decide yourself)",
        "↻ resuming thread peak-staffing-",
        "✓ manager approval: approve by demo",
        "→ researcher acts: Find how much ticket volume grew this year compared with last year.",
        "→ the request is satisfied: The estimate answers the request, with its reasoning.",
        "→ the manager writes the final answer",
        "■ run ended: completed",
        "final answer · completed",
        "orchestra demo hierarchical",  # the next demo to try
    ):
        assert expected in out, expected
    assert out.index("auto-approving") < out.index("↻ resuming") < out.index("final answer")
    total = next(line for line in out.splitlines() if "│ total" in line)
    # the resumed graph went on with the manager's script: plan, 3 progress ledgers, answer
    assert total.split("│")[2].strip() == "7"


def test_demo_of_hierarchical_delegates_to_two_workers_at_once() -> None:
    result = invoke("demo", "hierarchical", "--store", "hi.db")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "orchestra demo · hierarchical · team 'price-change'",
        "→ delegated to pricing: Acme Sync goes from $8 to $10 a month",
        "→ delegated to legal: Write the notice a price change needs",
        "→ dispatched to pricing, legal",
        "⏸ legal's output waits for approval",
        "↻ resuming thread price-change-",
        "✓ legal approval: approve by demo",
        "■ run ended: completed",
        "final answer · completed",
        "Subject: Acme Sync prices from 1 July",
        "orchestra demo planner_executor",  # the next demo to try
    ):
        assert expected in out, expected
    total = next(line for line in out.splitlines() if "│ total" in line)
    assert total.split("│")[2].strip() == "4"  # the manager twice, pricing, legal


def test_demo_of_an_unknown_pattern() -> None:
    result = invoke("demo", "swarm")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: unknown pattern 'swarm'; allowed: concurrent, group_chat, handoff, "
        "hierarchical, magentic, maker_checker, network, planner_executor, sequential",
        "hint: list the patterns with: orchestra demo --help",
    ]


# -- run, resume, show ------------------------------------------------------------------


def test_run_stops_at_approval_then_resume_and_show() -> None:
    result = invoke("run", SEQUENTIAL, "-i", "Where is my order A-1001?", "--thread", "t1")
    assert result.exit_code == 3, result.output
    assert "The run waits for a decision. Continue it with one of:" in result.stdout
    assert resume_line(result.stdout) == ["orchestra", "resume", "t1", "--approve"]
    assert resume_line(result.stdout, "--reject") == [
        "orchestra", "resume", "t1", "--reject", "what to change"
    ]  # fmt: skip
    assert shown("t1")["status"] == "waiting for approval"

    rejected = invoke("resume", "t1", "--reject", "mention the refund", "--reviewer", "ana")
    assert rejected.exit_code == 3, rejected.output
    assert "✓ writer approval: reject by ana: mention the refund" in rejected.stdout
    assert "waits for approval (revision 1 of 2)" in rejected.stdout

    done = invoke("resume", "t1", "--approve", "--reviewer", "ana")
    assert done.exit_code == 0, done.output
    assert "final answer · completed" in done.stdout
    data = shown("t1")
    assert data["final"].startswith("Hi Sam, we're sorry your headphones haven't arrived.")
    assert [r["detail"].get("action") for r in data["audit"] if r["kind"] == "approval"] == [
        "reject",
        "approve",
    ]
    # the writer's second scripted reply was used by the resumed (rebuilt) graph
    writer = [m["content"] for m in data["messages"] if m["name"] == "writer"]
    assert writer[1].startswith("Hi Sam, we're sorry: your headphones")
    assert data["usage"]["writer"]["calls"] == 2


def test_show_tables_and_threads_list() -> None:
    invoke("run", SEQUENTIAL, "-i", "order?", "--thread", "t1")
    assert invoke("resume", "t1", "--approve").exit_code == 0
    invoke("run", SEQUENTIAL, "-i", "again?", "--thread", "t2")

    result = invoke("show", "t1", "--audit", "--usage")
    assert result.exit_code == 0, result.output
    assert "thread t1 · team support (sequential) · done (completed)" in result.stdout
    assert "audit trail · t1" in result.stdout and "usage · t1" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ total")]
    assert len(rows) == 1

    listed = invoke("threads", "--json")
    assert [(t["thread_id"], t["status"], t["pattern"]) for t in json.loads(listed.stdout)] == [
        ("t2", "waiting for approval", "sequential"),
        ("t1", "done", "sequential"),
    ]
    table = invoke("threads")
    assert "t2" in table.stdout and "waiting for" in table.stdout


def test_threads_in_an_empty_store(workdir: Path) -> None:
    with open_checkpointer("empty.db"):
        pass  # a store with no thread yet
    result = invoke("threads", "--store", "empty.db")
    assert result.exit_code == 0
    assert f"no threads in SQLite file {workdir / 'empty.db'}" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["threads", "--store", "typo/state.db"],
        ["show", "t1", "--store", "typo/state.db"],
        ["resume", "t1", "--approve", "--store", "typo/state.db"],
    ],
    ids=["threads", "show", "resume"],
)
def test_a_mistyped_store_is_not_created_by_a_reader(workdir: Path, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: No store at {workdir / 'typo' / 'state.db'}: the file does not exist",
        "hint: check --store (or ORCHESTRA_STORE); a run creates its store: orchestra run "
        "TEAM.yaml -i TEXT",
    ]
    assert list(workdir.iterdir()) == []  # no folder, no database


def test_interactive_run_asks_for_decisions() -> None:
    result = invoke(
        "run",
        SEQUENTIAL,
        "-i",
        "order?",
        "--interactive",
        input="reject\nshorter please\nedit\nFinal text.\n",
    )
    assert result.exit_code == 0, result.output
    assert "reject by" in result.stdout and "shorter please" in result.stdout
    assert "final answer · completed" in result.stdout
    thread = result.stdout.split("· thread ")[-1].split()[0]
    data = shown(thread)
    actions = [r["detail"]["action"] for r in data["audit"] if r["kind"] == "approval"]
    assert actions == ["reject", "edit"]
    assert [m["content"] for m in data["messages"] if m["name"] == "writer"][-1] == "Final text."


HUMAN_SEAT = """
    pattern: group_chat
    options: {human: ana, max_rounds: 3}
    agents:
      - {name: writer, model: {scripted: [draft]}}
      - {name: critic, model: {scripted: [too long]}}
    """


def test_a_persons_turn_is_shown_then_said_with_say() -> None:
    path = team(HUMAN_SEAT)
    result = invoke("run", path, "-i", "a tagline", "--thread", "h1")
    assert result.exit_code == 3, result.output
    assert "⏸ ana's turn to speak (round 3)" in result.stdout
    assert resume_line(result.stdout, "--say") == [
        "orchestra", "resume", "h1", "--say", "your message"
    ]  # fmt: skip
    shown_text = invoke("show", "h1").stdout
    assert "⏸ ana's turn to speak (round 3)" in shown_text
    assert "too long" in shown_text  # the latest message, to answer
    assert "continue with: orchestra resume h1 --say 'your message'" in shown_text
    [pending] = shown("h1")["interrupts"]
    assert {k: v for k, v in pending.items() if k != "id"} == {
        "type": "human_turn",
        "participant": "ana",
        "last": "too long",
        "round": 2,
    }

    wrong = invoke("resume", "h1", "--approve")
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [
        "error: the decision is for an approval, but the thread waits for a person's turn (ana)",
        "hint: decide it with --say TEXT",
    ]
    blank = invoke("resume", "h1", "--say", " ")
    assert blank.exit_code == 2
    assert blank.stderr.splitlines()[0] == "error: --say: the message is blank"

    done = invoke("resume", "h1", "--say", "Shorter, please.")
    assert done.exit_code == 0, done.output
    assert "■ run ended: max_rounds" in done.stdout
    data = shown("h1")
    assert [(m["name"], m["content"]) for m in data["messages"]][-1] == ("ana", "Shorter, please.")
    assert ("turn", "ana") in [(r["kind"], r["agent"]) for r in data["audit"]]


def test_interactive_run_asks_a_person_for_their_message() -> None:
    path = team(HUMAN_SEAT)
    result = invoke("run", path, "-i", "a tagline", "--interactive", input="Make it rhyme.\n")
    assert result.exit_code == 0, result.output
    assert "ana says" in result.stdout
    thread = result.stdout.split("· thread ")[-1].split()[0]
    assert shown(thread)["messages"][-1]["content"] == "Make it rhyme."


OWNERS = """
    pattern: concurrent
    options: {on_conflict: escalate}
    agents:
      - name: east
        output: {owner: str, seats: int}
        model: {scripted: [{owner: ana, seats: 40}]}
      - name: west
        output: {owner: str, seats: int}
        model: {scripted: [{owner: bo, seats: 45}]}
    """


def interrupt_ids(thread: str) -> dict[str, str]:
    """The pending conflicts' interrupt ids by field."""
    return {i["field"]: i["id"] for i in shown(thread)["interrupts"]}


def test_a_record_conflict_is_shown_then_settled_from_the_command_line() -> None:
    path = team(OWNERS)
    result = invoke("run", path, "-i", "who owns ACME?", "--thread", "c1")
    assert result.exit_code == 3, result.output
    assert (
        "✗ east record conflict on field 'owner' (open): Branches ['east', 'west'] wrote "
        "different values to field 'owner'"
    ) in result.stdout
    commands = [line.strip() for line in result.stdout.splitlines() if "orchestra resume" in line]
    assert commands == ["orchestra resume c1 --pick east", "orchestra resume c1 --supply VALUE"]
    shown_text = invoke("show", "c1").stdout
    title = (
        "⏸ branches east, west wrote different values to field {}: pick one, or supply the value"
    )
    assert title.format("owner") in shown_text and title.format("seats") in shown_text
    assert '│ east: "ana" │' in shown_text and "│ west: 45 │" in shown_text
    assert "continue with: orchestra resume c1 --pick east  (see orchestra resume --help)" in (
        shown_text
    )
    ids = interrupt_ids("c1")

    def refused(*args: str) -> list[str]:
        wrong = invoke("resume", "c1", *args)
        assert wrong.exit_code == 2, wrong.output
        assert shown("c1")["status"] == "waiting for approval"
        assert interrupt_ids("c1") == ids  # the interrupts stay open
        return wrong.stderr.splitlines()

    assert refused("--pick", "zed") == [
        "error: --pick: 'zed' wrote no value to field 'owner'; pick one of: east, west",
        "hint: nothing was written and the interrupt is still open",
    ]
    assert refused("--supply", "42") == [
        "error: --supply: 2 record conflicts are pending (fields owner, seats) and a value "
        "fits one field",
        "hint: add --interrupt ID (shown by: orchestra show THREAD) to supply one field's "
        "value, or settle them all with --pick AGENT",
    ]
    assert refused("--interrupt", ids["seats"][:8], "--supply", "many") == [
        "error: the decision was refused: 'supply': 'many' is not a value of field 'seats': "
        "Input should be a valid integer, unable to parse string as an integer",
        "hint: nothing was written and the interrupt is still open: correct it and decide again",
    ]
    assert refused("--abort")[0] == (
        "error: the decision is for a failed agent's escalation, but the thread waits for a "
        "record conflict (owner), a record conflict (seats)"
    )

    seats = invoke(
        "resume", "c1", "--interrupt", ids["seats"][:8], "--supply", "42", "--reviewer", "kim"
    )
    assert seats.exit_code == 3, seats.output  # the owner's conflict still waits
    assert "✓ east record conflict on field 'seats' settled by kim: their own value" in (
        seats.stdout
    )
    done = invoke("resume", "c1", "--pick", "west", "--reviewer", "kim")
    assert done.exit_code == 0, done.output
    assert "✓ east record conflict on field 'owner' settled by kim: west's value" in done.stdout
    data = shown("c1")
    writes = [
        (r["agent"], r["detail"]["field"], r["detail"]["new"])
        for r in data["audit"]
        if r["kind"] == "write"
    ]
    assert writes == [("west", "owner", "bo"), ("kim", "seats", 42)]
    assert [(e["field"], e["status"], e["resolution"]["action"]) for e in data["exceptions"]] == [
        ("owner", "supplied", "pick"),
        ("seats", "supplied", "supply"),
    ]


REVIEWED_WRITER = """
    pattern: sequential
    agents:
      - name: qualifier
        approval: after
        output: {score: int, owner: str | None}
        model: {scripted: [{score: 6, owner: null}]}
      - name: booker
        requires: [owner]
        reads: [owner]
        model: {scripted: [booked with the owner]}
    """


def test_a_typed_output_under_review_is_edited_as_json_and_written_when_accepted() -> None:
    result = invoke("run", team(REVIEWED_WRITER), "-i", "Lead: ACME", "--thread", "q1")
    assert result.exit_code == 3, result.output
    body = " ".join(result.stdout.split())
    assert 'an edit gives its fields as JSON: {"score": 6, "owner": null}' in body
    assert shown("q1")["audit"][-1]["kind"] != "write"  # nothing written before review
    Path("lead.json").write_text('{"score": "six", "owner": "dana"}')
    bad = invoke("resume", "q1", "--edit", "lead.json")
    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [
        "error: the decision was refused: the edit is not a valid QualifierOutput: score: "
        "Input should be a valid integer, unable to parse string as an integer",
        "hint: nothing was written and the interrupt is still open: correct it and decide again",
    ]
    assert shown("q1")["status"] == "waiting for approval"
    Path("lead.json").write_text('{"score": 6, "owner": "dana"}')
    done = invoke("resume", "q1", "--edit", "lead.json", "--reviewer", "kim")
    assert done.exit_code == 0, done.output
    writes = [
        (r["agent"], r["detail"]["field"], r["detail"]["new"], r["detail"].get("by"))
        for r in shown("q1")["audit"]
        if r["kind"] == "write"
    ]
    assert writes == [("qualifier", "score", 6, None), ("qualifier", "owner", "dana", "kim")]


def test_interactive_review_edits_a_typed_output_as_json_until_it_fits() -> None:
    answers = '{"score": "six", "owner": "dana"}\n'
    result = invoke(
        "run", team(REVIEWED_WRITER), "-i", "Lead: ACME", "--thread", "q2", "--interactive",
        input=f"edit\n{answers}edit\n{{\"score\": 7, \"owner\": \"dana\"}}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    words = " ".join(result.stdout.split())
    assert "the output's fields, as a JSON object:" in words
    assert "the decision was refused: the edit is not a valid QualifierOutput" in words
    writes = [
        (r["detail"]["field"], r["detail"]["new"])
        for r in shown("q2")["audit"]
        if r["kind"] == "write"
    ]
    assert writes == [("score", 7), ("owner", "dana")]


PANEL = """
    pattern: concurrent
    options: {aggregator: vote, on_disagreement: escalate}
    agents:
      - name: r0
        output: {answer: str, confidence: float, reason: str}
        writes: []
        model: {scripted: [{answer: "yes", confidence: 0.6, reason: tests pass}]}
      - name: r1
        output: {answer: str, confidence: float, reason: str}
        writes: []
        model: {scripted: [{answer: "no", confidence: 0.5, reason: docs missing}]}
    """


def test_a_split_decision_is_shown_then_settled_from_the_command_line() -> None:
    path = team(PANEL)
    result = invoke("run", path, "-i", "ship it?", "--thread", "d1")
    assert result.exit_code == 3, result.output
    commands = [line.strip() for line in result.stdout.splitlines() if "orchestra resume" in line]
    assert commands == [
        "orchestra resume d1 --pick r0",
        "orchestra resume d1 --supply 'your answer'",
        "orchestra resume d1 --abort",
    ]
    shown_text = invoke("show", "d1").stdout
    assert (
        "⏸ the branches disagree (the leader r0 has 55% of the votes): pick an answer, "
        "write one, or abort"
    ) in shown_text
    assert "│ r1 (confidence 0.5; reason: docs missing): │" in shown_text
    assert "continue with: orchestra resume d1 --pick r0  (see orchestra resume --help)" in (
        shown_text
    )
    wrong = invoke("resume", "d1", "--pick", "r9")
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [
        "error: --pick: 'r9' gave no answer to this split decision; pick one of: r0, r1",
        "hint: nothing was written and the interrupt is still open",
    ]
    assert shown("d1")["status"] == "waiting for approval"
    done = invoke("resume", "d1", "--pick", "r1", "--reviewer", "kim")
    assert done.exit_code == 0, done.output
    assert "→ split decision: kim took r1's answer" in done.stdout
    assert (
        shown("d1")["final"]
        == "r1 recorded:\n- answer: no\n- confidence: 0.5\n- reason: docs missing"
    )

    invoke("run", path, "-i", "ship it?", "--thread", "d2")
    written = invoke("resume", "d2", "--supply", "Wait for the docs.")
    assert written.exit_code == 0, written.output
    assert shown("d2")["final"] == "Wait for the docs."
    invoke("run", path, "-i", "ship it?", "--thread", "d3")
    aborted = invoke("resume", "d3", "--abort")
    assert aborted.exit_code == 0, aborted.output
    assert shown("d3")["stop_reason"] == "aborted"


def test_interactive_runs_settle_a_conflict_and_a_split_decision() -> None:
    # A wrong value is refused with one line, and asked for again.
    owners = invoke(
        "run", team(OWNERS), "-i", "who?", "--thread", "c2", "--interactive",
        input="pick\nwest\nsupply\nmany\nsupply\n44\n",
    )  # fmt: skip
    assert owners.exit_code == 0, owners.output
    assert "decision [pick/supply] (pick): whose value [east/west] (east):" in owners.stdout
    assert "the value (JSON; text as is when the values are text):" in owners.stdout
    assert (
        "the decision was refused: 'supply': 'many' is not a value of field 'seats'"
    ) in " ".join(owners.stdout.split())
    values = shown("c2")["audit"]
    assert sorted(
        (r["detail"]["field"], r["detail"]["new"]) for r in values if r["kind"] == "write"
    ) == [("owner", "bo"), ("seats", 44)]
    panel = invoke(
        "run", team(PANEL), "-i", "ship?", "--thread", "d4", "--interactive",
        input="supply\nShip on Monday.\n",
    )  # fmt: skip
    assert panel.exit_code == 0, panel.output
    assert "decision [pick/supply/abort] (pick):" in panel.stdout
    assert shown("d4")["final"] == "Ship on Monday."


def test_a_tool_call_approval_is_shown_then_decided_with_the_approval_flags(
    workdir: Path,
) -> None:
    result = invoke("run", HANDOFF, "-i", "Refund my duplicate charge on A-1002", "--thread", "r1")
    assert result.exit_code == 3, result.output
    assert "⏸ billing's call of issue_refund waits for approval" in result.stdout
    commands = [line.strip() for line in result.stdout.splitlines() if "orchestra resume" in line]
    assert commands == [
        "orchestra resume r1 --approve",
        "orchestra resume r1 --reject 'what to change'",
        "orchestra resume r1 --edit args.json",
    ]
    shown_text = invoke("show", "r1").stdout
    assert "⏸ billing's call of issue_refund waits for approval" in shown_text
    assert '"amount": 19.99' in shown_text
    assert "continue with: orchestra resume r1 --approve" in shown_text

    wrong = invoke("resume", "r1", "--answer", "no")
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [
        "error: the decision is for an approval, but the thread waits for a tool call's "
        "approval (billing)",
        "hint: decide it with --approve, --reject TEXT or --edit FILE (the arguments as JSON)",
    ]
    Path("bad.json").write_text('{"amount": 5,}')
    bad = invoke("resume", "r1", "--edit", "bad.json")
    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [
        "error: --edit: the tool call's arguments are not valid JSON: Expecting property name "
        "enclosed in double quotes (line 1, column 14)",
        'hint: give the arguments as a JSON object, e.g. {"amount": 10}',
    ]
    args = {"order_id": "A-1002", "amount": 9.99, "reason": "partial refund"}
    done = invoke("resume", "r1", "--edit", "-", "--reviewer", "ana", input=json.dumps(args))
    assert done.exit_code == 0, done.output
    assert "✓ billing approval: edit by ana" in done.stdout
    data = shown("r1")
    refund = [m["content"] for m in data["messages"] if m["name"] == "issue_refund"]
    assert refund == [
        "Refund RF-A-1002 of £9.99 issued for order A-1002 (partial refund); it reaches the "
        "customer's card in 3-5 working days."
    ]
    [approval] = [r["detail"] for r in data["audit"] if r["kind"] == "approval"]
    assert (approval["when"], approval["action"], approval["args"]) == ("tool", "edit", args)
    # the rebuilt graph went on with billing's script: its answer, not the refund call again
    assert data["usage"]["billing"]["calls"] == 2


def test_interactive_run_asks_for_a_tool_decision_until_the_arguments_are_json() -> None:
    args = '{"order_id": "A-1002", "amount": 5, "reason": "goodwill"}'
    result = invoke("run", HANDOFF, "-i", "refund", "--interactive", input=f"edit\n[1\n{args}\n")
    assert result.exit_code == 0, result.output
    assert "the tool call's arguments are not valid JSON" in result.stdout
    thread = result.stdout.split("· thread ")[-1].split()[0]
    refund = [m["content"] for m in shown(thread)["messages"] if m["name"] == "issue_refund"]
    assert refund[0].startswith("Refund RF-A-1002 of £5.00 issued")


PING_PONG = """
    pattern: handoff
    options: {max_handoffs: 1}
    agents:
      - {name: a, model: {scripted: [{tool_calls: [{name: transfer_to_b}]}]}}
      - {name: b, model: {scripted: [{tool_calls: [{name: transfer_to_a}]}]}}
    """


def test_a_handoff_limit_is_decided_with_continue_answer_or_end() -> None:
    path = team(PING_PONG)
    result = invoke("run", path, "-i", "help", "--thread", "l1")
    assert result.exit_code == 3, result.output
    assert "⏸ b's transfer to a stopped at the handoff limit (max_handoffs)" in result.stdout
    assert "transfers this run: a → b" in result.stdout
    commands = [line.strip() for line in result.stdout.splitlines() if "orchestra resume" in line]
    assert commands == [
        "orchestra resume l1 --continue a",
        "orchestra resume l1 --answer 'your answer'",
        "orchestra resume l1 --end",
    ]
    unknown = invoke("resume", "l1", "--continue", "zed")
    assert unknown.exit_code == 2
    assert unknown.stderr.splitlines() == [
        "error: --continue: unknown agent 'zed'; agents: a, b",
        "hint: give one of the team's agents",
    ]
    wrong = invoke("resume", "l1", "--approve")
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [
        "error: the decision is for an approval, but the thread waits for a decision at a "
        "handoff limit (b)",
        "hint: decide it with --continue AGENT, --answer TEXT or --end",
    ]
    ended = invoke("resume", "l1", "--end", "--reviewer", "ops")
    assert ended.exit_code == 0, ended.output
    assert "✓ b approval: end by ops" in ended.stdout
    assert "■ run ended: handoff_limit" in ended.stdout

    invoke("run", path, "-i", "help", "--thread", "l2")
    answered = invoke("resume", "l2", "--answer", "A person will call you.")
    assert answered.exit_code == 0, answered.output
    assert (shown("l2")["final"], shown("l2")["stop_reason"]) == (
        "A person will call you.",
        "completed",
    )


PLANNED = """
    pattern: magentic
    options:
      plan_review: true
      final_answer: false
      manager_model:
        scripted:
          - {facts_given: [], facts_to_look_up: [], facts_to_derive: [], educated_guesses: [],
             plan: [writer drafts]}
          - {facts_given: [], facts_to_look_up: [], facts_to_derive: [], educated_guesses: [],
             plan: [writer drafts, writer shortens]}
          - {is_request_satisfied: false, is_in_loop: false, is_progress_being_made: true,
             next_speaker: writer, instruction: Draft it., reason: nothing yet}
          - {is_request_satisfied: true, is_in_loop: false, is_progress_being_made: true,
             next_speaker: writer, instruction: Done., reason: drafted}
    agents:
      - {name: writer, model: {scripted: [a tagline]}}
    """


def _stored(thread: str) -> dict[str, Any]:
    from langgraph_orchestra import open_checkpointer
    from langgraph_orchestra.threads import read_thread

    with open_checkpointer(DEFAULT_STORE) as saver:
        return dict(read_thread(saver, thread).values)


def test_a_plan_review_is_shown_then_decided_with_reject_and_edit() -> None:
    path = team(PLANNED)
    result = invoke("run", path, "-i", "a tagline", "--thread", "p1")
    assert result.exit_code == 3, result.output
    assert "⏸ the manager's plan waits for review" in result.stdout
    assert "1. writer drafts" in result.stdout
    commands = [line.strip() for line in result.stdout.splitlines() if "orchestra resume" in line]
    assert commands == [
        "orchestra resume p1 --approve",
        "orchestra resume p1 --edit plan.txt",
        "orchestra resume p1 --reject 'what to change'",
    ]
    shown_text = invoke("show", "p1").stdout
    assert "⏸ the manager's plan waits for review" in shown_text
    assert "continue with: orchestra resume p1 --approve" in shown_text
    [pending] = shown("p1")["interrupts"]
    assert (pending["type"], pending["ledger"]["plan"]) == ("plan_review", ["writer drafts"])

    wrong = invoke("resume", "p1", "--answer", "no")
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [
        "error: the decision is for an approval, but the thread waits for a plan review (manager)",
        "hint: decide it with --approve, --reject TEXT or --edit FILE (the plan's steps, one "
        "per line)",
    ]
    rejected = invoke("resume", "p1", "--reject", "Add a step.", "--reviewer", "ana")
    assert rejected.exit_code == 3, rejected.output
    assert "✓ manager approval: reject by ana: Add a step." in rejected.stdout
    assert "⏸ the manager's plan waits for review (revision 1 of 3)" in rejected.stdout
    assert "2. writer shortens" in rejected.stdout

    done = invoke("resume", "p1", "--edit", "-", input="writer drafts\n\n  keep it short \n")
    assert done.exit_code == 0, done.output
    assert "✓ manager approval: edit by" in done.stdout
    assert "final answer · completed" in done.stdout
    # the steps, one per line, blank lines skipped; the rebuilt graph went on with the script
    state = _stored("p1")
    assert state["task_ledger"]["plan"] == ["writer drafts", "keep it short"]
    assert (state["final"], state["usage"]["manager"]["calls"]) == ("a tagline", 4)


def test_interactive_run_asks_for_a_plan_decision_and_its_steps() -> None:
    path = team(PLANNED)
    answers = "reject\nAdd a step.\nedit\n\nfirst\nsecond\n\n"
    result = invoke("run", path, "-i", "a tagline", "--interactive", input=answers)
    assert result.exit_code == 0, result.output
    assert "feedback for the manager" in result.stdout
    assert "step 3 (an empty line ends the plan)" in result.stdout
    thread = result.stdout.split("· thread ")[-1].split()[0]
    assert _stored(thread)["task_ledger"]["plan"] == ["first", "second"]


STEPPED = """
    pattern: planner_executor
    options:
      plan_approval: true
      planner_model:
        scripted:
          - steps: [{id: a, agent: writer, instruction: Draft it.}]
          - steps:
              - {id: a, agent: writer, instruction: Draft it.}
              - {id: b, agent: writer, instruction: Shorten it., depends_on: [a]}
    agents:
      - {name: writer, model: {scripted: [a long tagline, a tagline]}}
    """


def test_a_plan_approval_is_shown_then_decided_with_reject_and_edit() -> None:
    path = team(STEPPED)
    result = invoke("run", path, "-i", "a tagline", "--thread", "s1")
    assert result.exit_code == 3, result.output
    assert "⏸ the planner's plan waits for approval" in result.stdout
    assert "a (writer): Draft it." in result.stdout
    commands = [line.strip() for line in result.stdout.splitlines() if "orchestra resume" in line]
    assert commands == [
        "orchestra resume s1 --approve",
        "orchestra resume s1 --edit plan.json",
        "orchestra resume s1 --reject 'what to change'",
    ]
    shown_text = invoke("show", "s1").stdout
    assert "⏸ the planner's plan waits for approval" in shown_text
    assert "a (writer): Draft it." in shown_text
    [pending] = shown("s1")["interrupts"]
    assert (pending["type"], [s["id"] for s in pending["plan"]]) == ("plan_approval", ["a"])

    wrong = invoke("resume", "s1", "--answer", "no")
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [
        "error: the decision is for an approval, but the thread waits for a plan approval "
        "(planner)",
        'hint: decide it with --approve, --reject TEXT or --edit FILE (the plan as JSON {"steps": '
        "[...]})",
    ]
    not_json = invoke("resume", "s1", "--edit", "-", input="a then b\n")
    assert not_json.exit_code == 2
    assert not_json.stderr.splitlines()[0] == (
        "error: --edit: the plan is not valid JSON: Expecting value (line 1, column 1)"
    )
    looped = '{"steps": [{"id": "a", "agent": "writer", "instruction": "x", "depends_on": ["a"]}]}'
    cycle = invoke("resume", "s1", "--edit", "-", input=looped)
    assert cycle.exit_code == 2
    assert cycle.stderr.splitlines()[0] == (
        "error: --edit: the steps a -> a form a cycle; a step cannot depend on itself, "
        "directly or through other steps"
    )

    rejected = invoke("resume", "s1", "--reject", "Shorten it too.", "--reviewer", "ana")
    assert rejected.exit_code == 3, rejected.output
    assert "✓ planner approval: reject by ana: Shorten it too." in rejected.stdout
    assert "⏸ the planner's plan waits for approval (revision 1 of 3)" in rejected.stdout
    assert "b (writer, after a): Shorten it." in rejected.stdout

    edited = '{"steps": [{"id": "only", "agent": "writer", "instruction": "Write it short."}]}'
    done = invoke("resume", "s1", "--edit", "-", input=edited)
    assert done.exit_code == 0, done.output
    assert "✓ planner approval: edit by" in done.stdout
    assert "final answer · completed" in done.stdout
    # the edited plan ran; the rebuilt graph went on with the scripts
    state = _stored("s1")
    assert [s["id"] for s in state["plan"]] == ["only"]
    assert (state["final"], state["usage"]["planner"]["calls"]) == ("a long tagline", 2)


def test_demo_of_planner_executor_approves_the_plan_then_runs_the_steps() -> None:
    result = invoke("demo", "planner_executor", "--store", "pe.db")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "orchestra demo · planner_executor · team 'lisbon-hub'",
        "→ plan: hiring (researcher); costs (analyst); recommendation (writer)",
        "⏸ the planner's plan waits for approval",
        "recommendation (writer, after hiring, costs): Recommend whether",
        "auto-approving",
        "↻ resuming thread lisbon-hub-",
        "✓ planner approval: approve by demo",
        "→ steps run: hiring, costs",
        "→ steps run: recommendation",
        "→ every step is done: the synthesizer writes the answer",
        "→ scored 0.9 (threshold 0.7)",
        "■ run ended: completed",
        "final answer · completed",
        "Open the Lisbon hub next year.",
        "orchestra demo network",  # the next demo to try
    ):
        assert expected in out, expected
    total = next(line for line in out.splitlines() if "│ total" in line)
    assert total.split("│")[2].strip() == "6"  # planner, three steps, editor, judge


def test_demo_of_network_delivers_messages_then_finishes() -> None:
    result = invoke("demo", "network", "--store", "nw.db")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "orchestra demo · network · team 'launch-date'",
        "dispatched to engineering,",
        "delivered=[['engineering',",
        "■ run ended: finished",
        "final answer · finished",
        "Launch Acme Sync 2.0 on 21 May.",
        "orchestra demo sequential",  # the tour starts again
    ):
        assert expected in out, expected
    total = next(line for line in out.splitlines() if "│ total" in line)
    assert total.split("│")[2].strip() == "4"  # each agent twice: a send, then a reply


def test_interactive_run_asks_at_a_handoff_limit() -> None:
    path = team(PING_PONG)
    result = invoke("run", path, "-i", "help", "--interactive", input="answer\nWe'll call.\n")
    assert result.exit_code == 0, result.output
    thread = result.stdout.split("· thread ")[-1].split()[0]
    assert shown(thread)["final"] == "We'll call."


ASKING = """
    pattern: handoff
    options: {interactive: true, escalate_to_human: true, termination: {text_mention: Done}}
    agents:
      - name: helper
        model:
          scripted:
            - {tool_calls: [{name: escalate_to_human, args: {question: 'May I refund?'}}]}
            - Which order?
    """


def test_a_persons_help_and_the_users_reply_are_said_with_say() -> None:
    path = team(ASKING)
    result = invoke("run", path, "-i", "refund please", "--thread", "u1")
    assert result.exit_code == 3, result.output
    assert "⏸ helper asks a person for help" in result.stdout
    assert "May I refund?" in result.stdout
    assert resume_line(result.stdout, "--say") == [
        "orchestra", "resume", "u1", "--say", "your message"
    ]  # fmt: skip
    helped = invoke("resume", "u1", "--say", "Yes, up to £20.")
    assert helped.exit_code == 3, helped.output
    assert "⏸ helper waits for the user's reply" in helped.stdout
    assert "Which order?" in helped.stdout
    wrong = invoke("resume", "u1", "--end")
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [
        "error: the decision is for a decision at a handoff limit, but the thread waits for "
        "the user's reply (helper)",
        "hint: decide it with --say TEXT",
    ]
    data = shown("u1")
    assert [m["content"] for m in data["messages"] if m["role"] == "tool"] == ["Yes, up to £20."]


def test_interactive_run_asks_a_person_for_help_then_the_user() -> None:
    path = team(ASKING.replace("- Which order?", "- Which order?\n            - Done."))
    result = invoke("run", path, "-i", "refund", "--interactive", input="Yes.\nA-1\n")
    assert result.exit_code == 0, result.output
    assert "your answer to helper" in result.stdout and "your reply to helper" in result.stdout
    thread = result.stdout.split("· thread ")[-1].split()[0]
    data = shown(thread)
    assert [m["content"] for m in data["messages"][-3:]] == ["Which order?", "A-1", "Done."]
    assert data["stop_reason"] == "completed"


def test_escalated_failure_and_its_decisions() -> None:
    path = team(ESCALATING)
    result = invoke("run", path, "-i", "go", "--thread", "e1")
    assert result.exit_code == 3, result.output
    assert "✗ fetcher failed (open): upstream timed out" in result.stdout
    assert resume_line(result.stdout, "--retry") == ["orchestra", "resume", "e1", "--retry"]

    wrong = invoke("resume", "e1", "--approve")
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [
        "error: the decision is for an approval, but the thread waits for a failed agent's "
        "escalation (fetcher)",
        "hint: decide it with --retry, --skip, --supply TEXT or --abort",
    ]

    retried = invoke("resume", "e1", "--retry", "--reviewer", "ops")
    assert retried.exit_code == 0, retried.output
    assert "✓ fetcher escalation retried by ops" in retried.stdout
    data = shown("e1")
    assert data["final"] == "report"
    assert [(e["agent"], e["status"]) for e in data["exceptions"]] == [("fetcher", "retried")]


def test_supplied_output_replaces_a_failed_agent() -> None:
    path = team(ESCALATING)
    invoke("run", path, "-i", "go", "--thread", "e2")
    result = invoke("resume", "e2", "--supply", "cached data")
    assert result.exit_code == 0, result.output
    data = shown("e2")
    assert [m["content"] for m in data["messages"] if m["name"] == "fetcher"] == ["cached data"]


def test_parallel_interrupts_one_at_a_time_or_all() -> None:
    path = team(PARALLEL)
    result = invoke("run", path, "-i", "go", "--thread", "p1")
    assert result.exit_code == 3
    assert "add --interrupt ID to decide one" in result.stdout
    pending = shown("p1")["interrupts"]
    assert [i["agent"] for i in pending] == ["a", "b"]

    one = invoke("resume", "p1", "--reject", "no", "--interrupt", pending[1]["id"][:6])
    assert one.exit_code == 3, one.output  # b was rejected; a still waits
    assert [i["agent"] for i in shown("p1")["interrupts"]] == ["a"]

    unknown = invoke("resume", "p1", "--approve", "--interrupt", "zzz")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: --interrupt zzz matches no pending interrupt")

    rest = invoke("resume", "p1", "--approve")
    assert rest.exit_code == 3, rest.output  # a approved; b revised and waits again
    assert "⏸ b's output waits for approval (revision 1 of 3)" in rest.stdout
    assert [i["agent"] for i in shown("p1")["interrupts"]] == ["b"]

    last = invoke("resume", "p1", "--approve")
    assert last.exit_code == 0, last.output
    data = shown("p1")
    assert (data["stop_reason"], data["final"]) == ("completed", "a: A\n\nb: B2")


def test_failed_run_exits_1_and_shows_failed() -> None:
    path = team(
        """
        pattern: sequential
        agents:
          - {name: writer, approval: after, model: {scripted: [draft]}}
        """
    )
    invoke("run", path, "-i", "go", "--thread", "f1")
    result = invoke("resume", "f1", "--reject", "again")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(
        "error: the run failed: Agent 'writer' failed: ScriptError: ScriptedModel 'writer' got "
        "unexpected call #1: only 0 replies were scripted."
    )
    assert result.stderr.splitlines()[-1] == (
        "hint: see it with: orchestra show f1; run the failed step again with: orchestra "
        "resume f1 --retry"
    )
    data = shown("f1")
    assert data["status"] == "failed"
    assert "ScriptedModel 'writer' got unexpected call" in data["error"]


# -- user mistakes: one line, a hint, exit 2 ---------------------------------------------


@pytest.mark.parametrize(
    "args, stderr",
    [
        (
            ["resume", "nope", "--approve"],
            [
                "error: no thread 'nope' in the store (SqliteSaver)",
                "hint: list the threads with: orchestra threads",
            ],
        ),
        (
            ["show", "nope"],
            [
                "error: no thread 'nope' in the store (SqliteSaver)",
                "hint: list the threads with: orchestra threads",
            ],
        ),
        (
            ["run", "missing.yaml", "-i", "x"],
            ["error: missing.yaml: no such file", "hint: give the path of a team YAML file"],
        ),
        (
            ["threads", "--store", "nowhere"],
            [
                "error: Unsupported checkpointer URL 'nowhere': use 'memory', "
                "'sqlite:///path/to.db', a file path, or 'postgresql://user@host:5432/db'",
                "hint: check --store or ORCHESTRA_STORE: a .db file path or "
                "postgresql://user@host:5432/db (PostgreSQL needs the server running)",
            ],
        ),
        (
            ["resume", "t", "--approve", "--retry"],
            [
                "error: give one decision, got --approve, --retry",
                "hint: approvals: --approve, --reject TEXT, --edit FILE, --answer TEXT; tool "
                "calls: --approve, --reject TEXT, --edit FILE; escalated failures: --retry, "
                "--skip, --supply TEXT, --abort; handoff limits: --continue AGENT, --answer "
                "TEXT, --end; a person's message: --say TEXT; plan reviews: --approve, --edit "
                "FILE, --reject TEXT; plan approvals: --approve, --edit FILE, --reject TEXT; "
                "record conflicts: --pick AGENT, --supply VALUE; split decisions: --pick "
                "AGENT, --supply TEXT, --abort",
            ],
        ),
        (
            ["resume", "t", "--answer", ""],
            [
                "error: --answer: action 'respond' needs a non-empty 'content'",
                "hint: give a non-empty text (or file) for the decision",
            ],
        ),
        (
            ["graph", "swarm"],
            [
                "error: unknown pattern 'swarm'; allowed: concurrent, group_chat, handoff, "
                "hierarchical, magentic, maker_checker, network, planner_executor, sequential",
                "hint: give a team file or one of the pattern names",
            ],
        ),
        (
            ["run", SEQUENTIAL, "-i", "x", "--model", "gpt-4o"],
            [
                "error: --model: 'gpt-4o' is not a 'provider:model' string; give "
                "'provider:model' (e.g. 'openai:gpt-4o-mini')",
                "hint: give --model as 'provider:model', e.g. openai:gpt-4o-mini",
            ],
        ),
    ],
    ids=[
        "unknown thread",
        "show unknown",
        "missing file",
        "bad store",
        "two decisions",
        "empty answer",
        "unknown pattern",
        "bad model",
    ],
)
def test_user_mistakes(args: list[str], stderr: list[str]) -> None:
    with open_checkpointer(DEFAULT_STORE):
        pass  # the store exists (a reader refuses a missing one: tested above)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == stderr
    assert "Traceback" not in result.output


def test_unreachable_postgres_store() -> None:
    result = invoke("threads", "--store", "postgresql://me:secret@127.0.0.1:1/db")
    assert result.exit_code == 2
    first, hint = result.stderr.splitlines()
    assert first.startswith("error: Cannot connect to PostgreSQL at 127.0.0.1:1/db: ")
    assert "secret" not in result.stderr
    assert hint.startswith("hint: check --store or ORCHESTRA_STORE")


def test_store_from_the_environment(workdir: Path) -> None:
    env = {"ORCHESTRA_STORE": str(workdir / "env.db")}
    result = invoke("run", SEQUENTIAL, "-i", "x", "--thread", "v1", env=env)
    assert result.exit_code == 3
    # the store came from the environment: the resume command does not repeat it
    assert resume_line(result.stdout) == ["orchestra", "resume", "v1", "--approve"]
    assert invoke("show", "v1", env=env).exit_code == 0
    assert invoke("show", "v1").exit_code == 2  # not in the default store


def test_missing_model_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "langchain_openai" else real(name, *a),
    )
    result = invoke("run", SEQUENTIAL, "-i", "x", "--model", "openai:gpt-4o-mini")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: model 'openai:gpt-4o-mini' needs the langchain-openai package, which is not "
        "installed",
        # the tests run from a clone: the extra is installed from it, in this environment
        f"hint: {shlex.quote(sys.executable)} -m pip install -e {shlex.quote(f'{ROOT}[openai]')}",
    ]


def test_missing_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = invoke("demo", "--model", "openai:gpt-4o-mini")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: model 'openai:gpt-4o-mini' needs the OPENAI_API_KEY environment variable, "
        "which is not set",
        "hint: export OPENAI_API_KEY=...",
    ]


def test_resume_a_finished_thread() -> None:
    path = team("pattern: sequential\nagents: [{name: w, model: {scripted: [ok]}}]\n")
    assert invoke("run", path, "-i", "x", "--thread", "d1").exit_code == 0
    result = invoke("resume", "d1", "--approve")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: thread 'd1' is done (completed): nothing waits for a decision",
        "hint: give the team a new task with: orchestra run TEAM.yaml -i TEXT --thread d1",
    ]


def test_resume_without_a_decision_when_not_interactive() -> None:
    invoke("run", SEQUENTIAL, "-i", "x", "--thread", "n1")
    result = invoke("resume", "n1")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: thread 'n1' waits for a decision and none was given",
        "hint: orchestra resume n1 --approve (see orchestra resume --help for the others)",
    ]


# -- validate and graph ---------------------------------------------------------------


def test_validate() -> None:
    ok = invoke("validate", SEQUENTIAL)
    assert ok.exit_code == 0
    assert ok.stdout.strip().endswith(
        "sequential team 'support' with 3 agents: triage, writer (approval after), editor"
    )
    bad = invoke(
        "validate",
        team("pattern: sequencial\nagents: [{name: w, model: x}]\n", name="bad.yaml"),
    )
    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [
        "error: bad.yaml: pattern: unknown pattern 'sequencial' (did you mean 'sequential'?); "
        "allowed: concurrent, group_chat, handoff, hierarchical, magentic, maker_checker, "
        "network, planner_executor, sequential",
        "error: bad.yaml: agents[0].model: 'x' is not a 'provider:model' string; give "
        "'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}",
        "hint: fix the team file, then check it with: orchestra validate bad.yaml",
    ]


def test_graph_of_a_pattern_and_a_team_file() -> None:
    sample = invoke("graph", "sequential")
    assert sample.exit_code == 0
    assert "graph TD;" in sample.stdout and "__start__ --> first;" in sample.stdout
    drawn = invoke("graph", str(ROOT / "examples" / "concurrent.yaml"))
    assert drawn.exit_code == 0
    for node in ("fanout", "security", "reliability", "product", "release_manager"):
        assert f"\t{node}(" in drawn.stdout, node
    # LangGraph's scheduling detail (the deferred aggregate) is not in the labels.
    assert "\taggregate(aggregate" in drawn.stdout
    assert "defer" not in drawn.stdout


NESTED = """
from langgraph_orchestra import Agent, create_hierarchical, create_sequential
from langgraph_orchestra.testing import ScriptedModel

def echo(name, **options):
    return Agent(name, runnable=lambda messages: name, **options)

bottom = create_sequential([echo("writer", approval="after"), echo("editor")]).compile()
mid = create_hierarchical([Agent("bottom", runnable=bottom)], manager_model=ScriptedModel([]))
team = create_sequential([Agent("mid", runnable=mid.compile()), echo("publisher")])
size = 3
"""


def test_graph_of_a_python_team_draws_its_nested_teams() -> None:
    Path("nested.py").write_text(NESTED)
    drawn = invoke("graph", "nested.py:team")
    assert drawn.exit_code == 0, drawn.stderr
    lines = drawn.stdout.splitlines()
    assert ["\tsubgraph mid", "\tsubgraph bottom"] == [
        line for line in lines if line.startswith("\tsubgraph")
    ]
    for node in ("mid\\3amanager(manager", "mid\\3abottom\\3awriter(writer", "publisher(publisher"):
        assert any(line.startswith(f"\t{node}") for line in lines), node
    # An uncompiled graph is drawn too: the mid team, its bottom team inside.
    mid = invoke("graph", "nested.py:mid").stdout
    assert "\tbottom\\3aeditor(editor" in mid and "mid\\3a" not in mid


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "nested.py:nope",
            "nested.py defines no 'nope'; the graphs it defines: ['bottom', 'mid', 'team']",
        ),
        (
            "nested.py:size",
            "'size' in nested.py is int, not a StateGraph or a compiled graph; the graphs it "
            "defines: ['bottom', 'mid', 'team']",
        ),
        ("missing.py:team", "no such file: missing.py"),
        ("nested.py:", "'nested.py:' is not a graph reference FILE.py:NAME"),
    ],
)
def test_graph_of_a_bad_python_reference(target: str, message: str) -> None:
    Path("nested.py").write_text(NESTED)
    wrong = invoke("graph", target)
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines() == [f"error: {message}", f"hint: {GRAPH_REF_HINT}"]


def test_patterns_lists_every_pattern_with_its_factory_fit_and_bound() -> None:
    import langgraph_orchestra
    from langgraph_orchestra.spec import PATTERNS

    result = invoke("patterns", env={"COLUMNS": "400"})
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    cells = [[cell.strip() for cell in row.strip("│").split("│")] for row in rows]
    assert [row[0] for row in cells] == list(PATTERNS)
    for (name, factory, does, fits, bound), pattern in zip(cells, PATTERNS.values(), strict=True):
        assert factory == f"create_{name}" and factory in langgraph_orchestra.__all__
        assert (does, fits, bound) == (pattern.summary, pattern.fits, pattern.bound)
        assert fits and bound, name
    assert cells[2] == [
        "group_chat",
        "create_group_chat",
        "speakers take turns on one transcript, a manager choosing who speaks next",
        "a discussion where each speaker needs what the others said",
        "max_rounds=20",
    ]


def test_every_command_has_help() -> None:
    for command in ("run", "resume", "threads", "show", "graph", "validate", "demo", "patterns"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Usage: orchestra" in result.stdout


# -- real processes -------------------------------------------------------------------


def orchestra(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ORCHESTRA_STORE"}
    env["COLUMNS"] = "100"
    return subprocess.run(
        [sys.executable, "-m", "langgraph_orchestra.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_interrupt_resume_in_another_process_then_show(workdir: Path) -> None:
    store = str(workdir / "s.db")
    first = orchestra("run", SEQUENTIAL, "-i", "Where is A-1001?", "--store", store, cwd=workdir)
    assert first.returncode == 3, first.stderr
    command = resume_line(first.stdout)
    assert command[:2] == ["orchestra", "resume"] and command[-2:] == ["--store", store]

    second = orchestra(*command[1:], cwd=workdir)
    assert second.returncode == 0, second.stderr
    assert "final answer · completed" in second.stdout

    third = orchestra("show", command[2], "--json", "--store", store, cwd=workdir)
    assert third.returncode == 0, third.stderr
    data = json.loads(third.stdout)
    assert data["status"] == "done"
    assert data["final"].endswith("The Acme support team")
    kinds = [(r["kind"], r["agent"]) for r in data["audit"]]
    assert kinds == [
        ("turn", "triage"),
        ("turn", "writer"),
        ("approval", "writer"),
        ("turn", "editor"),
        ("termination", None),
    ]
    assert data["usage"]["editor"]["calls"] == 1


def test_postgres_store(empty_postgres_url: str) -> None:
    # An empty database: listing the threads reads every thread of the store.
    postgres_url = empty_postgres_url
    thread = f"pg-{uuid.uuid4().hex[:8]}"
    first = invoke("run", SEQUENTIAL, "-i", "x", "--thread", thread, "--store", postgres_url)
    assert first.exit_code == 3, first.output
    assert resume_line(first.stdout)[-2:] == ["--store", postgres_url]
    assert "PostgreSQL at 127.0.0.1:5432/" in first.stdout
    done = invoke("resume", thread, "--approve", "--store", postgres_url)
    assert done.exit_code == 0, done.output
    listed = json.loads(invoke("threads", "--json", "--store", postgres_url).stdout)
    assert {"thread_id": thread, "status": "done"}.items() <= next(
        t for t in listed if t["thread_id"] == thread
    ).items()


def test_resume_has_a_flag_for_every_decision_action() -> None:
    help_text = invoke("resume", "--help").stdout
    for action in (
        *APPROVAL_ACTIONS,
        *ESCALATION_ACTIONS,
        *TOOL_APPROVAL_ACTIONS,
        *LIMIT_ACTIONS,
        *PLAN_REVIEW_ACTIONS,
        *CONFLICT_ACTIONS,
        *SPLIT_ACTIONS,
    ):
        flag = "--answer" if action == "respond" else f"--{action}"
        assert flag in help_text, action
    assert "--say" in help_text  # a person's message
    words = " ".join(help_text.split())  # the help's lines are wrapped
    assert "as a JSON object" in words  # --edit on a tool call
    assert "For a plan, the file holds the plan's steps, one per line" in words  # --edit
    assert """for a planner-executor's plan, the plan as JSON: {"steps": [""" in words


# -- rough edges: progress, errors, help, 80 columns --------------------------------------

GATED_PAIR = """
    pattern: concurrent
    agents:
      - {name: alpha, approval: after, model: {scripted: [A]}}
      - {name: beta, approval: after, model: {scripted: [B]}}
    """


def progress_lines(output: str) -> list[str]:
    """The progress lines of a run's output (agent starts, turns, decisions, the end)."""
    marks = ("▶", "✓", "→", "■")
    return [line.rstrip() for line in output.splitlines() if line.startswith(marks)]


def test_progress_reports_each_step_once_across_a_fan_out_and_its_resumes() -> None:
    path = team(GATED_PAIR)
    first = invoke("run", path, "-i", "go", "--thread", "g1")
    assert first.exit_code == 3, first.output
    lines = progress_lines(first.stdout)
    assert lines[0] == "→ dispatched to alpha, beta"
    # the branches run at once: each starts and ends once, in either order
    assert sorted(line.split()[:2] for line in lines[1:]) == [
        ["▶", "alpha"],
        ["▶", "beta"],
        ["✓", "alpha"],
        ["✓", "beta"],
    ]
    beta = next(i["id"] for i in shown("g1")["interrupts"] if i["agent"] == "beta")

    second = invoke("resume", "g1", "--approve", "--interrupt", beta, "--reviewer", "ana")
    assert second.exit_code == 3, second.output
    # only what this resume did: alpha's turn (done before the pause) is not replayed
    assert progress_lines(second.stdout) == ["✓ beta approval: approve by ana"]

    third = invoke("resume", "g1", "--approve", "--reviewer", "bo")
    assert third.exit_code == 0, third.output
    # beta's approval, decided by the previous resume, is not replayed either
    assert progress_lines(third.stdout) == [
        "✓ alpha approval: approve by bo",
        "→ aggregate: 2 of 2 branches succeeded (quorum 1), aggregator concat",
        "■ run ended: completed",
    ]


def test_progress_of_an_ungated_fan_out_prints_each_branch_once() -> None:
    result = invoke("run", str(ROOT / "examples" / "concurrent.yaml"), "-i", "ship?")
    assert result.exit_code == 3, result.output
    lines = progress_lines(result.stdout)
    for agent in ("security", "reliability", "product", "release_manager"):
        assert sum(line.startswith(f"✓ {agent} ") for line in lines) == 1, agent
        assert lines.count(f"▶ {agent} working…") == 1, agent


def test_audit_numbers_a_fan_outs_approvals_in_the_order_they_were_decided() -> None:
    path = team(GATED_PAIR)
    invoke("run", path, "-i", "go", "--thread", "g2")
    beta = next(i["id"] for i in shown("g2")["interrupts"] if i["agent"] == "beta")
    assert invoke("resume", "g2", "--approve", "--interrupt", beta).exit_code == 3
    assert invoke("resume", "g2", "--approve").exit_code == 0
    audit = shown("g2")["audit"]
    approvals = [r["agent"] for r in audit if r["kind"] == "approval"]
    assert approvals == ["beta", "alpha"]  # beta was decided first
    decided = [r["ts"] for r in audit if r["kind"] == "approval"]
    assert decided == sorted(decided)
    table = invoke("show", "g2", "--audit", env={"COLUMNS": "120"}).stdout
    numbered = [line.split("│")[1:5] for line in table.splitlines() if "│ approval" in line]
    assert [(n.strip(), agent.strip()) for n, _, _, agent in numbered] == [
        ("4", "beta"),
        ("5", "alpha"),
    ]


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ["run", SEQUENTIAL],
            [
                "error: give the task with -i TEXT (or a batch file with --batch FILE)",
                "hint: orchestra run TEAM.yaml -i 'the task'; see: orchestra run --help",
            ],
        ),
        (
            ["resume", "t1", "--interrupt"],
            [
                "error: option '--interrupt' requires an argument",
                "hint: see: orchestra resume --help",
            ],
        ),
        (
            ["show", "t1", "--audti"],
            [
                "error: no such option: --audti (Possible options: --audit)",
                "hint: see: orchestra show --help",
            ],
        ),
        (
            ["thread"],
            [
                "error: no such command 'thread'. Did you mean 'threads'?",
                "hint: see: orchestra --help",
            ],
        ),
        (
            ["run", SEQUENTIAL, "-i", "x", "extra"],
            [
                "error: got unexpected extra argument(s) (extra)",
                "hint: see: orchestra run --help",
            ],
        ),
        (
            ["run", SEQUENTIAL, "--batch", "in.jsonl", "--concurrency", "0"],
            [
                "error: invalid value for '--concurrency': Input should be greater than or "
                "equal to 1",
                "hint: see: orchestra run --help",
            ],
        ),
    ],
    ids=[
        "missing -i",
        "option without value",
        "unknown option",
        "unknown command",
        "extra",
        "range",
    ],
)
def test_command_line_mistakes_are_one_error_line_and_a_hint(
    args: list[str], stderr: list[str]
) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == stderr
    assert result.stdout == ""


def test_command_line_mistakes_in_a_real_process(workdir: Path) -> None:
    done = orchestra("run", SEQUENTIAL, "--inpt", "x", cwd=workdir)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: no such option: --inpt (Possible options: --input)",
        "hint: see: orchestra run --help",
    ]
    assert "╭" not in done.stderr and "Traceback" not in done.stderr


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    expected = importlib.metadata.version("langgraph-orchestra")
    assert result.stdout == f"orchestra (langgraph-orchestra) {expected}\n"


@pytest.mark.parametrize("task", ["", "   \n"])
def test_an_empty_task_is_refused_before_anything_runs(workdir: Path, task: str) -> None:
    given = invoke("run", SEQUENTIAL, "-i", task)
    assert given.exit_code == 2
    assert given.stderr.splitlines() == [
        "error: the task is empty",
        "hint: give the task with -i TEXT (or -i - to read it from stdin)",
    ]
    piped = invoke("run", SEQUENTIAL, "-i", "-", input=task)
    assert piped.exit_code == 2
    assert piped.stderr.splitlines()[0] == "error: the task is empty (stdin gave no text)"
    assert list(workdir.iterdir()) == []  # no store, no thread


def test_demo_interactive_without_a_terminal_is_refused(workdir: Path) -> None:
    result = invoke("demo", "--interactive")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --interactive needs a terminal to ask for decisions, and stdin is not one",
        "hint: run it in a terminal, or without --interactive to approve automatically",
    ]
    assert list(workdir.iterdir()) == []


def test_base_url_needs_a_model_it_applies_to(workdir: Path) -> None:
    result = invoke("run", SEQUENTIAL, "-i", "x", "--base-url", "http://me:pw@127.0.0.1:9/v1")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --base-url http://me:***@127.0.0.1:9/v1: no model of the team uses it (its "
        "models are scripted or given as objects); it applies to 'provider:model' strings",
        "hint: give the model too, e.g. --model openai:llama3.1 --base-url URL",
    ]
    assert invoke("demo", "--base-url", "http://127.0.0.1:9/v1").exit_code == 2
    assert list(workdir.iterdir()) == []


def test_a_bare_model_name_is_refused_alike_by_the_api_and_the_command_line() -> None:
    from langgraph_orchestra import Agent, TeamConfigError

    with pytest.raises(TeamConfigError) as api:
        Agent("a", model="gpt-4o")
    result = invoke("run", SEQUENTIAL, "-i", "x", "--model", "gpt-4o")
    assert result.exit_code == 2
    assert str(api.value) == f"Agent 'a' model: {result.stderr.splitlines()[0][16:]}"


def test_validate_names_the_aggregator_agent() -> None:
    result = invoke("validate", str(ROOT / "examples" / "concurrent.yaml"), env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert result.stdout.strip().endswith(
        "concurrent team 'release-review' with 4 agents: security, reliability, product, "
        "release_manager (aggregator, approval after)"
    )


def test_at_80_columns_thread_ids_and_participant_names_stay_whole() -> None:
    env = {"COLUMNS": "80"}
    long_id = "quarterly-business-review-2026-q3-a1b2c3"
    path = team(
        """
        name: release-review
        pattern: concurrent
        agents:
          - {name: security_reviewer, model: {scripted: [ok]}}
          - {name: reliability_reviewer, model: {scripted: [ok]}}
        """
    )
    assert invoke("run", path, "-i", "go", "--thread", long_id, env=env).exit_code == 0
    listed = invoke("threads", env=env).stdout
    rows = [line for line in listed.splitlines() if line[:1] in "┏┃┡│└"]
    assert max(len(line) for line in rows) <= 80
    assert f"│ {long_id} │" in listed  # on one line: copyable
    usage = invoke("show", long_id, "--usage", env=env).stdout
    assert max(len(line) for line in usage.splitlines() if line[:1] in "┏┃┡│└") <= 80
    names = [line.split("│")[1].strip() for line in usage.splitlines() if line.startswith("│")]
    assert names[-3:] == ["security_reviewer", "reliability_reviewer", "total"]


def test_help_is_rewrapped_to_the_terminal_without_type_labels_on_flags() -> None:
    env = {"COLUMNS": "80"}
    for command in ("run", "resume", "threads", "show", "graph", "validate", "demo", "patterns"):
        text = invoke(command, "--help", env=env).stdout
        assert "<bool>" not in text, command
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= 80, command
        # the description's paragraphs are filled: a line ends short only at a paragraph's end
        description = lines[2 : lines.index("Arguments:" if "Arguments:" in lines else "Options:")]
        for line, following in itertools.pairwise(description):
            if line.strip() and following.strip():
                assert len(line) > 55, (command, line)
    text = invoke("run", "--help", env=env).stdout
    assert "  --interactive / --no-interactive\n" in text
    assert "-i, --input TEXT" in text and "--store STORE" in text


def test_langgraph_servers_folder_is_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".langgraph_api/" in ignored


# -- batch runs ------------------------------------------------------------------------------


def batch_file(*rows: str, name: str = "inputs.jsonl") -> str:
    Path(name).write_text("".join(f"{row}\n" for row in rows))
    return name


def results(path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_a_batch_stops_each_thread_at_its_approval_and_collects_them_when_decided() -> None:
    inputs = batch_file('"Where is order A-1?"', '{"input": "Refund B-2", "id": "b2"}')
    first = invoke("run", SEQUENTIAL, "--batch", inputs, "--concurrency", "2", "--out", "out.jsonl")
    assert first.exit_code == 3, first.output
    out = first.stdout
    assert "support (sequential) · batch inputs.jsonl: 2 tasks, 2 at a time" in out
    assert "⏸ line 2 (b2) waiting for approval · thread support-inputs-b2" in out
    assert "Waiting for a decision (then run the batch again to collect them):" in out
    assert "  line 2: orchestra resume support-inputs-b2 --approve" in out
    rows = results("out.jsonl")
    assert [(r["line"], r["id"], r["action"], r["status"]) for r in rows] == [
        (1, None, "ran", "waiting for approval"),
        (2, "b2", "ran", "waiting for approval"),
    ]
    assert rows[1]["resume"][0] == "orchestra resume support-inputs-b2 --approve"
    assert [i["agent"] for i in rows[1]["interrupts"]] == ["writer"]
    for row in rows:  # each line's thread is an ordinary thread: show and resume work
        assert shown(row["thread_id"])["status"] == "waiting for approval"

    assert invoke("resume", "support-inputs-b2", "--approve").exit_code == 0
    second = invoke("run", SEQUENTIAL, "--batch", inputs, "--out", "out.jsonl")
    assert second.exit_code == 3, second.output
    assert "· line 2 (b2) done before (skipped) · thread support-inputs-b2" in second.stdout
    assert [(r["action"], r["status"]) for r in results("out.jsonl")] == [
        ("waiting", "waiting for approval"),
        ("skipped", "done"),
    ]
    assert results("out.jsonl")[1]["final"].startswith("Hi Sam")

    assert invoke("resume", rows[0]["thread_id"], "--approve").exit_code == 0
    third = invoke("run", SEQUENTIAL, "--batch", inputs, "--out", "out.jsonl")
    assert third.exit_code == 0, third.output
    table = [line for line in third.stdout.splitlines() if line.startswith("│")]
    assert [[c.strip() for c in row.strip("│").split("│")] for row in table] == [
        ["done", "2", "0", "2"],
        ["total", "2", "", ""],
    ]
    assert [r["thread_id"] for r in results("out.jsonl")] == [r["thread_id"] for r in rows]


def test_a_batch_runs_many_tasks_on_the_offline_team_and_skips_them_when_run_again() -> None:
    path = team(
        """
        name: desk
        pattern: sequential
        agents:
          - {name: writer, model: {scripted: [draft], latency: 0.05}}
          - {name: editor, model: {scripted: [final answer], latency: 0.05}}
        """
    )
    inputs = batch_file(*(f'"task {i}"' for i in range(10)))
    result = invoke("run", path, "--batch", inputs, "--concurrency", "4", "--out", "r.jsonl")
    assert result.exit_code == 0, result.output
    rows = results("r.jsonl")
    assert [(r["status"], r["final"]) for r in rows] == [("done", "final answer")] * 10
    assert [r["usage"]["calls"] for r in rows] == [2] * 10  # a fresh script per thread
    assert "batch ━" in result.stdout and "10/10" in result.stdout  # the progress bar
    again = invoke("run", path, "--batch", inputs)
    assert again.exit_code == 0
    assert again.stdout.count("done before (skipped)") == 10


def test_a_batchs_failed_tasks_are_listed_and_retried_on_the_next_run() -> None:
    path = team(
        """
        name: desk
        pattern: sequential
        agents:
          - {name: writer, model: {scripted: [{error: upstream timed out}]}}
        """
    )
    inputs = batch_file('"task"')
    first = invoke("run", path, "--batch", inputs, "--out", "r.jsonl")
    assert first.exit_code == 1, first.output
    assert "✗ line 1 failed: Agent 'writer' failed: " in first.stdout
    assert "Failed (run the batch again to retry them):" in first.stdout
    thread = results("r.jsonl")[0]["thread_id"]
    assert f"  line 1: orchestra show {thread}" in first.stdout
    assert shown(thread)["status"] == "failed"  # what the store says

    second = invoke("run", path, "--batch", inputs, "--out", "r.jsonl")
    assert second.exit_code == 1
    assert [(r["action"], r["status"]) for r in results("r.jsonl")] == [("resumed", "failed")]


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ["--batch", "in.jsonl", "-i", "x", "--thread", "t"],
            [
                "error: --batch runs the file's tasks, each in its own thread: leave out -i, "
                "--thread",
                "hint: decide a batch's approvals afterwards with the orchestra resume "
                "commands it lists",
            ],
        ),
        (
            ["-i", "x", "--out", "r.jsonl"],
            ["error: --out goes with --batch", "hint: give the batch file with --batch FILE"],
        ),
        (
            ["-i", "x", "--concurrency", "2"],
            [
                "error: --concurrency goes with --batch",
                "hint: give the batch file with --batch FILE",
            ],
        ),
        (
            ["--batch", "missing.jsonl"],
            [
                "error: missing.jsonl: no such file",
                "hint: give a JSONL file of tasks, one per line (see --help)",
            ],
        ),
    ],
    ids=["with -i", "--out alone", "--concurrency alone", "missing file"],
)
def test_batch_flag_mistakes(args: list[str], stderr: list[str], workdir: Path) -> None:
    Path("in.jsonl").write_text('"x"\n')
    result = invoke("run", SEQUENTIAL, *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == stderr
    assert not (workdir / ".orchestra").exists()


def test_a_malformed_batch_file_is_refused_with_every_problem(workdir: Path) -> None:
    inputs = batch_file('"ok"', "not json", '{"input": ""}')
    result = invoke("run", SEQUENTIAL, "--batch", inputs)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: inputs.jsonl:2: not JSON (Expecting value, column 1)",
        "error: inputs.jsonl:3: 'input' must be a non-empty string (the task)",
        'hint: give one task per line: "TEXT" or {"input": "TEXT", "id": "ID"} (id optional)',
    ]
    assert not (workdir / ".orchestra").exists()
