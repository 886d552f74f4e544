"""Fallbacks, breakers, record writes and completion actions as the CLI and a resume see them.

The progress display prints a line for each (redacted when the team says so); a thread
whose scripted models fell back resumes, in a fresh process, where each model's script
stopped.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console

from langgraph_orchestra import (
    Agent,
    Summary,
    TeamConfigError,
    create_concurrent,
    create_hierarchical,
    create_network,
    create_sequential,
)
from langgraph_orchestra.checkpoint import open_checkpointer
from langgraph_orchestra.cli.rendering import Progress
from langgraph_orchestra.context import SUMMARIZER, Refreshing, kept_refreshing, resolve_context
from langgraph_orchestra.nodes.steps import step_view
from langgraph_orchestra.prompts import DEFAULT_PROMPTS
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


# -- a summary is brought up to date for the views a fan-out sends -------------------


def _recording(name: str, seen: dict[str, list[list[str]]]) -> Agent:
    def run(messages: list[BaseMessage]) -> str:
        seen.setdefault(name, []).append([m.text for m in messages])
        return f"{name} answer {len(seen[name])}"

    return Agent(name, f"The {name}", runnable=run)


def _summarizer(*replies: Any) -> ScriptedModel:
    return ScriptedModel(list(replies), name=SUMMARIZER, model_name="summarizer")


def _concurrent(summary: ScriptedModel, seen: dict[str, list[list[str]]]) -> Any:
    branches = [_recording(n, seen) for n in ("a", "b", "c")]
    graph = create_concurrent(branches, context=Summary(summary, keep_last=2))
    return graph.compile(checkpointer=InMemorySaver())


def _summary(text: str) -> str:
    return DEFAULT_PROMPTS.summary_view.format(summary=text)


def test_concurrent_branches_see_the_summary_refreshed_once_per_fan_out() -> None:
    seen: dict[str, list[list[str]]] = {}
    summary = _summarizer("S1", "S2")
    team = _concurrent(summary, seen)
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    for text in ("one", "two", "three"):
        state = team.invoke({"messages": [HumanMessage(text)]}, config)

    # Three runs of three branches: one summarizer call per fan-out that needed one
    # (the first had nothing to summarize), not one per branch.
    summary.assert_complete()
    assert state["usage"][SUMMARIZER]["calls"] == 2
    assert len(summary.calls[1][-1].text.split("New messages:\n")[1].splitlines()) == 4
    assert summary.calls[1][-1].text.startswith("Summary so far:\nS1\n")
    for name in ("a", "b", "c"):
        assert seen[name] == [
            ["one"],
            [_summary("S1"), "c answer 1", "two"],
            [_summary("S2"), "c answer 2", "three"],
        ]
    values = team.get_state(config).values
    assert values["summaries"]["last2"]["calls"] == 2


def test_concurrent_branches_refresh_the_summary_async_too() -> None:
    seen: dict[str, list[list[str]]] = {}
    summary = _summarizer("S1")
    team = _concurrent(summary, seen)
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    for text in ("one", "two"):
        asyncio.run(team.ainvoke({"messages": [HumanMessage(text)]}, config))
    summary.assert_complete()
    assert {name: views[-1] for name, views in seen.items()} == {
        name: [_summary("S1"), "c answer 1", "two"] for name in ("a", "b", "c")
    }


def test_a_summarizer_failing_before_a_fan_out_is_an_exception_and_the_branches_go_on() -> None:
    seen: dict[str, list[list[str]]] = {}
    team = _concurrent(_summarizer(RuntimeError("summarizer down")), seen)
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    team.invoke({"messages": [HumanMessage("one")]}, config)
    state = team.invoke({"messages": [HumanMessage("two")]}, config)

    assert state["stop_reason"] == "completed"
    [failure] = state["exceptions"]
    assert (failure["agent"], failure["error"], failure["status"]) == (
        SUMMARIZER,
        "summarizer down",
        "continued",
    )
    # No summary yet: every branch sees the transcript up to its task.
    full = ["one", "a answer 1", "b answer 1", "c answer 1", "two"]
    assert all(views[-1] == full for views in seen.values())


def test_a_hierarchical_worker_with_a_summary_sees_it_when_delegated_to() -> None:
    def delegate(task: str) -> AIMessage:
        return AIMessage(
            "", tool_calls=[{"name": "delegate_to_w", "args": {"task": task}, "id": task}]
        )

    seen: dict[str, list[list[str]]] = {}
    summary = _summarizer("S1")
    worker = _recording("w", seen)
    worker = Agent("w", "The w", runnable=worker.runnable, context=Summary(summary, keep_last=2))
    manager = ScriptedModel([*(delegate(t) for t in ("1", "2", "3", "4")), "done"])
    state = (
        create_hierarchical([worker], manager_model=manager)
        .compile()
        .invoke({"messages": [HumanMessage("task")]})
    )
    assert state["final"] == "done"
    summary.assert_complete()
    # The 4th delegation: w's first answer left its window of 2, into the summary.
    assert seen["w"][-1] == ["task", _summary("S1"), "w answer 2", "w answer 3"]
    assert summary.calls[0][-1].text.endswith("w: w answer 1")


def test_kept_refreshing_wraps_only_a_refreshing_view() -> None:
    plain = resolve_context("full")
    summarized = resolve_context(Summary(_summarizer(), keep_last=2))
    assert step_view(context=plain) is not None
    assert not isinstance(step_view(context=plain), Refreshing)
    assert isinstance(step_view(context=summarized), Refreshing)
    assert kept_refreshing(plain, plain) is plain


def test_a_network_refuses_a_summary_context() -> None:
    agents = [_recording("a", {}), _recording("b", {})]
    summary = Summary(_summarizer(), keep_last=2)
    with pytest.raises(TeamConfigError) as refused:
        create_network(agents, context=summary)
    assert str(refused.value) == (
        "network: context=Summary(...) is not supported: each agent sees its own "
        "conversation with its peers, which one running summary cannot serve; use Window(k) "
        "or TokenBudget(n) to bound what an agent sees"
    )
    own = Agent("b", "The b", runnable=lambda m: "x", context=summary)
    with pytest.raises(TeamConfigError, match=r"^network: Agent 'b' context=Summary\(\.\.\.\)"):
        create_network([agents[0], own])
