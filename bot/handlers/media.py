"""Private chats: a photo, image file, video, GIF or video note gets the style keyboard; with a
style picked in the /styles gallery, that style is started at once."""

from __future__ import annotations

from typing import NamedTuple

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.handlers.common import limit_text, refusal_text
from bot.i18n import Texts
from bot.keyboards import style_keyboard
from bot.services.errors import Refusal
from bot.services.intake import IntakeService
from bot.services.jobs import JobService
from bot.services.limits import LimitHit
from bot.services.picks import StylePicks
from bot.services.start import start_job
from bot.services.status import MessageRef, StatusBoard
from inference.registry import StyleRegistry

PAINTABLE = F.photo | F.video | F.animation | F.video_note | F.document


class Offer(NamedTuple):
    """What ``offer_styles`` replied: the style keyboard for the media ``media_id``, or
    neither when the reply was a refusal or there are no styles."""

    keyboard: Message | None = None
    media_id: int | None = None


async def offer_styles(
    message: Message,
    target: Message,
    texts: Texts,
    intake: IntakeService,
    registry: StyleRegistry,
) -> Offer | None:
    """Reply to ``message`` with the style keyboard for the media of ``target``; None when
    ``target`` has nothing to paint. A refusal (too large, too long, wrong type) is the reply
    instead, stating the limit."""
    try:
        media_id = await intake.accept(target)
    except Refusal as refusal:
        await message.reply(refusal_text(texts, refusal))
        return Offer()
    if media_id is None:
        return None
    if not len(registry):
        await message.reply(texts.no_styles)
        return Offer()
    requester = message.from_user.id if message.from_user else 0
    keyboard = await message.reply(
        texts.choose_style, reply_markup=style_keyboard(registry, media_id, requester, texts)
    )
    return Offer(keyboard, media_id)


async def on_media(
    message: Message,
    bot: Bot,
    texts: Texts,
    intake: IntakeService,
    registry: StyleRegistry,
    jobs: JobService,
    status: StatusBoard,
    picks: StylePicks,
) -> None:
    offer = await offer_styles(message, message, texts, intake, registry)
    if offer is None or offer.keyboard is None or offer.media_id is None:
        return
    if message.from_user is None:
        return
    style = await picks.take(message.from_user.id)
    if style is None or style not in registry:
        return
    outcome = await start_job(
        MessageRef(offer.keyboard.chat.id, offer.keyboard.message_id),
        None,
        media_id=offer.media_id,
        requester=message.from_user.id,
        style=style,
        texts=texts,
        jobs=jobs,
        registry=registry,
        status=status,
        bot=bot,
    )
    if isinstance(outcome, LimitHit):
        await message.reply(limit_text(texts, outcome))


def setup() -> Router:
    router = Router(name="media")
    router.message.register(on_media, F.chat.type == "private", PAINTABLE)
    return router
