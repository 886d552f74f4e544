"""Redaction: the detectors, the stored audit and exceptions, traces, `orchestra show`.

A planted e-mail address, card number and API key reach the agents (unless
`redact_agents=True`) but never the stored audit details or exception records, the
LangSmith posts (a loopback collector) or `orchestra show --json`.
"""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from langsmith import Client, tracing_context
from langsmith.utils import get_env_var
from typer.testing import CliRunner

from langgraph_orchestra import Agent, TeamConfigError, create_group_chat, create_sequential
from langgraph_orchestra.cli.app import app
from langgraph_orchestra.redaction import (
    RedactedGraph,
    RedactingStateGraph,
    Redactor,
    check_redact,
    redact_data,
    redacted_tracing,
    tracing_client,
)
from langgraph_orchestra.spec._values import parse_redact
from langgraph_orchestra.spec.team import parse_spec
from langgraph_orchestra.testing import ScriptedModel

EMAIL = "ana.lima@example.com"
CARD = "4111 1111 1111 1111"  # passes the Luhn check
API_KEY = "sk-proj-Abc123Def456Ghi789Jkl012Mno345"
SECRETS = (EMAIL, CARD, API_KEY)
TASK = f"Refund card {CARD}, write to {EMAIL}; our key is {API_KEY}"


# --- the detectors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (f"mail {EMAIL} now", "mail [redacted email] now"),
        ("a.b+tag@mail.co.uk", "[redacted email]"),
        (f"card {CARD}.", "card [redacted card]."),
        ("card 4111-1111-1111-1111", "card [redacted card]"),
        ("card 5555555555554444", "card [redacted card]"),
        ("not a card 1234 5678 9012 3456", "not a card 1234 5678 9012 3456"),  # fails Luhn
        ("call +1 415-555-0123 today", "call [redacted phone] today"),
        ("call (415) 555 0123", "call [redacted phone]"),
        ("call +442079460958", "call [redacted phone]"),
        (f"key {API_KEY}", "key [redacted secret]"),
        ("key sk-abcdefghijklmnopqrstuv", "key [redacted secret]"),
        ("Authorization: Bearer abcdef0123456789", "Authorization: Bearer [redacted secret]"),
        ("use AKIAABCDEFGHIJKLMNOP", "use [redacted secret]"),
        ("order A-1001 on 2026-12-01T16:27:33+00:00, 3 items", None),  # nothing found
        ("id 79be825b67fff3e7b3619e000b0d8f0a", None),
    ],
)
def test_default_redactor(text: str, redacted: str | None) -> None:
    assert Redactor()(text) == (text if redacted is None else redacted)


def test_detectors_can_be_turned_off_and_the_placeholder_changed() -> None:
    text = f"{EMAIL} {CARD} +1 415-555-0123 {API_KEY}"
    assert Redactor(emails=False, cards=False)(text) == (
        f"{EMAIL} {CARD} [redacted phone] [redacted secret]"
    )
    assert Redactor(phones=False, secrets=False, placeholder="<{kind}>")(text) == (
        f"<email> <card> +1 415-555-0123 {API_KEY}"
    )


def test_redact_data_reaches_nested_values_and_messages() -> None:
    data: Any = {"a": [EMAIL, {"b": (CARD, 3)}], "n": 1.5, "none": None}
    assert redact_data(data, Redactor()) == {
        "a": ["[redacted email]", {"b": ["[redacted card]", 3]}],
        "n": 1.5,
        "none": None,
    }


def test_check_redact() -> None:
    assert check_redact(None) is None
    assert check_redact("default") == Redactor()
    mine = Redactor(phones=False)
    assert check_redact(mine) is mine
    assert check_redact(str.upper) is str.upper
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "redact must be 'default', a Redactor(emails=..., phones=..., cards=..., "
            "secrets=...) or a callable str -> str, got 'all'"
        ),
    ):
        check_redact("all")


def test_redactor_refuses_a_flag_that_is_not_a_bool() -> None:
    with pytest.raises(TeamConfigError, match=re.escape("Redactor cards must be True or False")):
        Redactor(cards="yes")  # type: ignore[arg-type]


