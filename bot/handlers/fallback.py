"""Anything else in a private chat gets a short hint instead of silence; groups get nothing
(the bot must not chatter in a group about messages that were not meant for it)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.i18n import Texts


async def hint(message: Message, texts: Texts) -> None:
    await message.answer(texts.hint_text if message.text else texts.hint_other)


def setup() -> Router:
    router = Router(name="fallback")
    router.message.register(hint, F.chat.type == "private")
    return router
