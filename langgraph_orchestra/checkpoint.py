"""Open a LangGraph checkpointer from one URL string.

Three stores are supported, chosen by the URL:

* `"memory"`: an `InMemorySaver`; state is lost when the process exits.
* `"sqlite:///relative/path.db"`, `"sqlite:////absolute/path.db"`, `"sqlite:///:memory:"`
  or a bare file path ending in `.db`, `.sqlite` or `.sqlite3` such as `.orchestra/state.db`:
  a SQLite file (parent directories are created).
* `"postgresql://user:password@host:5432/db"` (or `postgres://`): PostgreSQL, which needs the
  `postgres` extra. Its tables are created or migrated on open.

Every problem is reported as a `CheckpointerError` whose message says what was wrong and
what is allowed; passwords are never part of a message.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from langgraph_orchestra._install import install_command
from langgraph_orchestra.errors import CheckpointerError

if TYPE_CHECKING:
    import psycopg

__all__ = ["aopen_checkpointer", "describe_store", "open_checkpointer"]

_ALLOWED = "use 'memory', 'sqlite:///path/to.db', a file path, or 'postgresql://user@host:5432/db'"
_SQLITE_PREFIX = "sqlite:///"
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_POSTGRES_SCHEMES = ("postgresql", "postgres")
# Serialises concurrent `setup()` runs: several processes opening a fresh database at once
# otherwise fail on CREATE TABLE / the migrations table. Any fixed 64-bit key works. The lock
# is polled with pg_try_advisory_lock: a session blocked in pg_advisory_lock would deadlock
# with the CREATE INDEX CONCURRENTLY of the migrations.
_PG_SETUP_LOCK = 7_261_004_318_522_117
_PG_TRY_LOCK = "SELECT pg_try_advisory_lock(%s) AS locked"
_PG_UNLOCK = "SELECT pg_advisory_unlock(%s)"
_PG_LOCK_POLL = 0.05
_PG_LOCK_WAIT = 60.0  # then run setup() unserialised rather than hang


# The classes a store may rebuild besides LangGraph's built-in safe types (LangChain
# messages, `Send`, `Interrupt`, `Command`, datetimes, ...): none, as the library's own
# records are plain dicts. A compiled graph adds its state schema's types on top.
_LIBRARY_TYPES: tuple[tuple[str, str], ...] = ()


def _strict_serde() -> JsonPlusSerializer:
    """A serializer that rebuilds only allow-listed classes (others load as plain data).

    A store someone else can write to could otherwise make a reader import and call any
    class named in a checkpoint.
    """
    return JsonPlusSerializer(allowed_msgpack_modules=_LIBRARY_TYPES)


@dataclass(frozen=True)
class _Target:
    """A parsed checkpointer URL.

    Attributes:
        kind: Which store the URL names.
        location: `""` for memory, the SQLite path (absolute, or `":memory:"`), or the
            Postgres URL unchanged.
    """

    kind: Literal["memory", "sqlite", "postgres"]
    location: str


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")
"""A URL inside an error message (a DSN a driver repeats)."""
_PASSWORD_FIELD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'\"]+)", re.IGNORECASE)
"""A `password=...` field of a key/value connection string or a URL's query."""


def _hide_password_fields(text: str) -> str:
    return _PASSWORD_FIELD.sub(lambda match: f"{match.group(1)}***", text)


def _redact(url: str) -> str:
    """Return `url` with its passwords (user-info, `password=` in the query) as `***`."""
    url = _hide_password_fields(url)
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:  # e.g. an unbalanced "[" in the host
        return url
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hosts}").geturl()


def _scrub(text: str) -> str:
    """Remove the passwords of the DSNs in `text` and fold it onto one line.

    The password is removed as a field (a URL's user-info, a `password=` key), never by
    searching the text for its value: a short password ("1") would otherwise mangle the
    message ("*27.0.0.*") and show where it occurs.
    """
    text = _URL_IN_TEXT.sub(lambda match: _redact(match.group(0)), text)
    return " ".join(_hide_password_fields(text).split())


