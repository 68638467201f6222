"""Queued jobs shown their place in the queue, kept current as jobs ahead are claimed.

Only jobs queued in this process (it knows their status messages), and at most
``REFRESH_LIMIT`` of them, so each claim costs a bounded refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Job, JobStatus, Repos
from bot.i18n import Language
from bot.keyboards import status_keyboard
from bot.services.people import texts_of
from bot.services.status import MessageRef, StatusBoard

log = logging.getLogger(__name__)

REFRESH_LIMIT = 20
"""Queued jobs whose position is kept current on their status message, per process."""


@dataclass
class _Waiting:
    status: MessageRef
    ahead: int | None = None


class QueuePositions:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        status: StatusBoard,
        default_language: Language,
    ) -> None:
        self.sessions = sessions
        self.status = status
        self.default_language = default_language
        self._waiting: dict[int, _Waiting] = {}
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def watch(self, job: Job, status: MessageRef) -> None:
        if len(self._waiting) < REFRESH_LIMIT:
            self._waiting[job.id] = _Waiting(status)

    def forget(self, job_id: int) -> None:
        self._waiting.pop(job_id, None)

    def refresh(self) -> None:
        """The queue moved: show the new places soon, once, however often this is called
        while a refresh is under way."""
        if not self._waiting:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._refresh_all())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _refresh_all(self) -> None:
        self._again = True
        while self._again and self._waiting:
            self._again = False
            try:
                await self._refresh_once()
            except Exception:
                log.warning("worker.refresh_failed", exc_info=True)

    async def _refresh_once(self) -> None:
        async with self.sessions() as session:
            repos = Repos(session)
            for job in await repos.jobs.get_many(list(self._waiting)):
                waiting = self._waiting.get(job.id)
                if waiting is None:
                    continue
                if job.status != JobStatus.QUEUED:
                    self._waiting.pop(job.id, None)
                    continue
                ahead = await repos.jobs.count_ahead(job)
                if ahead == waiting.ahead:
                    continue
                waiting.ahead = ahead
                texts = await texts_of(repos, job.user_id, self.default_language)
                self.status.update(
                    waiting.status, texts.queued(ahead), status_keyboard(job.id, texts)
                )
