"""Fallbacks, breakers, record writes and completion actions as the CLI and a resume see them.

The progress display prints a line for each (redacted when the team says so); a thread
whose scripted models fell back resumes, in a fresh process, where each model's script
stopped.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from rich.console import Console

from langgraph_orchestra import Agent, create_sequential
from langgraph_orchestra.checkpoint import open_checkpointer
from langgraph_orchestra.cli.rendering import Progress
from langgraph_orchestra.redaction import Redactor
from langgraph_orchestra.resilience import reset_circuits
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import RunEvent, consumed_replies, read_thread

EMAIL = "ops@example.com"


def _record(kind: str, agent: str | None, **detail: Any) -> dict[str, Any]:
    return {
        "id": kind,
        "ts": "2026-01-01T00:00:00+00:00",
        "kind": kind,
        "agent": agent,
        "detail": detail,
    }


FAILED = {"model": "gpt-4o", "error": f"503, ask {EMAIL}", "error_type": "RuntimeError"}
RECORDS = [
    _record("fallback", "writer", model="claude", failed=[FAILED]),
    _record("fallback", "critic", model=None, failed=[FAILED]),
    _record(
        "breaker",
        "writer",
        model="openai:gpt-4o",
        state="open",
        failures=3,
        window_s=60,
        reset_after_s=30,
    ),
    _record("breaker", "writer", model="openai:gpt-4o", state="half_open"),
    _record("breaker", "writer", model="openai:gpt-4o", state="closed"),
    _record("write", "writer", field="contact", old=None, new=EMAIL),
    _record(
        "completion", "on_end", action="notify", index=0, run="r", status="done", latency_s=0.01
    ),
    _record(
        "completion",
        "on_end",
        action="store",
        index=1,
        run="r",
        status="failed",
        latency_s=0.01,
        error=f"Completion action 'store' failed: no {EMAIL}",
    ),
]


def _printed(redact: Any = None) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=300, color_system=None, highlight=False, soft_wrap=True)
    with Progress(console, ["writer", "critic"], redact) as progress:
        progress(RunEvent("finished", "writer", {}, tuple(RECORDS)))
    return out.getvalue().splitlines()


def test_progress_prints_a_line_for_each_new_audit_kind() -> None:
    assert _printed() == [
        f"↻ writer answered by claude after gpt-4o failed (RuntimeError: 503, ask {EMAIL})",
        f"✗ critic no model answered: gpt-4o failed (RuntimeError: 503, ask {EMAIL})",
        "⚡ writer breaker of openai:gpt-4o opened: 3 failures within 60 s; a trial call "
        "after 30 s",
        "⚡ writer breaker of openai:gpt-4o half-open: one trial call goes through",
        "⚡ writer breaker of openai:gpt-4o closed",
        f"✎ writer contact: None → '{EMAIL}'",
        "✓ on_end notify done",
        f"✗ on_end store failed: Completion action 'store' failed: no {EMAIL}",
    ]


def test_progress_redacts_what_it_prints_when_the_team_sets_redact() -> None:
    lines = _printed(Redactor())
    assert len(lines) == 8
    assert not any(EMAIL in line for line in lines)
    assert lines[0] == (
        "↻ writer answered by claude after gpt-4o failed (RuntimeError: 503, ask [redacted email])"
    )
    assert lines[5] == "✎ writer contact: None → '[redacted email]'"


# -- consumed replies, per model of a fallback chain ---------------------------------


def _fallback(agent: str, model: str | None, *error_types: str, **more: Any) -> dict[str, Any]:
    failed = [{"model": "m", "error": "x", "error_type": t} for t in error_types]
    return {
        "id": f"{agent}-{model}-{len(error_types)}",
        "kind": "fallback",
        "agent": agent,
        "detail": {"model": model, "failed": failed, **more},
    }


def _usage(calls: int) -> dict[str, Any]:
    return {
        "calls": calls,
        "input_tokens": 0,
        "output_tokens": 0,
        "latency_s": 0.0,
        "cost_usd": 0.0,
    }


def test_consumed_replies_are_counted_per_model_of_the_chain() -> None:
    values = {
        # writer: 3 calls answered: the 1st by fallback1 (after the primary failed), the
        # 2nd by fallback2 with 2 calls (the primary's breaker was open: no call; the
        # 1st fallback failed), the last by the primary.
        "usage": {"writer": _usage(4), "critic": _usage(0)},
        "audit": [
            _fallback("writer", "b", "RuntimeError"),
            _fallback("writer", "c", "CircuitOpenError", "TimeoutError", calls=2),
            # critic: every model failed (its exception record counted one call).
            _fallback("critic", None, "RuntimeError", "RuntimeError"),
        ],
        "exceptions": [
            {"id": "e1", "agent": "critic", "error": "x", "error_type": "RuntimeError"},
            # an open breaker without a fallback made no call
            {"id": "e2", "agent": "writer", "error": "x", "error_type": "CircuitOpenError"},
        ],
    }
    assert consumed_replies(values) == {
        "writer": 2,
        "writer/fallback1": 2,
        "writer/fallback2": 2,
        "critic": 1,
        "critic/fallback1": 1,
    }


def test_a_fallback_that_answered_with_several_calls_says_how_many() -> None:
    def lookup(order: str) -> str:
        """Look an order up."""
        return f"order {order}: shipped"

    reset_circuits()
    primary = ScriptedModel([RuntimeError("down")], model_name="primary")
    backup = ScriptedModel(
        [
            AIMessage("", tool_calls=[{"name": "lookup", "args": {"order": "7"}, "id": "c1"}]),
            "Order 7 has shipped.",
        ],
        model_name="backup",
    )
    agent = Agent("support", model=primary, fallbacks=[backup], tools=[lookup])
    state = (
        create_sequential([agent])
        .compile()
        .invoke({"messages": [HumanMessage("Where is order 7?")]})
    )
    [fallback] = [r for r in state["audit"] if r["kind"] == "fallback"]
    assert fallback["detail"]["calls"] == 2
    assert state["usage"]["support"]["calls"] == 2
    assert consumed_replies(state) == {"support": 1, "support/fallback1": 2}


# -- a resumed thread goes on where each scripted model stopped ----------------------

TEAM = f"""
    name: drafting
    pattern: sequential
    options:
      redact: default
    agents:
      - name: writer
        approval: after
        model:
          scripted:
            - {{error: "503 overloaded, ask {EMAIL}"}}
            - {{error: "503 again"}}
            - "primary is back"
        fallbacks:
          - {{scripted: ["draft one", "draft two"]}}
    """


def _orchestra(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`orchestra ARGS` in a fresh Python process, in `folder`, with this checkout's code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    env.update(
        LANGSMITH_TRACING="false",
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
        COLUMNS="200",
    )
    env.pop("ORCHESTRA_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "langgraph_orchestra.cli", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def _answer(output: str) -> str:
    """The text in the panel of the output waiting for approval (or the final answer)."""
    lines = [line for line in output.splitlines() if line.startswith("│")]
    return " ".join(line.strip("│ ") for line in lines)


@pytest.mark.timeout(300)
def test_a_resumed_thread_continues_each_scripted_model_where_it_stopped(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(textwrap.dedent(TEAM))

    first = _orchestra(
        tmp_path, "run", "team.yaml", "-i", "Write it", "--thread", "t1", "--no-interactive"
    )
    assert first.returncode == 3, first.stdout + first.stderr
    assert _answer(first.stdout) == "draft one"
    # The fallback is in the progress, redacted as the team says.
    assert (
        "↻ writer answered by scripted after scripted failed (RuntimeError: 503 overloaded, "
        "ask [redacted email])" in first.stdout.splitlines()
    )
    assert EMAIL not in first.stdout

    # Each decision is made by a fresh process: the primary fails again, the fallback
    # gives its second reply (not its first again).
    second = _orchestra(tmp_path, "resume", "t1", "--reject", "shorter")
    assert second.returncode == 3, second.stdout + second.stderr
    assert _answer(second.stdout) == "draft two"
    assert (
        "↻ writer answered by scripted after scripted failed (RuntimeError: 503 again)"
        in second.stdout.splitlines()
    )

    # The primary's third reply comes next: it answers, no fallback.
    third = _orchestra(tmp_path, "resume", "t1", "--reject", "shorter still")
    assert third.returncode == 3, third.stdout + third.stderr
    assert _answer(third.stdout) == "primary is back"
    assert "↻" not in third.stdout

    done = _orchestra(tmp_path, "resume", "t1", "--approve")
    assert done.returncode == 0, done.stdout + done.stderr
    with open_checkpointer(f"sqlite:///{tmp_path / '.orchestra' / 'state.db'}") as saver:
        thread = read_thread(saver, "t1")
    assert thread.final == "primary is back"
    assert consumed_replies(thread.values) == {"writer": 3, "writer/fallback1": 2}
