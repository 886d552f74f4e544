"""The `orchestra` command line, in process (typer's CliRunner) and as real processes."""

from __future__ import annotations

import importlib.util
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

from langgraph_orchestra.cli import DEFAULT_STORE, app
from langgraph_orchestra.nodes import APPROVAL_ACTIONS, ESCALATION_ACTIONS

ROOT = Path(__file__).resolve().parent.parent
SEQUENTIAL = str(ROOT / "examples" / "sequential.yaml")

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


def test_demo_runs_end_to_end_offline(workdir: Path) -> None:
    result = invoke("demo")
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


def test_demo_of_an_unknown_pattern() -> None:
    result = invoke("demo", "swarm")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: unknown pattern 'swarm'; allowed: concurrent, group_chat, "
        "maker_checker, sequential",
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


def test_threads_in_an_empty_store() -> None:
    result = invoke("threads", "--store", "empty.db")
    assert result.exit_code == 0
    assert "no threads in SQLite file" in result.stdout


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
                "hint: approvals: --approve, --reject TEXT, --edit FILE, --answer TEXT; "
                "escalated failures: --retry, --skip, --supply TEXT, --abort; a person's turn: "
                "--say TEXT",
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
                "error: unknown pattern 'swarm'; allowed: concurrent, group_chat, "
                "maker_checker, sequential",
                "hint: give a team file or one of the pattern names",
            ],
        ),
        (
            ["run", SEQUENTIAL, "-i", "x", "--model", "gpt-4o"],
            [
                "error: --model: 'gpt-4o' is not a 'provider:model' string; give "
                "'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}",
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
        'hint: pip install "langgraph-orchestra[openai]"',
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
        "allowed: concurrent, group_chat, maker_checker, sequential",
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


def test_every_command_has_help() -> None:
    for command in ("run", "resume", "threads", "show", "graph", "validate", "demo"):
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


def test_postgres_store(postgres_url: str) -> None:
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
    for action in (*APPROVAL_ACTIONS, *ESCALATION_ACTIONS):
        flag = "--answer" if action == "respond" else f"--{action}"
        assert flag in help_text, action
    assert "--say" in help_text  # a person's turn in a group chat
