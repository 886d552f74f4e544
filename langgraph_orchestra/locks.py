"""One decision per pause: a lock per thread, held in the store while a process drives it.

LangGraph applies any `Command(resume=...)` it is given: two processes resuming the same
waiting thread at once would both apply their decision (both approvals run the next
agent, or a rejection disappears behind an approval). `drive` therefore takes the
thread's lock before it checks a decision against the pending interrupts and holds it
until the run pauses or ends, so a second process is refused (`DecisionError`: another
decision is being applied) and, once the first is done, finds its interrupt no longer
pending (the thread moved on). Nothing of the refused decision is written.

- PostgreSQL: a session-level advisory lock keyed by the thread id (released by the
  server if the process dies).
- SQLite: an exclusive `flock` on a file per thread next to the database file, in
  `<database>.locks/` (released by the OS if the process dies; POSIX only).
- Other stores (`InMemorySaver`, one process): no lock.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from langgraph_orchestra.errors import DecisionError

__all__ = ["athread_lock", "thread_lock"]

_PG_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS locked"
_PG_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"
_KEY_PREFIX = "orchestra-thread:"


def _busy(thread_id: str) -> DecisionError:
    return DecisionError(
        f"another decision is being applied to thread '{thread_id}' (another process is "
        "running it): this one was not applied",
        hint="wait until it pauses or ends, then see where it stands with: orchestra show THREAD",
    )


@contextmanager
def thread_lock(saver: BaseCheckpointSaver[Any], thread_id: str) -> Iterator[None]:
    """Hold `thread_id`'s lock in `saver`'s store for the duration of the block.

    Raises:
        DecisionError: Another process (or connection) holds the thread's lock.
    """
    conn = getattr(saver, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        with _file_lock(conn, thread_id):
            yield
        return
    if _is_postgres(saver) and conn is not None:
        with _advisory_lock(saver, conn, thread_id):
            yield
        return
    yield


def _is_postgres(saver: BaseCheckpointSaver[Any]) -> bool:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
    except ImportError:  # the `postgres` extra is not installed: no such saver
        return False
    return isinstance(saver, PostgresSaver)


@contextmanager
def _advisory_lock(saver: Any, conn: Any, thread_id: str) -> Iterator[None]:
    import psycopg

    key = _KEY_PREFIX + thread_id
    if not isinstance(conn, psycopg.Connection):  # a pool: hold one connection for the run
        with conn.connection() as held:
            with _advisory_lock(saver, held, thread_id):
                yield
        return
    with saver.lock:
        row = conn.execute(_PG_TRY_LOCK, (key,)).fetchone()
    if not (row and (row["locked"] if isinstance(row, dict) else row[0])):
        raise _busy(thread_id)
    try:
        yield
    finally:
        with saver.lock:
            conn.execute(_PG_UNLOCK, (key,))


def _main_file(rows: Any) -> str | None:
    """The file of the `main` database among `PRAGMA database_list` rows (`None`: memory)."""
    files = [row[2] for row in rows if row[1] == "main"]
    return files[0] if files and files[0] else None


@contextmanager
def _file_lock(conn: sqlite3.Connection, thread_id: str) -> Iterator[None]:
    with _flock(_main_file(conn.execute("PRAGMA database_list")), thread_id):
        yield


@contextmanager
def _flock(database: str | None, thread_id: str) -> Iterator[None]:
    import fcntl

    if database is None:
        yield  # an in-memory database lives in one process
        return
    folder = Path(f"{database}.locks")
    folder.mkdir(exist_ok=True)
    name = hashlib.sha256(thread_id.encode()).hexdigest()[:32]
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(thread_id) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@asynccontextmanager
async def athread_lock(saver: BaseCheckpointSaver[Any], thread_id: str) -> AsyncIterator[None]:
    """Async twin of `thread_lock`, for `AsyncSqliteSaver` and `AsyncPostgresSaver`.

    Raises:
        DecisionError: Another process (or connection) holds the thread's lock.
    """
    conn = getattr(saver, "conn", None)
    kind = type(saver).__name__
    if kind == "AsyncSqliteSaver" and conn is not None:
        cursor = await conn.execute("PRAGMA database_list")
        with _flock(_main_file(await cursor.fetchall()), thread_id):
            yield
        return
    if kind == "AsyncPostgresSaver" and conn is not None:
        async with _aadvisory_lock(saver, conn, thread_id):
            yield
        return
    yield


@asynccontextmanager
async def _aadvisory_lock(saver: Any, conn: Any, thread_id: str) -> AsyncIterator[None]:
    import psycopg

    key = _KEY_PREFIX + thread_id
    if not isinstance(conn, psycopg.AsyncConnection):  # a pool
        async with conn.connection() as held:
            async with _aadvisory_lock(saver, held, thread_id):
                yield
        return
    async with saver.lock:
        row = await (await conn.execute(_PG_TRY_LOCK, (key,))).fetchone()
    if not (row and (row["locked"] if isinstance(row, dict) else row[0])):
        raise _busy(thread_id)
    try:
        yield
    finally:
        async with saver.lock:
            await conn.execute(_PG_UNLOCK, (key,))
