"""Sending a result back: as a reply to the original media, in the kind the user sent, with
the style's caption and the result's buttons.

A file is either new bytes (uploaded) or a ``file_id`` already on Telegram (a cache hit, sent
again without any upload). What Telegram answers is boiled down to ``Sent``: the ids to store.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.types import InlineKeyboardMarkup, InputFile, Message, ReplyParameters

from bot.db import MediaKind, ResultKind
from bot.i18n import Texts
from bot.keyboards import result_keyboard
from inference.registry import StylePack

RESULT_KIND: dict[MediaKind, ResultKind] = {
    MediaKind.PHOTO: ResultKind.PHOTO,
    MediaKind.IMAGE_DOCUMENT: ResultKind.DOCUMENT,
    MediaKind.VIDEO: ResultKind.VIDEO,
    MediaKind.ANIMATION: ResultKind.ANIMATION,
    MediaKind.VIDEO_NOTE: ResultKind.VIDEO_NOTE,
    MediaKind.VIDEO_DOCUMENT: ResultKind.DOCUMENT,
}
"""A file sent as a file comes back as a file (full quality); the rest keep their kind."""

CHAT_ACTION: dict[ResultKind, ChatAction] = {
    ResultKind.PHOTO: ChatAction.UPLOAD_PHOTO,
    ResultKind.VIDEO: ChatAction.UPLOAD_VIDEO,
    ResultKind.ANIMATION: ChatAction.UPLOAD_VIDEO,
    ResultKind.VIDEO_NOTE: ChatAction.UPLOAD_VIDEO_NOTE,
    ResultKind.DOCUMENT: ChatAction.UPLOAD_DOCUMENT,
}


@dataclass(frozen=True)
class Destination:
    """Where a result goes: the chat, its forum topic, and the message it answers."""

    chat_id: int
    reply_to: int
    thread_id: int | None = None

    @property
    def reply(self) -> ReplyParameters:
        # The original may have been deleted meanwhile: the result still arrives.
        return ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True)


@dataclass(frozen=True)
class Sent:
    message_id: int
    file_id: str
    file_unique_id: str
    size_bytes: int | None


async def send_result(
    bot: Bot,
    where: Destination,
    kind: ResultKind,
    file: InputFile | str,
    *,
    caption: str | None,
    markup: InlineKeyboardMarkup | None,
) -> Sent:
    """Send ``file`` as ``kind``; video notes take no caption."""
    chat, thread, reply = where.chat_id, where.thread_id, where.reply
    message: Message
    if kind == ResultKind.PHOTO:
        message = await bot.send_photo(
            chat,
            file,
            caption=caption,
            message_thread_id=thread,
            reply_parameters=reply,
            reply_markup=markup,
        )
    elif kind == ResultKind.VIDEO:
        message = await bot.send_video(
            chat,
            file,
            caption=caption,
            supports_streaming=True,
            message_thread_id=thread,
            reply_parameters=reply,
            reply_markup=markup,
        )
    elif kind == ResultKind.ANIMATION:
        message = await bot.send_animation(
            chat,
            file,
            caption=caption,
            message_thread_id=thread,
            reply_parameters=reply,
            reply_markup=markup,
        )
    elif kind == ResultKind.VIDEO_NOTE:
        message = await bot.send_video_note(
            chat, file, message_thread_id=thread, reply_parameters=reply, reply_markup=markup
        )
    else:
        message = await bot.send_document(
            chat,
            file,
            caption=caption,
            message_thread_id=thread,
            reply_parameters=reply,
            reply_markup=markup,
        )
    return sent_file(message, kind)


async def send_painting(
    bot: Bot,
    where: Destination,
    kind: ResultKind,
    file: InputFile | str,
    *,
    job_id: int,
    pack: StylePack,
    texts: Texts,
) -> Sent:
    """A result of ``job_id`` as the user sees it, fresh or from the cache alike: captioned
    with the painting it follows, under the result's buttons."""
    meta = pack.meta
    return await send_result(
        bot,
        where,
        kind,
        file,
        caption=texts.result_caption(meta.emoji, meta.title, meta.artist, meta.year),
        markup=result_keyboard(job_id, kind, pack.name, texts),
    )


def sent_file(message: Message, kind: ResultKind) -> Sent:
    """The ids of the file ``message`` carries as ``kind``."""
    media = {
        ResultKind.PHOTO: message.photo[-1] if message.photo else None,
        ResultKind.VIDEO: message.video,
        ResultKind.ANIMATION: message.animation,
        ResultKind.VIDEO_NOTE: message.video_note,
        ResultKind.DOCUMENT: message.document,
    }[kind]
    if media is None:
        raise ValueError(f"Telegram's answer carries no {kind}")
    return Sent(message.message_id, media.file_id, media.file_unique_id, media.file_size)