def test_factories_refuse_a_bad_redact_or_redact_agents_alone() -> None:
    agents = [Agent("a", runnable=lambda m: "x")]
    with pytest.raises(TeamConfigError, match="redact must be 'default'"):
        create_sequential(agents, redact=42)  # type: ignore[arg-type]
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "redact_agents=True needs a redactor: give redact='default', a Redactor(...) or a "
            "callable str -> str"
        ),
    ):
        create_sequential(agents, redact_agents=True)
    with pytest.raises(TeamConfigError, match="redact_agents must be True or False, got 1"):
        create_sequential(agents, redact="default", redact_agents=1)  # type: ignore[arg-type]


# --- what the run stores ----------------------------------------------------------------


def _stored(saver: InMemorySaver, thread: str, channel: str) -> list[Any]:
    """Every value the checkpointer holds for `channel` of `thread`: blobs and writes."""
    found: list[Any] = []
    for (owner, _ns, name, _version), typed in saver.blobs.items():
        if owner == thread and name == channel and typed[0] != "empty":
            found.append(saver.serde.loads_typed(typed))
    for (owner, _ns, _checkpoint), writes in saver.writes.items():
        if owner == thread:
            for _task, name, typed, _path in writes.values():
                if name == channel:
                    found.append(saver.serde.loads_typed(typed))
    return found


def _failing(messages: list[BaseMessage]) -> str:
    raise ValueError(f"cannot process: {messages[-1].text}")


def _text(values: list[Any]) -> str:
    return json.dumps(values, default=repr)


def _pipeline(**options: Any) -> tuple[Any, ScriptedModel, InMemorySaver]:
    writer = ScriptedModel([f"Refund sent to {EMAIL} for card {CARD}"])
    saver = InMemorySaver()
    team = create_sequential(
        [
            Agent("writer", model=writer),
            Agent("checker", runnable=_failing, on_error="continue"),
        ],
        **options,
    ).compile(checkpointer=saver)
    return team, writer, saver


def test_stored_audit_and_exceptions_hold_no_planted_secret() -> None:
    team, writer, saver = _pipeline(redact="default")
    config: Any = {"configurable": {"thread_id": "t"}}
    state = team.invoke({"messages": [("user", TASK)]}, config)

    [record] = state["exceptions"]
    assert record["input"] == "Refund sent to [redacted email] for card [redacted card]"
    assert record["error"] == (
        "cannot process: Refund sent to [redacted email] for card [redacted card]"
    )
    [audited] = [r for r in state["audit"] if r["kind"] == "exception"]
    assert audited["detail"]["error"] == record["error"]
    stored = _text(_stored(saver, "t", "audit") + _stored(saver, "t", "exceptions"))
    assert "[redacted email]" in stored  # the records were found where they are stored
    for secret in SECRETS:
        assert secret not in stored
    # What the agents see is unchanged: the writer was given the task as it is.
    assert writer.calls[0][-1].text == TASK
    assert CARD in _text(_stored(saver, "t", "messages"))  # the transcript keeps it


def test_without_redact_the_records_keep_what_the_agents_said() -> None:
    team, _, saver = _pipeline()
    state = team.invoke({"messages": [("user", TASK)]}, {"configurable": {"thread_id": "t"}})
    assert EMAIL in state["exceptions"][0]["input"]
    assert EMAIL in _text(_stored(saver, "t", "exceptions"))


def test_redact_agents_shows_every_participant_the_redacted_transcript() -> None:
    writer = ScriptedModel(["done"])
    manager = ScriptedModel([{"speaker": "writer", "reason": "only one"}])
    team = create_group_chat(
        [Agent("writer", model=writer)],
        selector="llm",
        manager_model=manager,
        max_rounds=1,
        allow_repeat=True,
        redact="default",
        redact_agents=True,
    ).compile(checkpointer=InMemorySaver())
    state = team.invoke({"messages": [("user", TASK)]}, {"configurable": {"thread_id": "t"}})
    assert writer.calls[0][-1].text == (
        "Refund card [redacted card], write to [redacted email]; our key is [redacted secret]"
    )
    assert all(secret not in _text(manager.calls) for secret in SECRETS)
    assert state["messages"][0].text == TASK  # the transcript itself is kept


