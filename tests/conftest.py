"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver

from langgraph_orchestra.checkpoint import aopen_checkpointer, open_checkpointer

POSTGRES_ENV = "ORCHESTRA_TEST_POSTGRES_URL"
# An IP literal, never "localhost": pytest-socket only allows these hosts, and no DNS is needed.
POSTGRES_HOSTPORT = "127.0.0.1:5432"
STORES = ["memory", "sqlite", "postgres"]


def _postgres_candidates() -> list[str]:
    """DSNs to try: the env override alone, else trust-auth roles on the local server."""
    if url := os.environ.get(POSTGRES_ENV):
        return [url]
    roles = dict.fromkeys(["postgres", getpass.getuser()])
    return [f"postgresql://{role}@{POSTGRES_HOSTPORT}/test" for role in roles]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A DSN for a reachable PostgreSQL test database; skips the test when there is none."""
    try:
        import psycopg
    except ImportError as exc:
        pytest.skip(
            f"psycopg is not installed (pip install 'langgraph-orchestra[postgres]'): {exc}"
        )
    reasons: list[str] = []
    for url in _postgres_candidates():
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            reasons.append(" ".join(str(exc).split()))
            continue
        return url
    parts = urlsplit(_postgres_candidates()[0])
    where = f"{parts.hostname}:{parts.port or 5432}"
    pytest.skip(f"PostgreSQL not reachable at {where} (set {POSTGRES_ENV}): {' | '.join(reasons)}")


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    """A DSN for a new, empty PostgreSQL database, dropped after the test.

    For tests that read every thread of the store: on the shared test database their time
    would grow with every earlier run's threads. Falls back to the shared database when the
    role may not create databases.
    """
    import psycopg

    name = f"orchestra_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.errors.InsufficientPrivilege:
        yield postgres_url
        return
    try:
        yield urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    store: str = request.param
    if store == "sqlite":
        return f"sqlite:///{tmp_path / 'checkpoints.db'}"
    if store == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return "memory"


@pytest.fixture(params=STORES, ids=STORES)
def checkpointer(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[BaseCheckpointSaver[Any]]:
    """An open synchronous saver for each store (Postgres skips when unreachable)."""
    with open_checkpointer(_store_url(request, tmp_path)) as saver:
        yield saver


@pytest.fixture(params=STORES, ids=STORES)
async def async_checkpointer(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """An open asynchronous saver for each store (Postgres skips when unreachable)."""
    async with aopen_checkpointer(_store_url(request, tmp_path)) as saver:
        yield saver


@pytest.fixture
def thread() -> RunnableConfig:
    """A config naming a fresh thread, so tests never share checkpoints."""
    return {"configurable": {"thread_id": str(uuid.uuid4())}}
