"""Tests for langgraph_orchestra.checkpoint: URL forms, persistence, errors, redaction."""

from __future__ import annotations

import re
import sqlite3
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, TypedDict

import psycopg
import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from langgraph_orchestra._install import install_command
from langgraph_orchestra.checkpoint import (
    _scrub,
    aopen_checkpointer,
    describe_store,
    open_checkpointer,
)
from langgraph_orchestra.errors import CheckpointerError

ALLOWED = "use 'memory', 'sqlite:///path/to.db', a file path, or 'postgresql://user@host:5432/db'"
POSTGRES_HINT = install_command("postgres")  # pinned in test_models.py
UNREACHABLE = "postgresql://postgres:s3cret-pw@127.0.0.1:1/test"


class Counter(TypedDict):
    text: str
    steps: int


def _shout(state: Counter) -> dict[str, Any]:
    return {"text": state["text"].upper() + "!", "steps": state["steps"] + 1}


def _graph(saver: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    builder = StateGraph(Counter)
    builder.add_node("shout", _shout)
    builder.add_edge(START, "shout")
    builder.add_edge("shout", END)
    return builder.compile(checkpointer=saver)


EXPECTED = {"text": "HELLO!", "steps": 1}
INPUT = {"text": "hello", "steps": 0}


def _run(saver: BaseCheckpointSaver[Any], config: RunnableConfig) -> None:
    result = _graph(saver).invoke(INPUT, config)
    assert result == EXPECTED


def _stored(saver: BaseCheckpointSaver[Any], config: RunnableConfig) -> dict[str, Any]:
    values: dict[str, Any] = _graph(saver).get_state(config).values
    return values


async def _arun(saver: BaseCheckpointSaver[Any], config: RunnableConfig) -> None:
    result = await _graph(saver).ainvoke(INPUT, config)
    assert result == EXPECTED


async def _astored(saver: BaseCheckpointSaver[Any], config: RunnableConfig) -> dict[str, Any]:
    values: dict[str, Any] = (await _graph(saver).aget_state(config)).values
    return values


# --- the shared fixtures ---------------------------------------------------------------


SYNC_TYPES = {"memory": InMemorySaver, "sqlite": SqliteSaver, "postgres": PostgresSaver}
ASYNC_TYPES = {"memory": InMemorySaver, "sqlite": AsyncSqliteSaver, "postgres": AsyncPostgresSaver}


def test_checkpointer_fixture_round_trips(
    checkpointer: BaseCheckpointSaver[Any], thread: RunnableConfig, request: pytest.FixtureRequest
) -> None:
    assert type(checkpointer) is SYNC_TYPES[request.node.callspec.id]
    assert _stored(checkpointer, thread) == {}
    _run(checkpointer, thread)
    assert _stored(checkpointer, thread) == EXPECTED
    assert len(list(checkpointer.list(thread))) >= 2  # input checkpoint + after "shout"


async def test_async_checkpointer_fixture_round_trips(
    async_checkpointer: BaseCheckpointSaver[Any],
    thread: RunnableConfig,
    request: pytest.FixtureRequest,
) -> None:
    assert type(async_checkpointer) is ASYNC_TYPES[request.node.callspec.id]
    assert await _astored(async_checkpointer, thread) == {}
    await _arun(async_checkpointer, thread)
    assert await _astored(async_checkpointer, thread) == EXPECTED
    assert len([c async for c in async_checkpointer.alist(thread)]) >= 2


def test_thread_fixture_is_unique(thread: RunnableConfig) -> None:
    other = {"configurable": {"thread_id": "x"}}
    assert thread != other
    thread_id = thread["configurable"]["thread_id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", thread_id)


# --- every URL form persists ---------------------------------------------------------


def test_memory_is_not_persisted(thread: RunnableConfig) -> None:
    with open_checkpointer("memory") as saver:
        assert isinstance(saver, InMemorySaver)
        _run(saver, thread)
        assert _stored(saver, thread) == EXPECTED
    with open_checkpointer() as fresh:
        assert _stored(fresh, thread) == {}


SQLITE_FORMS = {
    "sqlite-relative": ("sqlite:///nested/dir/state.db", "nested/dir/state.db"),
    "sqlite-absolute": ("sqlite:///{tmp}/abs/state.db", "abs/state.db"),
    "bare-dotted-dir": (".orchestra/state.db", ".orchestra/state.db"),
    "bare-filename": ("state.sqlite3", "state.sqlite3"),
    "bare-absolute": ("{tmp}/deep/er/state.sqlite", "deep/er/state.sqlite"),
}


@pytest.mark.parametrize(("url", "relative"), SQLITE_FORMS.values(), ids=SQLITE_FORMS.keys())
def test_sqlite_forms_persist_across_reopen(
    url: str,
    relative: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    thread: RunnableConfig,
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    url = url.format(tmp=work)
    expected_file = work / relative
    assert not expected_file.exists()

    with open_checkpointer(url) as saver:
        assert isinstance(saver, SqliteSaver)
        _run(saver, thread)
    assert expected_file.is_file()
    assert describe_store(url) == f"SQLite file {expected_file}"

    with open_checkpointer(url) as reopened:
        assert reopened is not saver
        assert _stored(reopened, thread) == EXPECTED
        assert _stored(reopened, {"configurable": {"thread_id": "someone-else"}}) == {}


def test_sqlite_absolute_url_uses_four_slashes(tmp_path: Path, thread: RunnableConfig) -> None:
    url = f"sqlite:///{tmp_path}/db/state.db"
    assert url.startswith("sqlite:////")
    with open_checkpointer(url) as saver:
        _run(saver, thread)
    assert (tmp_path / "db" / "state.db").is_file()


def test_sqlite_memory_url_is_private_and_not_persisted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, thread: RunnableConfig
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_checkpointer("sqlite:///:memory:") as saver:
        assert isinstance(saver, SqliteSaver)
        _run(saver, thread)
        assert _stored(saver, thread) == EXPECTED
    with open_checkpointer("sqlite:///:memory:") as fresh:
        assert _stored(fresh, thread) == {}
    assert list(tmp_path.iterdir()) == []  # no file called ":memory:"
    assert describe_store("sqlite:///:memory:") == "SQLite in-memory database"


def test_sqlite_connection_is_closed_on_exit(tmp_path: Path) -> None:
    with open_checkpointer(str(tmp_path / "x.db")) as saver:
        assert isinstance(saver, SqliteSaver)
        assert saver.conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        saver.conn.execute("SELECT 1")


def test_sqlite_errors_in_the_body_are_not_wrapped(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="boom"), open_checkpointer(str(tmp_path / "x.db")):
        raise KeyError("boom")


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"definitely not sqlite " * 100)
    with pytest.raises(CheckpointerError) as info, open_checkpointer(str(bogus)):
        pass
    assert str(info.value) == (
        f"Cannot use SQLite file {bogus} as a checkpoint store: file is not a database"
    )
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_sqlite_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("x")
    target = tmp_path / "blocker" / "state.db"
    with pytest.raises(CheckpointerError, match=r"^Cannot open SQLite file .*blocker/state\.db: "):
        with open_checkpointer(f"sqlite:///{target}"):
            pass


async def test_async_sqlite_persists_across_reopen(tmp_path: Path, thread: RunnableConfig) -> None:
    url = f"sqlite:///{tmp_path}/async/dir/state.db"
    async with aopen_checkpointer(url) as saver:
        assert isinstance(saver, AsyncSqliteSaver)
        await _arun(saver, thread)
    assert (tmp_path / "async" / "dir" / "state.db").is_file()
    async with aopen_checkpointer(url) as reopened:
        assert await _astored(reopened, thread) == EXPECTED
    # ...and the sync saver reads what the async one wrote.
    with open_checkpointer(url) as sync_saver:
        assert _stored(sync_saver, thread) == EXPECTED


async def test_async_sqlite_bare_path_and_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, thread: RunnableConfig
) -> None:
    monkeypatch.chdir(tmp_path)
    async with aopen_checkpointer(".orchestra/state.db") as saver:
        await _arun(saver, thread)
    assert (tmp_path / ".orchestra" / "state.db").is_file()
    async with aopen_checkpointer("sqlite:///:memory:") as mem:
        assert await _astored(mem, thread) == {}
        await _arun(mem, thread)
        assert await _astored(mem, thread) == EXPECTED
    async with aopen_checkpointer("memory") as inmem:
        assert isinstance(inmem, InMemorySaver)
        assert await _astored(inmem, thread) == {}


