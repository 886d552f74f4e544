"""The trust model: a team file is code, its hash guards resume, secrets are not stored."""

from __future__ import annotations

import hashlib
import json
import shlex
import sqlite3
import textwrap
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from typer.testing import CliRunner, Result

from langgraph_orchestra.checkpoint import open_checkpointer
from langgraph_orchestra.cli import DEFAULT_STORE, app
from langgraph_orchestra.spec import build
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import RunInfo, ThreadInfo, read_thread

runner = CliRunner()

GATED = """
    pattern: sequential
    agents:
      - name: writer
        approval: after
        model: {scripted: [draft one, draft two]}
    """


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every command in a fresh folder, with the default store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHESTRA_STORE", raising=False)
    return tmp_path


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def team(text: str = GATED, name: str = "team.yaml") -> Path:
    path = Path(name)
    path.write_text(textwrap.dedent(text))
    return path


def stored_run(thread: str, store: str = DEFAULT_STORE) -> RunInfo:
    with open_checkpointer(store) as saver:
        return read_thread(saver, thread).run


def shown(thread: str, *store: str) -> dict[str, Any]:
    result = invoke("show", thread, "--json", *store)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# -- a team file is code ----------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "validate", "resume"])
def test_help_says_a_team_file_is_code(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "is code (its tools: and handoff_input: import and run Python" in text


def test_readme_states_the_trust_model() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "## Trust model" in readme
    assert "A team file is code" in readme


# -- the team file's hash ---------------------------------------------------------------


def test_run_records_the_team_files_sha256() -> None:
    path = team()
    result = invoke("run", str(path), "-i", "x", "--thread", "t1")
    assert result.exit_code == 3, result.output
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored_run("t1").spec_sha256 == digest
    assert shown("t1")["spec_sha256"] == digest


def test_resume_refuses_a_changed_team_file_unless_allowed() -> None:
    path = team()
    assert invoke("run", str(path), "-i", "x", "--thread", "t1").exit_code == 3
    path.write_text(path.read_text() + "# changed\n")

    refused = invoke("resume", "t1", "--approve")
    assert refused.exit_code == 2
    error, hint = refused.stderr.splitlines()
    assert error.startswith(f"error: team file {path.resolve()} changed since thread 't1' started")
    assert error.endswith("now): refusing to run it")
    assert (
        hint == "hint: check the file (a team file is code), then resume with --allow-changed-spec"
    )
    assert shown("t1")["status"] == "waiting for approval"  # nothing was applied

    allowed = invoke("resume", "t1", "--approve", "--allow-changed-spec")
    assert allowed.exit_code == 0, allowed.output
    assert shown("t1")["final"] == "draft one"


def test_resume_of_an_unchanged_team_file_needs_no_flag() -> None:
    path = team()
    assert invoke("run", str(path), "-i", "x", "--thread", "t1").exit_code == 3
    done = invoke("resume", "t1", "--approve")
    assert done.exit_code == 0, done.output


# -- secrets ----------------------------------------------------------------------------


SERVED = """
    pattern: sequential
    agents:
      - name: writer
        approval: after
        model: openai:llama3.1
    """


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Models made from strings answer offline, as a served one would; their base URLs."""
    urls: list[str | None] = []

    def serve(model: Any, *, base_url: str | None = None, owner: str | None = None) -> Any:
        urls.append(base_url)
        return ScriptedModel(["draft one"], name="writer")

    monkeypatch.setattr(build, "chat_model", serve)
    return urls


def test_a_base_url_password_is_stored_redacted_and_never_shown(
    served: list[str | None],
) -> None:
    path = team(SERVED)
    url = "http://me:hunter2@llm.local:8000/v1"
    result = invoke("run", str(path), "-i", "x", "--thread", "t1", "--base-url", url)
    assert result.exit_code == 3, result.output
    assert "hunter2" not in result.output
    assert served == [url]  # the model got the whole URL
    assert stored_run("t1").base_url == "http://me:***@llm.local:8000/v1"
    show = invoke("show", "t1", "--json")
    assert "hunter2" not in show.stdout
    assert json.loads(show.stdout)["base_url"] == "http://me:***@llm.local:8000/v1"


def test_resume_asks_again_for_a_base_url_whose_password_was_not_stored(
    served: list[str | None],
) -> None:
    path = team(SERVED)
    url = "http://me:hunter2@llm.local/v1"
    assert invoke("run", str(path), "-i", "x", "--thread", "t1", "--base-url", url).exit_code == 3
    refused = invoke("resume", "t1", "--approve")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        "error: the run's base URL http://me:***@llm.local/v1 had a password, which is not stored",
        "hint: give it again with --base-url",
    ]
    assert invoke("resume", "t1", "--approve", "--base-url", url).exit_code == 0
    assert served == [url, url]


def test_show_redacts_a_base_url_stored_by_an_older_version() -> None:
    old = RunInfo(base_url="http://me:hunter2@llm.local/v1")
    assert old.metadata()["orchestra_base_url"] == "http://me:***@llm.local/v1"
    info = ThreadInfo("t", "done", "now", RunInfo(base_url="http://me:hunter2@llm.local/v1"))
    assert info.to_json()["base_url"] == "http://me:***@llm.local/v1"


def test_a_postgres_password_is_not_in_the_printed_resume_commands(postgres_url: str) -> None:
    user_host = postgres_url.split("://", 1)[1]
    user, _, rest = user_host.partition("@")
    dsn = f"postgresql://{user}:s3cr3t-pw@{rest}"  # trust auth ignores the password
    path = team()
    result = invoke("run", str(path), "-i", "x", "--store", dsn)
    assert result.exit_code == 3, result.output
    assert "s3cr3t-pw" not in result.output
    lines = [
        shlex.split(line.strip())
        for line in result.stdout.splitlines()
        if line.strip().startswith("orchestra resume")
    ]
    assert lines
    assert all(line[-2:] == ["--store", f"postgresql://{user}:***@{rest}"] for line in lines)


# -- strict deserialization -------------------------------------------------------------

CONSTRUCTED: list[int] = []


@dataclass
class Planted:
    """A class a store's writer could name; building it has a side effect."""

    value: int

    def __post_init__(self) -> None:
        CONSTRUCTED.append(self.value)


def _plant(path: Path, value: Any) -> RunnableConfig:
    """Write a checkpoint holding `value` with LangGraph's permissive serializer."""
    config: RunnableConfig = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"x": value}
    checkpoint["channel_versions"] = {"x": 1}
    with closing(sqlite3.connect(path)) as conn:
        writer = SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=True))
        writer.setup()
        return writer.put(config, checkpoint, {}, {"x": 1})


def test_a_store_cannot_make_a_reader_build_another_class(tmp_path: Path) -> None:
    config = _plant(tmp_path / "s.db", Planted(7))
    CONSTRUCTED.clear()
    with open_checkpointer(f"sqlite:///{tmp_path / 's.db'}") as saver:
        stored = saver.get_tuple(config)
    assert stored is not None and "x" in stored.checkpoint["channel_values"]  # it was planted
    loaded = stored.checkpoint["channel_values"]["x"]
    assert not isinstance(loaded, Planted)
    assert loaded == {"value": 7}  # plain data
    assert CONSTRUCTED == []


def test_a_store_still_loads_messages(tmp_path: Path) -> None:
    config = _plant(tmp_path / "s.db", [AIMessage("hi", name="writer")])
    with open_checkpointer(f"sqlite:///{tmp_path / 's.db'}") as saver:
        stored = saver.get_tuple(config)
    assert stored is not None
    assert stored.checkpoint["channel_values"]["x"] == [AIMessage("hi", name="writer")]
