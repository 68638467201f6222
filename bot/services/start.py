"""Starting a job from a tap on the style keyboard (or a style picked beforehand): the
keyboard becomes the job's status message, or the result comes at once from the cache."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot

from bot.db import Job
from bot.i18n import Texts
from bot.keyboards import status_keyboard
from bot.services.delivery import Destination, send_painting
from bot.services.jobs import Cached, JobService, Outcome
from bot.services.status import MessageRef, StatusBoard
from inference.registry import StyleRegistry

log = logging.getLogger(__name__)

ANNOUNCE_TIMEOUT_S = 5.0
"""The first status is written while the job's transaction is open: a slow Telegram must not
hold it long. Without it the keyboard stays until the queue positions reach the job."""


async def start_job(
    keyboard: MessageRef,
    thread: int | None,
    *,
    media_id: int,
    requester: int,
    style: str,
    texts: Texts,
    jobs: JobService,
    registry: StyleRegistry,
    status: StatusBoard,
    bot: Bot,
) -> Outcome:
    """Ask for the job and show it where the style ``keyboard`` was: that message becomes
    the job's status, or the result comes at once from the cache and the keyboard goes.
    A limit in the way is returned for the caller to tell (an alert, a reply); the keyboard
    stays for a later try. Raises ``NotAllowed`` for a stale or foreign media."""

    async def announce(job: Job, ahead: int) -> None:
        """Inside the job's transaction. Alone on SQLite, the process only schedules the edit
        on its board, which orders it before any later one for that message, so SQLite's one
        write lock never waits on Telegram; in a fleet the edit is made before the commit."""
        text, markup = texts.queued(ahead), status_keyboard(job.id, texts)
        if not jobs.shared:
            status.update(keyboard, text, markup)
            return
        try:
            async with asyncio.timeout(ANNOUNCE_TIMEOUT_S):
                await status.show(keyboard, text, markup)
        except TimeoutError:
            log.warning("job.announce_slow", extra={"job_id": job.id})

    outcome = await jobs.request(
        media_id=media_id,
        user_id=requester,
        style=style,
        status=keyboard,
        announce=announce,
        thread_id=thread,
    )
    if isinstance(outcome, Cached):
        result = outcome.result
        await send_painting(
            bot,
            Destination(keyboard.chat_id, outcome.media.message_id, thread),
            result.kind,
            result.file_id,
            job_id=outcome.job.id,
            pack=registry.get(style),
            texts=texts,
        )
        await status.finish(keyboard, delete=True)
    return outcome
