"""Alembic environment: async engines, URL from artisto's settings, batch mode on SQLite.

Two ways in. ``bot/db/migrate.py`` opens the connection itself and hands it over in
``config.attributes["connection"]`` (so migrations can run inside the bot's event loop);
the ``alembic`` command line gets none, and this module opens one from
``config.attributes["database_url"]`` or, failing that, ``Settings().database_url``.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from bot.db.engine import create_engine, is_sqlite
from bot.db.models import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and "connection" not in config.attributes:
    # Only for the alembic command line: the application configures logging itself.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    from bot.config import Settings

    return Settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write the plain column type into migrations, so they never import the models."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options(sqlite: bool) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        "render_as_batch": sqlite,
        "compare_type": True,
        "render_item": _render_item,
    }


def _run_with(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name == "sqlite"))
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url(), sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_with)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline() -> None:
    url = _url()
    options = _options(is_sqlite(url))
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
elif (given := config.attributes.get("connection")) is not None:
    _run_with(given)
else:
    asyncio.run(_run_online())