async def test_async_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"\x00garbage" * 200)
    with pytest.raises(CheckpointerError, match="as a checkpoint store: file is not a database"):
        async with aopen_checkpointer(str(bogus)):
            pass


# --- PostgreSQL ------------------------------------------------------------------------


def test_postgres_persists_across_reopen(postgres_url: str, thread: RunnableConfig) -> None:
    with open_checkpointer(postgres_url) as saver:
        assert isinstance(saver, PostgresSaver)
        _run(saver, thread)
    assert isinstance(saver.conn, psycopg.Connection)
    assert saver.conn.closed
    with open_checkpointer(postgres_url) as reopened:  # setup() runs again: idempotent
        assert _stored(reopened, thread) == EXPECTED


def test_postgres_short_scheme(postgres_url: str, thread: RunnableConfig) -> None:
    short = "postgres://" + postgres_url.split("://", 1)[1]
    with open_checkpointer(short) as saver:
        assert isinstance(saver, PostgresSaver)
        _run(saver, thread)
    with open_checkpointer(postgres_url) as reopened:
        assert _stored(reopened, thread) == EXPECTED


def test_postgres_errors_in_the_body_are_not_wrapped(postgres_url: str) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable):
        with open_checkpointer(postgres_url) as saver:
            assert isinstance(saver, PostgresSaver)
            assert isinstance(saver.conn, psycopg.Connection)
            saver.conn.execute("SELECT * FROM no_such_table_orchestra")


