"""A failed job told to its user, in their language and with the reason's category.

Both the worker (a job that failed now) and recovery (a job that failed for good in a
previous process) end a job this way.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import Job, Repos
from bot.services.delivery import Destination
from bot.services.people import mark_blocked, texts_of
from bot.services.status import MessageRef, StatusBoard

log = logging.getLogger(__name__)


async def apologise(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    status: StatusBoard,
    settings: Settings,
    job: Job,
    code: str,
) -> None:
    """Tell the user that ``job`` failed and why (its reason category): on its status
    message, or as a reply to the media when that message is gone."""
    async with sessions() as session:
        repos = Repos(session)
        texts = await texts_of(repos, job.user_id, settings.bot.default_language)
        media = await repos.media.get(job.media_id)
    text = texts.failure(code)
    if job.status_message_id is not None and await status.finish(
        MessageRef(job.chat_id, job.status_message_id), text
    ):
        return
    if media is None:
        return
    try:
        await bot.send_message(
            job.chat_id,
            text,
            message_thread_id=job.message_thread_id,
            reply_parameters=Destination(job.chat_id, media.message_id).reply,
        )
    except TelegramForbiddenError:
        await mark_blocked(sessions, job.user_id)
    except TelegramAPIError as exc:
        log.warning("job.apology_lost", extra={"job_id": job.id, "error": repr(exc)})
