"""Who a message is for: the user's language, and whether they still accept messages."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Repos, User
from bot.i18n import Language, Texts, pick_language, texts_for

log = logging.getLogger(__name__)


def language_of(user: User | None, default: Language) -> Language:
    if user is None:
        return default
    return pick_language(user.language, user.language_code, default)


async def texts_of(repos: Repos, user_id: int, default: Language) -> Texts:
    """The catalog in the language of ``user_id`` (for messages sent outside an update)."""
    return texts_for(language_of(await repos.users.get(user_id), default))


async def set_language(
    sessions: async_sessionmaker[AsyncSession], user_id: int, language: Language
) -> None:
    """/lang: the user's own choice, over the language their Telegram app reports."""
    async with sessions.begin() as session:
        await Repos(session).users.set_language(user_id, language)


async def set_blocked(
    sessions: async_sessionmaker[AsyncSession], user_id: int, blocked: bool
) -> None:
    """Telegram told of the user blocking (or unblocking) the bot in their private chat."""
    async with sessions.begin() as session:
        await Repos(session).users.set_blocked(user_id, blocked)


async def mark_blocked(sessions: async_sessionmaker[AsyncSession], user_id: int) -> None:
    """Telegram said 403: the user blocked the bot. Cleared when they write again."""
    await set_blocked(sessions, user_id, True)
    log.info("user.blocked_bot", extra={"user_id": user_id})