async def test_async_postgres_persists_across_reopen(
    postgres_url: str, thread: RunnableConfig
) -> None:
    async with aopen_checkpointer(postgres_url) as saver:
        assert isinstance(saver, AsyncPostgresSaver)
        await _arun(saver, thread)
    assert isinstance(saver.conn, psycopg.AsyncConnection)
    assert saver.conn.closed
    async with aopen_checkpointer(postgres_url) as reopened:
        assert await _astored(reopened, thread) == EXPECTED
    with open_checkpointer(postgres_url) as sync_saver:
        assert _stored(sync_saver, thread) == EXPECTED


def test_concurrent_setup_on_a_fresh_schema(postgres_url: str, thread: RunnableConfig) -> None:
    """Several processes opening an empty database at once must not race on the migrations."""
    schema = f"orchestra_race_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            errors: list[BaseException] = []
            start = threading.Barrier(6)

            def open_one() -> None:
                start.wait()
                try:
                    with open_checkpointer(url):
                        pass
                except BaseException as exc:
                    errors.append(exc)

            workers = [threading.Thread(target=open_one) for _ in range(6)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=60)
            assert errors == []
            with open_checkpointer(url) as saver:
                _run(saver, thread)
            tables = admin.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            ).fetchone()
            assert tables is not None and tables[0] >= 4  # checkpoints, blobs, writes, migrations
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


UNREACHABLE_MESSAGE = re.compile(
    r"^Cannot connect to PostgreSQL at 127\.0\.0\.1:1/test: .*127\.0\.0\.1.*port 1 failed: "
    r"Connection refused"
)


def test_unreachable_postgres() -> None:
    with pytest.raises(CheckpointerError) as info, open_checkpointer(UNREACHABLE):
        pass
    message = str(info.value)
    assert UNREACHABLE_MESSAGE.match(message), message
    assert "s3cret" not in message
    assert "\n" not in message
    assert isinstance(info.value.__cause__, psycopg.OperationalError)
    assert isinstance(info.value, ValueError)


async def test_async_unreachable_postgres() -> None:
    with pytest.raises(CheckpointerError) as info:
        async with aopen_checkpointer(UNREACHABLE):
            pass
    message = str(info.value)
    assert UNREACHABLE_MESSAGE.match(message), message
    assert "s3cret" not in message
    assert isinstance(info.value.__cause__, psycopg.OperationalError)


