"""Jobs whose worker went silent go back to the queue, or fail for good.

A running job whose lease lapsed (its worker died, or lost the database for longer than a
lease) gets another try, up to ``max_attempts``; one that has had them all may be what kills
its workers, so it fails with an apology instead of taking the service down again. Workers
sweep for such jobs all the time; a single process on SQLite, which knows that nothing else
can be running anything, also takes back every running job when it starts. Queued jobs need
nothing: a worker claims them.
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
from bot.services.metrics import BotMetrics
from bot.services.people import texts_of
from bot.services.positions import while_queued
from bot.services.signals import QUEUED, Signals
from bot.services.status import MessageRef, StatusBoard

log = logging.getLogger(__name__)


async def recover(
    *,
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    status: StatusBoard,
    settings: Settings,
    signals: Signals,
    metrics: BotMetrics,
    every_running: bool = False,
) -> Recovered:
    """Put back (or fail) the jobs whose lease lapsed, or with ``every_running`` every
    running job, and tell their users."""
    async with sessions.begin() as session:
        recovered = await Repos(session).leases.requeue_lapsed(
            settings.limits.max_attempts, every_running=every_running
        )
    if not (recovered.requeued or recovered.failed):
        return recovered
    log.info(
        "jobs.recovered",
        extra={"requeued": recovered.requeued, "failed": recovered.failed},
    )
    metrics.leases_expired(requeued=len(recovered.requeued), failed=len(recovered.failed))
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
            markup = status_keyboard(job.id, texts)
            status.update(ref, texts.resumed, markup, guard=while_queued(sessions, job.id))
    if recovered.requeued:
        await signals.publish(QUEUED)
    return recovered
