"""The buttons: a style (or a surprise), cancel, another style, original quality; and any
button that matches none of them (stale, forged, malformed), refused politely.

Each handler checks the presser against the ids in the data before acting (see
``bot.callbacks``); the refusal is an alert only the presser sees.
"""

from __future__ import annotations

import logging
import random

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, FSInputFile, Message
from aiogram.utils.chat_action import ChatActionSender

from bot.callbacks import AnotherStyle, CancelJob, OriginalQuality, StyleChoice, Surprise
from bot.handlers.common import alert, limit_text, not_allowed_text, thread_of
from bot.i18n import Texts
from bot.keyboards import style_keyboard
from bot.services.cancel import tell_cancelled
from bot.services.delivery import Destination
from bot.services.jobs import JobService, NotAllowed, Queued
from bot.services.limits import LimitHit
from bot.services.outputs import ResultFiles
from bot.services.start import start_job
from bot.services.status import MessageRef, StatusBoard
from inference.registry import StyleRegistry

log = logging.getLogger(__name__)


async def on_style(
    query: CallbackQuery,
    callback_data: StyleChoice,
    bot: Bot,
    texts: Texts,
    jobs: JobService,
    registry: StyleRegistry,
    status: StatusBoard,
) -> None:
    data = callback_data
    await choose(query, data.media, data.user, data.style, texts, jobs, registry, status, bot)


async def on_surprise(
    query: CallbackQuery,
    callback_data: Surprise,
    bot: Bot,
    texts: Texts,
    jobs: JobService,
    registry: StyleRegistry,
    status: StatusBoard,
) -> None:
    names = registry.names()
    if not names:
        await alert(query, texts.no_styles)
        return
    data, style = callback_data, random.choice(names)
    await choose(query, data.media, data.user, style, texts, jobs, registry, status, bot)


async def choose(
    query: CallbackQuery,
    media_id: int,
    requester: int,
    style: str,
    texts: Texts,
    jobs: JobService,
    registry: StyleRegistry,
    status: StatusBoard,
    bot: Bot,
) -> None:
    """A tap on the style keyboard: the keyboard becomes the job's status, or the result
    arrives at once from the cache, or an alert says which limit stands in the way."""
    message = query.message
    if not isinstance(message, Message):
        await alert(query, texts.stale_button)
        return
    if requester != query.from_user.id:
        await alert(query, texts.not_yours)
        return
    if style not in registry:
        await alert(query, texts.unknown_style)
        return
    try:
        outcome = await start_job(
            MessageRef(message.chat.id, message.message_id),
            thread_of(message),
            media_id=media_id,
            requester=requester,
            style=style,
            texts=texts,
            jobs=jobs,
            registry=registry,
            status=status,
            bot=bot,
        )
    except NotAllowed as refused:
        log.info("callback.refused", extra={"user_id": requester, "reason": refused.reason})
        await alert(query, not_allowed_text(texts, refused))
        return
    if isinstance(outcome, LimitHit):
        await alert(query, limit_text(texts, outcome))
    elif isinstance(outcome, Queued):
        await query.answer(texts.queued_answer)
    else:
        await query.answer()


async def on_cancel(
    query: CallbackQuery,
    callback_data: CancelJob,
    texts: Texts,
    jobs: JobService,
    status: StatusBoard,
) -> None:
    message = query.message
    if not isinstance(message, Message):
        await alert(query, texts.stale_button)
        return
    try:
        job = await jobs.cancel(callback_data.job, query.from_user.id, message.chat.id)
    except NotAllowed as refused:
        await alert(query, not_allowed_text(texts, refused))
        return
    await query.answer(texts.cancelled)
    if job is not None:
        await tell_cancelled(status, job, texts.cancelled)


async def on_another(
    query: CallbackQuery,
    callback_data: AnotherStyle,
    bot: Bot,
    texts: Texts,
    jobs: JobService,
    registry: StyleRegistry,
) -> None:
    """The style keyboard again, under the original media: the stored file is reused, the
    user uploads nothing."""
    message = query.message
    if not isinstance(message, Message):
        await alert(query, texts.stale_button)
        return
    try:
        job, media = await jobs.owned_job(callback_data.job, query.from_user.id, message.chat.id)
    except NotAllowed as refused:
        await alert(query, not_allowed_text(texts, refused))
        return
    await bot.send_message(
        job.chat_id,
        texts.choose_style,
        message_thread_id=job.message_thread_id,
        reply_parameters=Destination(job.chat_id, media.message_id).reply,
        reply_markup=style_keyboard(registry, media.id, job.user_id, texts),
    )
    await query.answer()


async def on_original(
    query: CallbackQuery,
    callback_data: OriginalQuality,
    bot: Bot,
    texts: Texts,
    jobs: JobService,
    outputs: ResultFiles,
) -> None:
    """The result as a file, as it left the painter (Telegram recompresses photos)."""
    message = query.message
    if not isinstance(message, Message):
        await alert(query, texts.stale_button)
        return
    try:
        job, media = await jobs.owned_job(callback_data.job, query.from_user.id, message.chat.id)
    except NotAllowed as refused:
        await alert(query, not_allowed_text(texts, refused))
        return
    result = await jobs.result_of(job, media)
    path = outputs.find(result.id) if result is not None else None
    if path is None:
        await alert(query, texts.original_gone)
        return
    await query.answer()
    async with ChatActionSender.upload_document(
        bot=bot, chat_id=job.chat_id, message_thread_id=job.message_thread_id
    ):
        await bot.send_document(
            job.chat_id,
            FSInputFile(path, filename=f"artisto-{job.style}{path.suffix}"),
            message_thread_id=job.message_thread_id,
            reply_parameters=Destination(job.chat_id, message.message_id).reply,
        )


async def on_stale(query: CallbackQuery, texts: Texts) -> None:
    """Data no handler above accepted: an old keyboard, a forged or malformed payload."""
    log.info("callback.unknown", extra={"user_id": query.from_user.id, "data": query.data})
    await alert(query, texts.stale_button)


def setup() -> Router:
    router = Router(name="choice")
    router.callback_query.register(on_style, StyleChoice.filter())
    router.callback_query.register(on_surprise, Surprise.filter())
    router.callback_query.register(on_cancel, CancelJob.filter())
    router.callback_query.register(on_another, AnotherStyle.filter())
    router.callback_query.register(on_original, OriginalQuality.filter())
    router.callback_query.register(on_stale)
    return router
