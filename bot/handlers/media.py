"""Private chats: a photo, image file, video, GIF or video note gets the style keyboard."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.handlers.common import refusal_text
from bot.i18n import Texts
from bot.keyboards import style_keyboard
from bot.services.errors import Refusal
from bot.services.intake import IntakeService
from inference.registry import StyleRegistry

PAINTABLE = F.photo | F.video | F.animation | F.video_note | F.document


async def offer_styles(
    message: Message,
    target: Message,
    texts: Texts,
    intake: IntakeService,
    registry: StyleRegistry,
) -> bool:
    """Reply to ``message`` with the style keyboard for the media of ``target``; False when
    ``target`` has nothing to paint. A refusal (too large, too long, wrong type) is the reply
    instead, stating the limit."""
    try:
        media_id = await intake.accept(target)
    except Refusal as refusal:
        await message.reply(refusal_text(texts, refusal))
        return True
    if media_id is None:
        return False
    if not len(registry):
        await message.reply(texts.no_styles)
        return True
    requester = message.from_user.id if message.from_user else 0
    await message.reply(
        texts.choose_style, reply_markup=style_keyboard(registry, media_id, requester, texts)
    )
    return True


async def on_media(
    message: Message, texts: Texts, intake: IntakeService, registry: StyleRegistry
) -> None:
    await offer_styles(message, message, texts, intake, registry)


def setup() -> Router:
    router = Router(name="media")
    router.message.register(on_media, F.chat.type == "private", PAINTABLE)
    return router
