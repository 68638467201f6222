"""/art: reply to a photo or video with it (or send one captioned /art), and the style
keyboard appears under the command.

In groups with privacy mode on, this is how the bot sees media at all: it receives commands
and replies to its own messages only. It works in private chats as well.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.handlers.media import offer_styles
from bot.i18n import Texts
from bot.services.intake import IntakeService
from inference.registry import StyleRegistry


async def on_art(
    message: Message, texts: Texts, intake: IntakeService, registry: StyleRegistry
) -> None:
    target = message.reply_to_message or message
    if await offer_styles(message, target, texts, intake, registry) is None:
        await message.reply(texts.art_usage)


def setup() -> Router:
    router = Router(name="group")
    router.message.register(on_art, Command("art"))
    return router
