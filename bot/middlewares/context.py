"""Per-update context: drop a redelivered update, refresh the user and chat rows, and hand
handlers the user's language as ``texts``.

One short transaction per update. The update id is marked before the handlers run, so a
second delivery (a crash before getUpdates confirmed it, a webhook retried) is ignored even
while the first is still being handled; a handler that fails tells the user itself (see
the error handler) rather than waiting for Telegram to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import ChatType, Repos
from bot.i18n import texts_for
from bot.services.people import language_of

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateContextMiddleware(BaseMiddleware):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.default_language = settings.bot.default_language
        self.admins = frozenset(settings.bot.admins)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        async with self.sessions.begin() as session:
            repos = Repos(session)
            if not await repos.updates.mark_update_processed(event.update_id):
                log.info("update.duplicate", extra={"update_id": event.update_id})
                return None
            row = None
            if user is not None and not user.is_bot:
                row = await repos.users.upsert(
                    user.id,
                    username=user.username,
                    first_name=user.first_name,
                    language_code=user.language_code,
                )
            if chat is not None:
                await repos.chats.upsert(chat.id, ChatType(chat.type), chat.title)
        language = language_of(row, self.default_language)
        data["language"] = language
        data["texts"] = texts_for(language)
        data["is_admin"] = user is not None and user.id in self.admins
        return await handler(event, data)
