"""Fixtures shared by the whole suite.

Databases: a test that takes ``db_url`` (or ``db_engine`` / ``db_sessions``) runs twice:
on a new SQLite file, and on PostgreSQL (the server at ``ARTISTO_TEST_POSTGRES``), in a
database that belongs to this pytest process and whose schema is wiped before each test.
So tests never see each other's rows, even from another pytest run at the same time. A test
of what only PostgreSQL does (several processes on one queue) takes ``pg_url`` instead. The
PostgreSQL cases are marked ``postgres``. When the server does not answer they fail, with
a message saying where it was looked for and how to point the tests elsewhere: every machine
of this project runs PostgreSQL, so its absence is a broken machine, not a reason to test less.
"""

from __future__ import annotations

import asyncio
import functools
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade_async

T = TypeVar("T")

POSTGRES_URL = os.environ.get(
    "ARTISTO_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private loop in another thread, whatever loop the test has."""
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


async def _execute(url: str, *statements: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn, timeout=3)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@functools.cache
def _postgres_unavailable() -> str | None:
    try:
        _in_own_loop(_execute(POSTGRES_URL, "SELECT 1"))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return (
            f"PostgreSQL at {POSTGRES_URL} does not answer ({exc!r}): start the server, or "
            "point ARTISTO_TEST_POSTGRES=postgresql+asyncpg://USER@HOST:PORT/DB at one "
            "(deselect these cases with -m 'not postgres')"
        )
    return None


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str]:
    """A database for this pytest process alone (so parallel runs never meet), dropped at
    the end; each test wipes its schema instead of paying for a new database."""
    reason = _postgres_unavailable()
    if reason is not None:
        pytest.fail(reason, pytrace=False)
    name = f"artisto_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _in_own_loop(_execute(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        _in_own_loop(_execute(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables): a new SQLite file, or a wiped PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'artisto.db'}"
    return _wiped(request.getfixturevalue("_postgres_database"))


@pytest.fixture
def pg_url(_postgres_database: str) -> str:
    """An empty PostgreSQL database (no tables), for what only PostgreSQL does."""
    return _wiped(_postgres_database)


def _wiped(url: str) -> str:
    _in_own_loop(_execute(url, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public"))
    return url


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``db_url``, migrated to the head revision."""
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def db_sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(db_engine)
