"""The async engine and the session factory.

SQLite gets WAL (readers never wait for the writer), foreign keys enforced (SQLite ignores
them unless asked, per connection) and a busy timeout (a second writer waits for the lock
instead of failing at once with "database is locked").
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from artisto.errors import ArtistoError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The queue claim is a single ``UPDATE ... RETURNING``, which SQLite has from 3.35.
SQLITE_MIN_VERSION = (3, 35, 0)


class DatabaseConfigError(ArtistoError):
    """The database URL or the database library cannot serve artisto."""

    code = "database_config"


class DatabaseUnavailable(ArtistoError):
    """The database server does not answer, or the SQLite file cannot be opened."""

    code = "database_unavailable"


def parse_url(url: str | URL) -> URL:
    """The URL as SQLAlchemy sees it, or a typed error saying what is wrong with it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseConfigError(f"not a database URL: {url!s}: {exc}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseConfigError(
            f"unsupported database {parsed.get_backend_name()!r}: "
            "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
        )
    if not parsed.get_dialect().is_async:
        raise DatabaseConfigError(
            f"{parsed.drivername!r} is not an async driver: "
            "use sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    return parsed


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str | URL,
    *,
    echo: bool = False,
    sqlite_foreign_keys: bool = True,
    application_name: str | None = None,
    pool_size: int | None = None,
) -> AsyncEngine:
    """An engine for ``url``; a SQLite file's folder is created if missing.

    ``sqlite_foreign_keys=False`` is for migrations only: Alembic's batch mode rebuilds a
    SQLite table by copy-and-rename, which enforced foreign keys would block or cascade.
    ``application_name`` names the connections in PostgreSQL's ``pg_stat_activity``, so an
    operator sees which part of the fleet holds which; ``pool_size`` caps a PostgreSQL pool
    at that many connections (SQLAlchemy's default otherwise).
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        settings = {"application_name": application_name} if application_name else {}
        pool = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": 0}
        return _create_async_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            connect_args={"server_settings": settings},
            **pool,
        )

    if sqlite3.sqlite_version_info < SQLITE_MIN_VERSION:
        need = ".".join(map(str, SQLITE_MIN_VERSION))
        raise DatabaseConfigError(
            f"SQLite {sqlite3.sqlite_version} is too old: artisto needs {need} or newer "
            "(UPDATE ... RETURNING), or use PostgreSQL"
        )
    if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = _create_async_engine(parsed, echo=echo)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if sqlite_foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no reload, no lazy I/O)."""
    return async_sessionmaker(engine, expire_on_commit=False)
