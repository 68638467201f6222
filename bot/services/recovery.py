"""At start: jobs a previous process left running go back to the queue, or fail for good.

A job that was running when the process died gets another try, up to ``max_attempts``;
one that has had them all may be what killed the process, so it fails with an apology
instead of taking the service down again. Queued jobs need nothing: the worker claims them.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import Repos
from bot.db.repositories import ATTEMPTS_EXHAUSTED, Recovered
from bot.keyboards import status_keyboard
from bot.services.apology import apologise
from bot.services.jobs import QueueListener
from bot.services.people import texts_of
from bot.services.status import MessageRef, StatusBoard

log = logging.getLogger(__name__)


async def recover(
    *,
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    status: StatusBoard,
    settings: Settings,
    worker: QueueListener,
) -> Recovered:
    async with sessions.begin() as session:
        recovered = await Repos(session).jobs.requeue_stale_running(settings.limits.max_attempts)
    if not (recovered.requeued or recovered.failed):
        return recovered
    log.info(
        "jobs.recovered",
        extra={"requeued": recovered.requeued, "failed": recovered.failed},
    )
    async with sessions() as session:
        repos = Repos(session)
        jobs = await repos.jobs.get_many(recovered.requeued + recovered.failed)
        languages = {
            job.user_id: await texts_of(repos, job.user_id, settings.bot.default_language)
            for job in jobs
        }
    for job in jobs:
        if job.id in recovered.failed:
            await apologise(bot, sessions, status, settings, job, ATTEMPTS_EXHAUSTED)
        elif job.status_message_id is not None:
            ref = MessageRef(job.chat_id, job.status_message_id)
            texts = languages[job.user_id]
            status.update(ref, texts.resumed, status_keyboard(job.id, texts))
            worker.job_queued(job, ref)
    return recovered