def test_a_callable_redactor() -> None:
    team, _, _ = _pipeline(redact=lambda text: text.replace("Refund", "R****"))
    state = team.invoke({"messages": [("user", TASK)]}, {"configurable": {"thread_id": "t"}})
    assert state["exceptions"][0]["input"] == f"R**** sent to {EMAIL} for card {CARD}"


# --- traces: a loopback LangSmith collector ---------------------------------------------


class _Collector(BaseHTTPRequestHandler):
    bodies: list[bytes]

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.command != "GET":
            self.bodies.append(body)
        payload = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = _reply

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """LangSmith tracing on, posting to a server on 127.0.0.1 that keeps the bodies."""
    bodies: list[bytes] = []
    handler = type("Handler", (_Collector,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("LANGSMITH_API_KEY", "test-key")
    get_env_var.cache_clear()
    try:
        yield bodies
    finally:
        server.shutdown()
        server.server_close()
        get_env_var.cache_clear()


def _posted(bodies: list[bytes]) -> str:
    return b"\n".join(bodies).decode("utf-8", "replace")


def test_trace_posts_are_redacted(collector: list[bytes]) -> None:
    team, _, _ = _pipeline(redact="default")
    with redacted_tracing("default") as client:
        assert isinstance(client, Client)  # tracing is on: the block posts through its client
        team.invoke({"messages": [("user", TASK)]}, {"configurable": {"thread_id": "t"}})
    posted = _posted(collector)
    assert "[redacted card]" in posted and "writer" in posted  # the runs were posted
    for secret in SECRETS:
        assert secret not in posted


def test_trace_posts_hold_the_secrets_without_redaction(collector: list[bytes]) -> None:
    team, _, _ = _pipeline()
    client = Client()
    with tracing_context(client=client):
        team.invoke({"messages": [("user", TASK)]}, {"configurable": {"thread_id": "t"}})
    client.flush()
    assert CARD in _posted(collector)


def test_redacted_tracing_does_nothing_when_tracing_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    get_env_var.cache_clear()
    with redacted_tracing("default") as client:
        assert client is None
    with redacted_tracing(None) as client:
        assert client is None
    with pytest.raises(TeamConfigError, match="tracing_client needs a redactor"):
        tracing_client(None)


# --- team files and the CLI -------------------------------------------------------------


def test_yaml_redact_values() -> None:
    assert parse_redact("default") == Redactor()
    assert parse_redact(True) == Redactor()
    assert parse_redact(False) is None
    assert parse_redact(["emails", "cards"]) == Redactor(phones=False, secrets=False)
    assert parse_redact({"phones": False}) == Redactor(phones=False)
    with pytest.raises(ValueError, match="unknown detector 'email' \\(did you mean 'emails'"):
        parse_redact(["email"])
    with pytest.raises(ValueError, match="phones must be true or false, got 'no'"):
        parse_redact({"phones": "no"})
    with pytest.raises(ValueError, match="expected a redaction, got 3; give default"):
        parse_redact(3)


_TEAM = """\
name: refunds
pattern: sequential
options:
  redact: default
agents:
  - name: writer
    model:
      scripted: ["Refund sent to {email} for card {card}"]
  - name: checker
    model:
      scripted: ["Checked: {email}"]
"""


def test_a_team_file_sets_redact() -> None:
    spec = parse_spec(
        {
            "pattern": "sequential",
            "options": {"redact": ["emails"], "redact_agents": True},
            "agents": [{"name": "a", "model": {"scripted": ["x"]}}],
        }
    )
    assert spec.options["redact"] == Redactor(phones=False, cards=False, secrets=False)
    assert spec.options["redact_agents"] is True


def test_orchestra_show_json_is_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("team.yaml").write_text(textwrap.dedent(_TEAM.format(email=EMAIL, card=CARD)))
    runner = CliRunner()
    ran = runner.invoke(app, ["run", "team.yaml", "-i", TASK, "--thread", "t1", "--store", "s.db"])
    assert ran.exit_code == 0, ran.output
    assert "Checked: [redacted email]" in ran.stdout  # the final answer as printed
    shown = runner.invoke(app, ["show", "t1", "--json", "--store", "s.db"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["final"] == "Checked: [redacted email]"
    assert data["messages"][0]["content"] == (
        "Refund card [redacted card], write to [redacted email]; our key is [redacted secret]"
    )
    for secret in SECRETS:
        assert secret not in shown.stdout
    table = runner.invoke(app, ["show", "t1", "--audit", "--usage", "--store", "s.db"])
    assert table.exit_code == 0 and EMAIL not in table.stdout


def test_orchestra_show_redact_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plain = _TEAM.replace("options:\n  redact: default\n", "")
    Path("team.yaml").write_text(textwrap.dedent(plain.format(email=EMAIL, card=CARD)))
    runner = CliRunner()
    ran = runner.invoke(app, ["run", "team.yaml", "-i", TASK, "--thread", "t1", "--store", "s.db"])
    assert ran.exit_code == 0, ran.output
    shown = runner.invoke(app, ["show", "t1", "--json", "--store", "s.db"])
    assert EMAIL in shown.stdout  # the team file sets no redact:
    forced = runner.invoke(app, ["show", "t1", "--json", "--redact", "--store", "s.db"])
    assert forced.exit_code == 0, forced.output
    assert all(secret not in forced.stdout for secret in SECRETS)


def test_orchestra_report_is_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("team.yaml").write_text(textwrap.dedent(_TEAM.format(email=EMAIL, card=CARD)))
    runner = CliRunner()
    ran = runner.invoke(app, ["run", "team.yaml", "-i", TASK, "--thread", "t1", "--store", "s.db"])
    assert ran.exit_code == 0, ran.output
    page = runner.invoke(app, ["report", "t1", "--html", "-", "--store", "s.db"])
    assert page.exit_code == 0, page.output
    assert "[redacted email]" in page.stdout
    assert all(secret not in page.stdout for secret in SECRETS)


# --- traces of a team built with redact=, no redacted_tracing around the call -----------


def _run(team: Any, how: str, inputs: Any, config: Any) -> None:
    """Run `team` the way `how` names, to the end."""
    if how == "invoke":
        team.invoke(inputs, config)
    elif how == "ainvoke":
        asyncio.run(team.ainvoke(inputs, config))
    elif how == "stream":
        assert list(team.stream(inputs, config, stream_mode="updates"))
    elif how == "batch":
        assert len(team.batch([inputs], config)) == 1
    elif how == "astream_events":

        async def events() -> None:
            assert [event async for event in team.astream_events(inputs, config, version="v2")]

        asyncio.run(events())
    else:

        async def drain() -> None:
            assert [chunk async for chunk in team.astream(inputs, config)]

        asyncio.run(drain())


@pytest.mark.parametrize(
    "how", ["invoke", "ainvoke", "stream", "astream", "batch", "astream_events"]
)
def test_redact_alone_redacts_the_trace_posts(collector: list[bytes], how: str) -> None:
    team, _, _ = _pipeline(redact="default")
    _run(team, how, {"messages": [("user", TASK)]}, {"configurable": {"thread_id": "t"}})
    posted = _posted(collector)
    # The graph's run, its nodes and the model call were posted...
    for name in ('"LangGraph"', '"writer"', '"ScriptedModel"', "[redacted card]"):
        assert name in posted
    for secret in SECRETS:  # ...with no planted secret in any of them
        assert secret not in posted


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
def test_without_redact_the_trace_posts_hold_the_secrets(collector: list[bytes], how: str) -> None:
    team, _, _ = _pipeline()
    client = Client()
    with tracing_context(client=client):
        _run(team, how, {"messages": [("user", TASK)]}, {"configurable": {"thread_id": "t"}})
    client.flush()
    posted = _posted(collector)
    assert '"ScriptedModel"' in posted
    for secret in SECRETS:
        assert secret in posted


def test_redact_none_compiles_langgraphs_own_graph() -> None:
    team, _, _ = _pipeline()
    assert type(team) is CompiledStateGraph
    assert type(team.builder) is StateGraph


def test_a_redacted_team_keeps_its_redactor_through_copies() -> None:
    redactor = Redactor(phones=False)
    team, _, _ = _pipeline(redact=redactor)
    assert isinstance(team, RedactedGraph) and team.redactor is redactor
    assert isinstance(team.builder, RedactingStateGraph)
    configured = team.with_config(recursion_limit=50)
    assert type(configured) is RedactedGraph and configured.redactor is redactor
    assert configured.config is not None and configured.config["recursion_limit"] == 50
    assert {"writer", "checker"} <= set(team.get_graph().nodes)
    # A graph compiled again from the builder, then copied with the server's own
    # checkpointer and name (as LangGraph Server does), is redacted too.
    served = team.builder.compile().copy(update={"checkpointer": InMemorySaver(), "name": "t"})
    assert type(served) is RedactedGraph and served.redactor is redactor
    assert served.name == "t"


def test_resume_after_an_approval_is_traced_redacted(collector: list[bytes]) -> None:
    writer = ScriptedModel([f"Refund sent to {EMAIL} for card {CARD}"])
    team = create_sequential(
        [Agent("writer", model=writer, approval="after")], redact="default"
    ).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    state = team.invoke({"messages": [("user", TASK)]}, config)
    assert state["__interrupt__"]
    collector.clear()
    state = team.invoke(Command(resume={"action": "approve"}), config)
    assert EMAIL in state["messages"][-1].text  # the run itself is unchanged
    posted = _posted(collector)
    assert '"LangGraph"' in posted and "[redacted email]" in posted
    for secret in SECRETS:
        assert secret not in posted


def _runs(bodies: list[bytes]) -> dict[str, dict[str, Any]]:
    """The posted runs by id: each run's fields, with what every part of it carried."""
    runs: dict[str, dict[str, Any]] = {}
    for body in bodies:
        text = body.decode("utf-8", "replace")
        for part in re.split(r"\r?\n--[0-9a-f]{16,}", "\n" + text):
            found = re.search(r'name="(?:post|patch)\.([0-9a-f-]{36})(\.\w+)?"', part)
            if found is None:
                continue
            run = runs.setdefault(found[1], {"text": ""})
            run["text"] += part
            if found[2] is None:
                payload = part[part.index("{") : part.rindex("}") + 1]
                run.update({k: v for k, v in json.loads(payload).items() if k != "text"})
    return runs


@pytest.mark.parametrize("how", ["invoke", "ainvoke"])
def test_a_redacted_team_nested_in_a_graph_posts_its_runs_redacted(
    collector: list[bytes], how: str
) -> None:
    team, _, _ = _pipeline(redact="default")
    parent = StateGraph(MessagesState)
    parent.add_node("team", team)
    parent.add_edge(START, "team")
    app = parent.compile(name="parent")
    client = Client()
    with tracing_context(client=client):
        _run(app, how, {"messages": [("user", TASK)]}, {"configurable": {"thread_id": "p"}})
    client.flush()
    runs = _runs(collector)
    [root] = [run for run in runs.values() if run.get("name") == "parent"]
    # The parent's own runs (not redacted) hold the task as the user gave it...
    assert CARD in root["text"]
    team_runs = [run for run in runs.values() if run.get("name") not in ("parent", "team")]
    assert {"LangGraph", "writer", "checker"} <= {run.get("name") for run in team_runs}
    assert "llm" in {run.get("run_type") for run in team_runs}  # the model call
    for run in team_runs:  # ...the team's runs, in the same trace, are redacted
        assert run["trace_id"] == root["id"]
        assert all(secret not in run["text"] for secret in SECRETS), run.get("name")