def test_missing_postgres_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langgraph.checkpoint.postgres", None)
    with pytest.raises(CheckpointerError) as info, open_checkpointer(UNREACHABLE):
        pass
    message = str(info.value)
    assert message.startswith("PostgreSQL checkpointing needs the postgres extra (")
    assert message.endswith(f"install it with `{POSTGRES_HINT}`")
    assert "s3cret" not in message
    assert isinstance(info.value.__cause__, ImportError)


async def test_async_missing_postgres_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langgraph.checkpoint.postgres", None)
    with pytest.raises(CheckpointerError, match=re.escape(POSTGRES_HINT)) as info:
        async with aopen_checkpointer(UNREACHABLE):
            pass
    assert isinstance(info.value.__cause__, ImportError)


def test_missing_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(CheckpointerError, match=re.escape(POSTGRES_HINT)):
        with open_checkpointer(UNREACHABLE):
            pass


# --- URL errors ----------------------------------------------------------------------


BAD_URLS = {
    "redis": ("redis://x", f"Unsupported checkpointer URL 'redis://x': {ALLOWED}"),
    "typo": ("memroy", f"Unsupported checkpointer URL 'memroy': {ALLOWED}"),
    "mysql-password": (
        "mysql://root:hunter2@127.0.0.1/db",
        f"Unsupported checkpointer URL 'mysql://root:***@127.0.0.1/db': {ALLOWED}",
    ),
    "dsn-without-scheme": (
        "db-host:5432/app",
        f"Unsupported checkpointer URL 'db-host:5432/app': {ALLOWED} "
        "(a file path must end in .db, .sqlite, .sqlite3)",
    ),
    "empty": ("", f"Checkpointer URL is empty: {ALLOWED}"),
    "blank": ("  ", f"Checkpointer URL is empty: {ALLOWED}"),
    "sqlite-two-slashes": (
        "sqlite://state.db",
        "SQLite URL 'sqlite://state.db' needs three slashes before the path: use "
        "'sqlite:///relative/path.db', 'sqlite:////absolute/path.db' or 'sqlite:///:memory:'",
    ),
    "sqlite-no-path": (
        "sqlite:///",
        "SQLite URL 'sqlite:///' has no path: use 'sqlite:///relative/path.db', "
        "'sqlite:////absolute/path.db' or 'sqlite:///:memory:'",
    ),
    "sqlite-query": (
        "sqlite:///x.db?mode=ro",
        "SQLite URL 'sqlite:///x.db?mode=ro' has query parameters, which are not supported: "
        "use 'sqlite:///path/to.db'",
    ),
}


@pytest.mark.parametrize(("url", "message"), BAD_URLS.values(), ids=BAD_URLS.keys())
def test_bad_urls(url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointerError) as info, open_checkpointer(url):
        pass
    assert str(info.value) == message
    assert "hunter2" not in str(info.value)
    with pytest.raises(CheckpointerError) as describe_info:
        describe_store(url)
    assert str(describe_info.value) == message
    assert list(tmp_path.iterdir()) == []  # nothing was created


@pytest.mark.parametrize(("url", "message"), BAD_URLS.values(), ids=BAD_URLS.keys())
async def test_async_bad_urls(url: str, message: str) -> None:
    with pytest.raises(CheckpointerError) as info:
        async with aopen_checkpointer(url):
            pass
    assert str(info.value) == message


# --- describe_store ------------------------------------------------------------------


DESCRIPTIONS = {
    "memory": ("memory", "in-memory"),
    "postgres-password": (
        "postgresql://alice:s3cret@db.example.com:6543/app",
        "PostgreSQL at db.example.com:6543/app",
    ),
    "postgres-default-port": (
        "postgres://bob:pw%40x@127.0.0.1/orchestra",
        "PostgreSQL at 127.0.0.1:5432/orchestra",
    ),
    "postgres-query-password": (
        "postgresql://127.0.0.1:5432/app?password=s3cret&sslmode=disable",
        "PostgreSQL at 127.0.0.1:5432/app",
    ),
    "postgres-ipv6": ("postgresql://carol:s3cret@[::1]/app", "PostgreSQL at [::1]:5432/app"),
    "postgres-multi-host": (
        "postgresql://dave:s3cret@h1:5432,h2:5433/app",
        "PostgreSQL at h1:5432,h2:5433/app",
    ),
    "postgres-raw-at-in-password": (
        "postgresql://eve:s3c@ret@127.0.0.1:5432/app",
        "PostgreSQL at 127.0.0.1:5432/app",
    ),
    "postgres-no-host": ("postgresql:///app", "PostgreSQL at localhost:5432/app"),
}


