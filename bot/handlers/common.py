"""What several handlers say: refusals and limits in the user's words."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from bot.i18n import Texts
from bot.services.errors import FileTooLarge, Refusal, TooManyPixels, VideoTooLong, WrongFileType
from bot.services.jobs import NotAllowed
from bot.services.limits import LimitHit


def refusal_text(texts: Texts, refusal: Refusal) -> str:
    if isinstance(refusal, FileTooLarge):
        return texts.too_large(refusal.limit_mb)
    if isinstance(refusal, VideoTooLong):
        return texts.too_long(refusal.limit_s)
    if isinstance(refusal, TooManyPixels):
        return texts.too_many_pixels(refusal.limit_mp)
    if isinstance(refusal, WrongFileType):
        return texts.unsupported_file(refusal.what)
    return texts.failure(refusal.code)


def limit_text(texts: Texts, hit: LimitHit) -> str:
    if hit.reason == "concurrent":
        return texts.limit_concurrent(hit.value)
    if hit.reason == "rate":
        return texts.limit_rate(hit.value)
    return texts.busy(hit.value)


def not_allowed_text(texts: Texts, refused: NotAllowed) -> str:
    return texts.not_yours if refused.reason == "not_yours" else texts.stale_button


def thread_of(message: Message) -> int | None:
    """The forum topic to answer in; a reply thread in a plain group is not a topic."""
    return message.message_thread_id if message.is_topic_message else None


async def alert(query: CallbackQuery, text: str) -> None:
    await query.answer(text, show_alert=True)