def _sqlite_path(raw: str) -> str:
    """Return `raw` as an absolute path string, or `":memory:"` unchanged."""
    if raw == ":memory:":
        return raw
    return os.path.abspath(Path(raw).expanduser())


def _parse(url: str) -> _Target:
    """Classify a checkpointer URL.

    Raises:
        CheckpointerError: The URL is empty, malformed or names an unsupported store.
    """
    if not url.strip():
        raise CheckpointerError(f"Checkpointer URL is empty: {_ALLOWED}")
    if url == "memory":
        return _Target("memory", "")
    if url.startswith(_SQLITE_PREFIX):
        raw = url[len(_SQLITE_PREFIX) :]
        if not raw:
            raise CheckpointerError(
                f"SQLite URL {url!r} has no path: use 'sqlite:///relative/path.db', "
                "'sqlite:////absolute/path.db' or 'sqlite:///:memory:'"
            )
        if "?" in raw:
            raise CheckpointerError(
                f"SQLite URL {url!r} has query parameters, which are not supported: "
                "use 'sqlite:///path/to.db'"
            )
        return _Target("sqlite", _sqlite_path(raw))
    if url.startswith("sqlite:"):
        raise CheckpointerError(
            f"SQLite URL {_redact(url)!r} needs three slashes before the path: use "
            "'sqlite:///relative/path.db', 'sqlite:////absolute/path.db' or 'sqlite:///:memory:'"
        )
    if "://" not in url:
        # Only paths with a SQLite suffix: a typo ("memroy") or a DSN missing its scheme
        # ("db-host:5432/app") must not silently become a new database file.
        if url.lower().endswith(_SQLITE_SUFFIXES):
            return _Target("sqlite", _sqlite_path(url))
        hint = ""
        if "/" in url or os.sep in url:
            hint = f" (a file path must end in {', '.join(_SQLITE_SUFFIXES)})"
        raise CheckpointerError(f"Unsupported checkpointer URL {url!r}: {_ALLOWED}{hint}")
    scheme = url.split("://", 1)[0].lower()
    if scheme in _POSTGRES_SCHEMES:
        return _Target("postgres", url)
    raise CheckpointerError(f"Unsupported checkpointer URL {_redact(url)!r}: {_ALLOWED}")


def _postgres_location(url: str) -> str:
    """Return `host:port/db` for a Postgres URL, without user name or password."""
    # Drop everything up to the last "@": the user name and password, however malformed.
    rest = url.split("://", 1)[1].rpartition("@")[2]
    hosts, _, path = rest.partition("/")
    hosts = hosts.split("?", 1)[0] or "localhost"
    if "," not in hosts and not hosts.rsplit("]", 1)[-1].count(":"):
        hosts = f"{hosts}:5432"
    database = unquote(path.split("?", 1)[0])
    return f"{hosts}/{database}" if database else hosts


def describe_store(url: str = "memory") -> str:
    """Describe where a checkpointer URL stores state, without any password.

    Args:
        url: A checkpointer URL as accepted by `open_checkpointer`.

    Returns:
        `"in-memory"`, `"SQLite file /abs/path.db"`, `"SQLite in-memory database"` or
        `"PostgreSQL at host:5432/db"`.

    Raises:
        CheckpointerError: The URL is malformed or unsupported.

    Example:
        >>> describe_store("postgresql://me:secret@127.0.0.1:5432/app")
        'PostgreSQL at 127.0.0.1:5432/app'
    """
    target = _parse(url)
    if target.kind == "memory":
        return "in-memory"
    if target.kind == "sqlite":
        if target.location == ":memory:":
            return "SQLite in-memory database"
        return f"SQLite file {target.location}"
    return f"PostgreSQL at {_postgres_location(target.location)}"


def _no_store(path: str) -> CheckpointerError:
    return CheckpointerError(
        f"No store at {path}: the file does not exist",
        hint="check --store (or ORCHESTRA_STORE); a run creates its store: "
        "orchestra run TEAM.yaml -i TEXT",
    )


