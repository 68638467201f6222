"""Telegram's rate limits kept by the fleet as a whole: every message sent or edited, by any
process, first reserves its place in the pace the processes share in PostgreSQL.

Telegram asks a bot for about one message per second per chat (short bursts pass), twenty
a minute per group, and thirty a second in all; past that it answers 429 and makes the bot
wait. Limits counted in each process's memory would let N processes send N times that, so
the count lives in the database (``bot.db.repositories.pace``): one short statement per
send. A single process on SQLite has nobody to share with and relies on Telegram's 429
answers, which ``RetryMiddleware`` honours; so does the fleet, if the database is away.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods.base import TelegramType
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Repos
from bot.db.models import PACE_KEY_LEN
from bot.db.repositories.pace import Rate

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

EVERYWHERE = Rate(interval_s=1 / 30, burst=30)
PER_CHAT = Rate(interval_s=1.0, burst=5)
PER_GROUP = Rate(interval_s=3.0, burst=5)
PACED_PREFIXES = ("send", "edit", "copy", "forward")
UNPACED = frozenset({"sendChatAction"})
"""A chat action is no message: Telegram does not count it, and it must not wait."""


def rates_for(method: str, chat_id: object) -> list[tuple[str, Rate]]:
    """The keys a call of ``method`` to ``chat_id`` counts against (none if unpaced)."""
    if method in UNPACED or not method.startswith(PACED_PREFIXES):
        return []
    rates = [("bot", EVERYWHERE)]
    if isinstance(chat_id, int | str):
        group = isinstance(chat_id, str) or chat_id < 0
        rates.append((f"chat:{chat_id}"[:PACE_KEY_LEN], PER_GROUP if group else PER_CHAT))
    return rates


class PacingMiddleware(BaseRequestMiddleware):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        rates = rates_for(method.__api_method__, getattr(method, "chat_id", None))
        if rates:
            await self._wait_turn(method.__api_method__, rates)
        return await make_request(bot, method)

    async def _wait_turn(self, name: str, rates: list[tuple[str, Rate]]) -> None:
        try:
            async with self.sessions.begin() as session:
                wait = await Repos(session).pace.reserve(rates)
        except Exception:
            log.warning("pace.unknown", extra={"method": name}, exc_info=True)
            return
        if wait > 0:
            log.debug("pace.wait", extra={"method": name, "wait_s": round(wait, 3)})
            await asyncio.sleep(wait)
