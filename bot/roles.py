"""Which part of artisto a process runs: all of it, the bot, or a worker.

``all`` (the default) receives updates and runs jobs in one process, on SQLite or PostgreSQL.
``bot`` receives updates, records jobs and answers buttons; it needs no GPU and never imports
torch. ``worker`` claims jobs, paints them and sends the results. The split roles share one
queue, so they need PostgreSQL: SQLite serves a single process.
"""

from __future__ import annotations

import enum

from bot.config import Settings
from bot.db.engine import is_sqlite


class Role(enum.StrEnum):
    ALL = "all"
    BOT = "bot"
    WORKER = "worker"

    @property
    def receives_updates(self) -> bool:
        return self is not Role.WORKER

    @property
    def runs_jobs(self) -> bool:
        return self is not Role.BOT


def role_problem(settings: Settings, role: Role) -> str | None:
    """Why ``settings`` cannot run ``role``, in one line naming what to set; None if they can."""
    if role is Role.ALL:
        return None
    if is_sqlite(settings.database_url):
        return (
            f"--role {role} needs PostgreSQL, the queue several processes can share: set "
            "ARTISTO_DB__URL=postgresql+asyncpg://USER:PASSWORD@HOST/DB "
            "(SQLite serves `artisto run` alone)"
        )
    if settings.bot.token is None:
        return (
            f"--role {role} needs ARTISTO_BOT__TOKEN (without a token, `artisto run` starts "
            "the playground, all in one process)"
        )
    if role is Role.BOT and settings.bot.mode == "webhook" and settings.bot.webhook_secret is None:
        # Each start would make its own random secret, and the replicas would refuse each
        # other's updates.
        return (
            "--role bot in webhook mode needs ARTISTO_BOT__WEBHOOK_SECRET: every bot process "
            "behind the load balancer must check the same secret"
        )
    return None