def _check_exists(target: _Target, create: bool) -> None:
    """Refuse a SQLite file that does not exist when the store must not be created."""
    if create or target.location == ":memory:" or Path(target.location).is_file():
        return
    raise _no_store(target.location)


def _connect_sqlite(path: str) -> sqlite3.Connection:
    """Open a SQLite connection usable from LangGraph's background threads."""
    try:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # SqliteSaver serialises every cursor behind its own lock, and LangGraph writes
        # checkpoints from worker threads, so the connection must not be thread-bound.
        return sqlite3.connect(path, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise CheckpointerError(f"Cannot open SQLite file {path}: {exc}") from exc


def _missing_postgres(exc: ImportError) -> CheckpointerError:
    return CheckpointerError(
        f"PostgreSQL checkpointing needs the postgres extra ({exc}): "
        f"install it with `{install_command('postgres')}`"
    )


def _postgres_failure(url: str, exc: Exception, *, connected: bool) -> CheckpointerError:
    where = _postgres_location(url)
    reason = _scrub(str(exc)) or type(exc).__name__
    if connected:
        return CheckpointerError(
            f"Cannot create the checkpoint tables in PostgreSQL at {where}: {reason}"
        )
    return CheckpointerError(f"Cannot connect to PostgreSQL at {where}: {reason}")


def _locked_setup(conn: psycopg.Connection[Any], setup: Callable[[], None]) -> None:
    """Run `setup` while holding the setup advisory lock (see `_PG_SETUP_LOCK`)."""
    locked = False
    deadline = time.monotonic() + _PG_LOCK_WAIT
    while True:
        row = conn.execute(_PG_TRY_LOCK, (_PG_SETUP_LOCK,)).fetchone()
        locked = bool(row and row["locked"])
        if locked or time.monotonic() > deadline:
            break
        time.sleep(_PG_LOCK_POLL)
    try:
        setup()
    finally:
        if locked:
            conn.execute(_PG_UNLOCK, (_PG_SETUP_LOCK,))


async def _alocked_setup(
    conn: psycopg.AsyncConnection[Any], setup: Callable[[], Awaitable[None]]
) -> None:
    """Async twin of `_locked_setup`."""
    locked = False
    deadline = time.monotonic() + _PG_LOCK_WAIT
    while True:
        row = await (await conn.execute(_PG_TRY_LOCK, (_PG_SETUP_LOCK,))).fetchone()
        locked = bool(row and row["locked"])
        if locked or time.monotonic() > deadline:
            break
        await asyncio.sleep(_PG_LOCK_POLL)
    try:
        await setup()
    finally:
        if locked:
            await conn.execute(_PG_UNLOCK, (_PG_SETUP_LOCK,))


@contextmanager
def open_checkpointer(
    url: str = "memory", *, create: bool = True
) -> Iterator[BaseCheckpointSaver[str]]:
    """Open a synchronous checkpointer for `url` and close it on exit.

    Args:
        url: `"memory"`, `"sqlite:///path.db"` (four slashes for an absolute path,
            `"sqlite:///:memory:"` for a private in-memory database), a bare file path
            ending in `.db`, `.sqlite` or `.sqlite3` such as `".orchestra/state.db"`, or
            `"postgresql://user:pw@host:5432/db"`.
        create: Create a SQLite file (and its folders) that does not exist. Readers
            pass `False`: a mistyped path is then an error, not a new empty store.

    Yields:
        An `InMemorySaver`, a `SqliteSaver` or a `PostgresSaver` whose tables exist.

    Raises:
        CheckpointerError: The URL is unsupported, the SQLite file cannot be opened, the
            postgres extra is not installed, PostgreSQL is unreachable, or (with
            `create=False`) the SQLite file does not exist.

    Example:
        >>> with open_checkpointer("sqlite:///.orchestra/state.db") as saver:
        ...     graph = builder.compile(checkpointer=saver)  # doctest: +SKIP
    """
    target = _parse(url)
    if target.kind == "memory":
        yield InMemorySaver(serde=_strict_serde())
        return
    if target.kind == "sqlite":
        _check_exists(target, create)
        with closing(_connect_sqlite(target.location)) as conn:
            saver = SqliteSaver(conn, serde=_strict_serde())
            try:
                saver.setup()
            except sqlite3.Error as exc:
                raise CheckpointerError(
                    f"Cannot use SQLite file {target.location} as a checkpoint store: {exc}"
                ) from exc
            yield saver
        return

    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
    except ImportError as exc:
        raise _missing_postgres(exc) from exc
    with ExitStack() as stack:
        connected = False
        try:
            pg_saver = stack.enter_context(PostgresSaver.from_conn_string(target.location))
            pg_saver.serde = _strict_serde()
            connected = True
            pg_conn = pg_saver.conn
            if isinstance(pg_conn, psycopg.Connection):
                _locked_setup(pg_conn, pg_saver.setup)
            else:  # pragma: no cover - from_conn_string always yields a single connection
                pg_saver.setup()
        except psycopg.Error as exc:
            raise _postgres_failure(target.location, exc, connected=connected) from exc
        yield pg_saver


@asynccontextmanager
async def aopen_checkpointer(
    url: str = "memory", *, create: bool = True
) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """Open an asynchronous checkpointer for `url` and close it on exit.

    Accepts the same URLs as `open_checkpointer`. The saver is bound to the running event
    loop; use only its async methods (`ainvoke`, `aget_state`, ...).

    Args:
        url: `"memory"`, a `sqlite:///` URL or bare file path, or a `postgresql://` URL.
        create: Create a SQLite file (and its folders) that does not exist.

    Yields:
        An `InMemorySaver`, an `AsyncSqliteSaver` or an `AsyncPostgresSaver` whose tables
        exist.

    Raises:
        CheckpointerError: The URL is unsupported, the SQLite file cannot be opened, the
            postgres extra is not installed, or PostgreSQL is unreachable.

    Example:
        >>> async with aopen_checkpointer("memory") as saver:
        ...     graph = builder.compile(checkpointer=saver)  # doctest: +SKIP
        ...     await graph.ainvoke(inputs, config)  # doctest: +SKIP
    """
    target = _parse(url)
    if target.kind == "memory":
        yield InMemorySaver(serde=_strict_serde())
        return
    if target.kind == "sqlite":
        _check_exists(target, create)
        async with AsyncExitStack() as stack:
            try:
                if target.location != ":memory:":
                    Path(target.location).parent.mkdir(parents=True, exist_ok=True)
                saver = await stack.enter_async_context(
                    AsyncSqliteSaver.from_conn_string(target.location)
                )
                saver.serde = _strict_serde()
                await saver.setup()
            except (OSError, sqlite3.Error) as exc:
                raise CheckpointerError(
                    f"Cannot use SQLite file {target.location} as a checkpoint store: {exc}"
                ) from exc
            yield saver
        return

    try:
        import psycopg

        # Import the package itself (not only `.aio`) so a missing extra is always detected.
        from langgraph.checkpoint.postgres import aio as pg_aio
    except ImportError as exc:
        raise _missing_postgres(exc) from exc
    async with AsyncExitStack() as stack:
        connected = False
        try:
            pg_saver = await stack.enter_async_context(
                pg_aio.AsyncPostgresSaver.from_conn_string(target.location)
            )
            pg_saver.serde = _strict_serde()
            connected = True
            pg_conn = pg_saver.conn
            if isinstance(pg_conn, psycopg.AsyncConnection):
                await _alocked_setup(pg_conn, pg_saver.setup)
            else:  # pragma: no cover - from_conn_string always yields a single connection
                await pg_saver.setup()
        except psycopg.Error as exc:
            raise _postgres_failure(target.location, exc, connected=connected) from exc
        yield pg_saver
