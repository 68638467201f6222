"""Turning a tap into a job: the cache, the limits, the durable queue; taking jobs back;
and counting them for /stats.

Every check that protects one user from another lives here, on the database's word: a button
carries only ids, and a forged one must find the ids absent, in another chat, or someone
else's (``NotAllowed``) before anything happens. So does the double-tap guard: a keyboard
becomes at most one job (a unique index), whichever bot process each tap reaches.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Job, JobStatus, Media, Repos, Result, utcnow
from bot.db.repositories import JobStats
from bot.services.delivery import RESULT_KIND
from bot.services.intake import VIDEO_KINDS
from bot.services.limits import LimitHit, Limits
from bot.services.signals import MOVED, QUEUED, Signals, cancelled
from bot.services.status import MessageRef
from inference.pool import Priority

log = logging.getLogger(__name__)


class NotAllowed(Exception):
    """A button that must not act: ``stale`` (gone, elsewhere, malformed) or ``not_yours``."""

    def __init__(self, reason: Literal["stale", "not_yours"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Queued:
    job: Job
    ahead: int


@dataclass(frozen=True)
class Cached:
    """Answered at once from an earlier result; ``job`` is recorded as done."""

    job: Job
    media: Media
    result: Result


@dataclass(frozen=True)
class AlreadyTaken:
    """A second tap on a keyboard that already became a job."""


Outcome = Queued | Cached | LimitHit | AlreadyTaken
Announce = Callable[[Job, int], Awaitable[None]]
"""Shows a new job's first status (its place in the queue), before anyone else sees it."""


class JobService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        limits: Limits,
        signals: Signals,
    ) -> None:
        self.sessions = sessions
        self.limits = limits
        self.signals = signals

    @property
    def shared(self) -> bool:
        """Other processes work on the same queue (PostgreSQL)."""
        return self.signals.shared

    async def request(
        self,
        *,
        media_id: int,
        user_id: int,
        style: str,
        status: MessageRef,
        announce: Announce,
        thread_id: int | None = None,
    ) -> Outcome:
        """A request to paint ``media_id`` in ``style``, tapped on the keyboard ``status``.

        A queued job is announced (``announce``) inside the transaction that records it, so
        its first status is written before any other process can see the job, and hence
        before any other writes on that message. Raises ``NotAllowed("stale")`` when the
        media does not exist or lives in another chat.
        """
        try:
            outcome = await self._request(
                media_id, user_id, style, status, announce=announce, thread_id=thread_id
            )
        except IntegrityError:
            # Another process recorded a job for this keyboard first (the unique index).
            async with self.sessions() as session:
                if (
                    await Repos(session).jobs.for_keyboard(status.chat_id, status.message_id)
                    is None
                ):
                    raise
            return AlreadyTaken()
        if isinstance(outcome, Queued):
            log.info("job.queued", extra={"job_id": outcome.job.id, "ahead": outcome.ahead})
            await self.signals.publish(QUEUED)
        return outcome

    async def _request(
        self,
        media_id: int,
        user_id: int,
        style: str,
        status: MessageRef,
        *,
        announce: Announce,
        thread_id: int | None,
    ) -> Outcome:
        async with self.sessions.begin() as session:
            repos = Repos(session)
            media = await repos.media.get(media_id)
            if media is None or media.chat_id != status.chat_id:
                raise NotAllowed("stale")
            if await repos.jobs.for_keyboard(status.chat_id, status.message_id) is not None:
                return AlreadyTaken()
            cached = await repos.results.get_cached(media.file_unique_id, style)
            if cached is not None and cached.kind == RESULT_KIND[media.kind]:
                job = await self._record_cached(repos, media, user_id, style, status, thread_id)
                return Cached(job, media, cached)
            hit = await self.limits.check(repos, user_id)
            if hit is not None:
                return hit
            priority = Priority.VIDEO if media.kind in VIDEO_KINDS else Priority.PHOTO
            job = await repos.jobs.create(
                user_id=user_id,
                chat_id=media.chat_id,
                media_id=media.id,
                style=style,
                priority=int(priority),
                message_thread_id=thread_id,
                status_message_id=status.message_id,
            )
            ahead = await repos.jobs.count_ahead(job)
            await announce(job, ahead)
        return Queued(job, ahead)

    async def _record_cached(
        self,
        repos: Repos,
        media: Media,
        user_id: int,
        style: str,
        keyboard: MessageRef,
        thread_id: int | None,
    ) -> Job:
        """A job row for a cache hit, born done: it counts in /stats, lists the result among
        the user's own for inline sharing, and takes its keyboard (a second tap finds it).
        Never visible as queued: the transaction commits it already done."""
        job = await repos.jobs.create(
            user_id=user_id,
            chat_id=media.chat_id,
            media_id=media.id,
            style=style,
            message_thread_id=thread_id,
            status_message_id=keyboard.message_id,
        )
        now = utcnow()
        job.status, job.progress = JobStatus.DONE, 100
        job.started_at = job.finished_at = now
        await repos.session.flush()
        log.info("job.cached", extra={"job_id": job.id, "style": style})
        return job

    async def owned_job(self, job_id: int, user_id: int, chat_id: int) -> tuple[Job, Media]:
        """The job a button names, if it is ``user_id``'s and in ``chat_id``."""
        async with self.sessions() as session:
            repos = Repos(session)
            job = await repos.jobs.get(job_id)
            if job is None or job.chat_id != chat_id:
                raise NotAllowed("stale")
            if job.user_id != user_id:
                raise NotAllowed("not_yours")
            media = await repos.media.get(job.media_id)
            if media is None:
                raise NotAllowed("stale")
            return job, media

    async def result_of(self, job: Job, media: Media) -> Result | None:
        """The stored output of a done job (its own, or the cached one it was answered with)."""
        if job.status != JobStatus.DONE:
            return None
        async with self.sessions() as session:
            return await Repos(session).results.get_cached(media.file_unique_id, job.style)

    async def cancel(self, job_id: int, user_id: int, chat_id: int) -> Job | None:
        """Cancel one of the user's jobs, queued or running; None if it had already ended."""
        await self.owned_job(job_id, user_id, chat_id)
        async with self.sessions.begin() as session:
            job = await Repos(session).jobs.mark_cancelled(job_id)
        if job is not None:
            log.info("job.cancelled", extra={"job_id": job_id})
            await self.signals.publish(cancelled(job_id), MOVED)
        return job

    async def cancel_queued(self, user_id: int) -> list[Job]:
        """/cancel: every queued job of the user (running ones finish)."""
        async with self.sessions.begin() as session:
            jobs = await Repos(session).jobs.cancel_user_queued(user_id)
        if jobs:
            await self.signals.publish(MOVED)
        return jobs

    async def stats(self) -> JobStats:
        """/stats: the queue now and the jobs of the last hour."""
        async with self.sessions() as session:
            return await Repos(session).jobs.stats()
