"""The last resort: an exception a handler did not expect is logged in full, and the user
gets a short apology instead of silence. A user who blocked the bot is recorded as such."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import ErrorEvent, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from artisto.errors import ArtistoError
from bot.i18n import Texts, texts_for
from bot.services.people import mark_blocked

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent,
    sessions: async_sessionmaker[AsyncSession],
    texts: Texts | None = None,
) -> None:
    update, error = event.update, event.exception
    query, message = update.callback_query, update.message
    user = query.from_user if query else message.from_user if message else None
    if isinstance(error, TelegramForbiddenError):
        if user is not None:
            await mark_blocked(sessions, user.id)
        return
    log.error(
        "update.failed",
        extra={"update_id": update.update_id, "error": repr(error)},
        exc_info=error,
    )
    code = error.code if isinstance(error, ArtistoError) else "internal"
    apology = (texts or texts_for("en")).failure(code)
    with contextlib.suppress(TelegramAPIError):
        if query is not None:
            await query.answer(apology, show_alert=True)
        elif isinstance(message, Message):
            await message.reply(apology)


def setup() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
