"""The run tree a LangSmith user sees, checked on a loopback collector.

LangSmith's own client sends the runs (LANGSMITH_TRACING=true, LANGSMITH_ENDPOINT on
127.0.0.1, a dummy key) to a local HTTP server that keeps them: nothing leaves the
machine. The tree: the root run named after the team with the `orchestra` and
`pattern:` tags and team metadata; the agents' runs; a tool-using agent's model calls
named after the agent (not `ChatOpenAI`/`ScriptedModel`).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langchain_core.tracers.langchain import wait_for_all_tracers
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_orchestra import Agent, TeamConfigError, create_sequential
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.tracing import TAG, named_team, team_config


class _Runs:
    """The runs received, merged by id (a post, then patches)."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def add(self, run: dict[str, Any]) -> None:
        with self.lock:
            self.by_id.setdefault(str(run["id"]), {}).update(
                {k: v for k, v in run.items() if v is not None}
            )

    def named(self, name: str, run_type: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.by_id.values()
            if r.get("name") == name and (run_type is None or r.get("run_type") == run_type)
        ]

    def parent(self, run: dict[str, Any]) -> dict[str, Any] | None:
        parent = run.get("parent_run_id")
        return self.by_id.get(str(parent)) if parent else None


def _multipart(body: bytes, content_type: str) -> Iterator[tuple[str, bytes]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        yield str(name), part.get_payload(decode=True)


class _Collector(BaseHTTPRequestHandler):
    runs: _Runs

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _reply(self, status: int, data: Any) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._reply(200, {"version": "0.0.0", "batch_ingest_config": {}})

    def do_PATCH(self) -> None:
        self._receive()

    def do_POST(self) -> None:
        self._receive()

    def _receive(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "zstd":
            import zstandard

            body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
        kind = self.headers.get("Content-Type", "")
        if kind.startswith("multipart/form-data"):
            for name, value in _multipart(body, kind):
                # "post.<id>" / "patch.<id>" hold a run; "post.<id>.inputs" etc. its parts.
                parts = name.split(".")
                if len(parts) == 2 and parts[0] in ("post", "patch"):
                    self.runs.add({"id": parts[1], **json.loads(value)})
                elif len(parts) == 3 and parts[0] in ("post", "patch"):
                    self.runs.add({"id": parts[1], parts[2]: json.loads(value)})
        elif body:
            data = json.loads(body)
            if isinstance(data, dict) and ("post" in data or "patch" in data):
                for run in [*data.get("post", ()), *data.get("patch", ())]:
                    self.runs.add(run)
            elif isinstance(data, dict) and "id" in data:
                run_id = self.path.rstrip("/").rsplit("/", 1)[-1]
                self.runs.add({"id": data.get("id", run_id), **data})
        self._reply(200, {})


@pytest.fixture
def langsmith(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Runs]:
    """LangSmith tracing on, sent to a loopback collector."""
    import langsmith.run_trees as run_trees
    import langsmith.utils as ls_utils

    runs = _Runs()
    handler = type("Handler", (_Collector,), {"runs": runs})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2-dummy-key")
    monkeypatch.setenv("LANGSMITH_PROJECT", "orchestra-tests")
    monkeypatch.setattr(run_trees, "_CLIENT", None)  # a client for this endpoint
    ls_utils.get_env_var.cache_clear()
    try:
        yield runs
    finally:
        wait_for_all_tracers()
        server.shutdown()
        server.server_close()
        monkeypatch.setattr(run_trees, "_CLIENT", None)
        ls_utils.get_env_var.cache_clear()


@tool
def lookup(order: str) -> str:
    """Look an order up."""
    return f"{order}: shipped"


def _team() -> tuple[Any, list[ScriptedModel]]:
    call = AIMessage("", tool_calls=[{"name": "lookup", "args": {"order": "A-1"}, "id": "c1"}])
    triage = ScriptedModel([call, "A-1 shipped"])
    writer = ScriptedModel(["Your order shipped."])
    agents = [
        Agent("triage", model=triage, tools=[lookup]),
        Agent("writer", model=writer),
    ]
    graph = create_sequential(agents).compile(checkpointer=InMemorySaver(), name="support")
    return named_team(graph), [triage, writer]


def test_the_tree_a_langsmith_user_sees(langsmith: _Runs) -> None:
    team, models = _team()
    result = team.invoke(
        {"messages": [("user", "Where is A-1?")]}, {"configurable": {"thread_id": "t1"}}
    )
    assert result["final"] == "Your order shipped."
    wait_for_all_tracers()

    runs = langsmith
    [root] = [r for r in runs.by_id.values() if not r.get("parent_run_id")]
    assert root["name"] == "support"
    assert {TAG, "pattern:sequential"} <= set(root["tags"])
    metadata = root["extra"]["metadata"]
    assert (metadata["team"], metadata["pattern"]) == ("support", "sequential")

    # The agents' turns, under the root.
    for name in ("triage", "writer"):
        [node] = [r for r in runs.named(name, "chain") if runs.parent(r) is root]
        assert node["extra"]["metadata"]["agent"] == name

    # Every model call is named after its agent, the tool-using agent's included.
    llm_names = sorted(r["name"] for r in runs.by_id.values() if r.get("run_type") == "llm")
    assert llm_names == ["triage", "triage", "writer"]
    for call in runs.named("triage", "llm") + runs.named("writer", "llm"):
        assert {TAG, "pattern:sequential", f"agent:{call['name']}"} <= set(call["tags"])
        assert len(call["tags"]) == len(set(call["tags"]))  # no tag repeated
    [tool_run] = [r for r in runs.by_id.values() if r.get("run_type") == "tool"]
    assert tool_run["name"] == "lookup"
    for model in models:
        model.assert_complete()


def test_named_team_takes_the_name_from_compile_or_refuses_without_one() -> None:
    agents = [Agent("a", model=ScriptedModel([]))]
    named = named_team(create_sequential(agents).compile(name="support"))
    assert named.name == "support"
    assert named.config is not None
    assert named.config["run_name"] == "support"
    assert named.config["tags"] == [TAG, "pattern:sequential"]
    assert named.config["metadata"] == {"team": "support", "pattern": "sequential"}
    assert named_team(create_sequential(agents).compile(), "ops").name == "ops"
    with pytest.raises(TeamConfigError, match=r"compile\(name='support'\)"):
        named_team(create_sequential(agents).compile())


def test_team_config() -> None:
    assert team_config("support", "concurrent") == {
        "run_name": "support",
        "tags": [TAG, "pattern:concurrent"],
        "metadata": {"team": "support", "pattern": "concurrent"},
    }


def test_orchestra_run_names_the_root_after_the_team(
    langsmith: _Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from langgraph_orchestra.cli import app

    monkeypatch.chdir(tmp_path)
    Path("team.yaml").write_text(
        "name: support\npattern: concurrent\nagents:\n"
        "  - {name: a, model: {scripted: [from a]}}\n"
        "  - {name: b, model: {scripted: [from b]}}\n"
    )
    result = CliRunner().invoke(app, ["run", "team.yaml", "-i", "go", "--store", "s.db"])
    assert result.exit_code == 0, result.output
    wait_for_all_tracers()
    roots = [r for r in langsmith.by_id.values() if not r.get("parent_run_id")]
    assert [r["name"] for r in roots] == ["support"]
    assert {TAG, "pattern:concurrent"} <= set(roots[0]["tags"])
    assert roots[0]["extra"]["metadata"]["team"] == "support"
    assert sorted(r["name"] for r in langsmith.by_id.values() if r.get("run_type") == "llm") == [
        "a",
        "b",
    ]