@pytest.mark.parametrize(("url", "expected"), DESCRIPTIONS.values(), ids=DESCRIPTIONS.keys())
def test_describe_store_redacts(url: str, expected: str) -> None:
    description = describe_store(url)
    assert description == expected
    for secret in ("s3cret", "s3c", "ret@", "pw%40x", "pw@x", "alice", "bob"):
        assert secret not in description


def test_describe_store_sqlite_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert describe_store("sqlite:///rel/state.db") == f"SQLite file {tmp_path}/rel/state.db"
    assert describe_store("sqlite:////abs/state.db") == "SQLite file /abs/state.db"
    assert describe_store(".orchestra/state.db") == f"SQLite file {tmp_path}/.orchestra/state.db"
    assert describe_store("../up/state.db") == f"SQLite file {tmp_path.parent}/up/state.db"
    assert describe_store("~/state.db") == f"SQLite file {Path.home()}/state.db"
    assert list(tmp_path.iterdir()) == []  # describing never creates anything


# --- passwords in connection errors ----------------------------------------------------

SCRUBBED = {
    "a short password leaves the message whole": (
        'connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?",
        'connection to server at "127.0.0.1", port 1 failed: Connection refused Is the '
        "server running on that host and accepting TCP/IP connections?",
    ),
    "a DSN's user-info": (
        "invalid dsn: postgresql://me:1@127.0.0.1:1/db is not valid",
        "invalid dsn: postgresql://me:***@127.0.0.1:1/db is not valid",
    ),
    "a DSN with an @ in its password": (
        "bad postgresql://me:p@ss@db:5432/app here",
        "bad postgresql://me:***@db:5432/app here",
    ),
    "a query's password": (
        "bad postgresql://127.0.0.1/app?password=1&sslmode=disable here",
        "bad postgresql://127.0.0.1/app?password=***&sslmode=disable here",
    ),
    "a key/value connection string": (
        'missing "=" after "x" in connection info string: host=h password=1 dbname=d',
        'missing "=" after "x" in connection info string: host=h password=*** dbname=d',
    ),
    "a quoted key/value password": (
        "connection info: host=h password = 'se cr\\'et' dbname=d",
        "connection info: host=h password = *** dbname=d",
    ),
}


@pytest.mark.parametrize(("text", "expected"), SCRUBBED.values(), ids=SCRUBBED.keys())
def test_a_password_is_scrubbed_from_an_error_as_a_field(text: str, expected: str) -> None:
    assert _scrub(text) == expected


def test_a_short_password_does_not_mangle_the_connection_error() -> None:
    url = "postgresql://postgres:1@127.0.0.1:1/test"
    with pytest.raises(CheckpointerError) as info, open_checkpointer(url):
        pass
    message = str(info.value)
    assert UNREACHABLE_MESSAGE.match(message), message  # "127.0.0.1" and "port 1" intact
    assert "*" not in message


async def test_a_reader_does_not_create_a_missing_store(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "state.db"
    expected = f"No store at {missing}: the file does not exist"
    with pytest.raises(CheckpointerError, match=f"^{re.escape(expected)}$") as info:
        with open_checkpointer(str(missing), create=False):
            pass
    assert info.value.hint is not None and "a run creates its store" in info.value.hint
    with pytest.raises(CheckpointerError, match=f"^{re.escape(expected)}$"):
        async with aopen_checkpointer(f"sqlite:///{missing}", create=False):
            pass
    assert list(tmp_path.iterdir()) == []
    with open_checkpointer(str(missing)):
        pass  # a writer creates it
    with open_checkpointer(str(missing), create=False) as saver:
        assert isinstance(saver, SqliteSaver)
