"""Queued jobs shown their place in the queue, kept current as the queue moves.

One process of the fleet writes these edits: the one that leads (``Signals.leading``: the
holder of the advisory lock, always the only process on SQLite). It reads the head of the
queue from the database, so it serves jobs queued by any bot process, and keeps the places of
the first ``REFRESH_LIMIT`` current, so that each move of the queue costs a bounded refresh.
Each edit is made under ``while_queued``: with the job's row held and only while it waits,
so a claim or a cancel, whose writers speak next, always comes after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Repos
from bot.i18n import Language
from bot.keyboards import status_keyboard
from bot.services.people import texts_of
from bot.services.signals import Signal, Signals
from bot.services.status import MessageRef, StatusBoard

log = logging.getLogger(__name__)

REFRESH_LIMIT = 20
"""Queued jobs, from the head of the queue, whose position is kept current."""
EDITS_AT_ONCE = 4
"""Position edits under way at once: each holds a database connection (and its job's row)
until Telegram answers, and the bot's handlers need connections too."""


def while_queued(
    sessions: async_sessionmaker[AsyncSession], job_id: int
) -> Callable[[], AbstractAsyncContextManager[bool]]:
    """A status-board guard: the edit is made only while the job is queued, and its row is
    held meanwhile, so that a claim or a cancel (the next writer's turn) comes after it."""

    @asynccontextmanager
    async def guard() -> AsyncIterator[bool]:
        async with sessions.begin() as session:
            yield await Repos(session).jobs.hold_if_queued(job_id)

    return guard


class QueuePositions:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        status: StatusBoard,
        signals: Signals,
        default_language: Language,
        poll_s: float,
    ) -> None:
        self.sessions = sessions
        self.status = status
        self.signals = signals
        self.default_language = default_language
        self.poll_s = poll_s
        self._shown: dict[int, int] = {}
        """job id -> the place last shown, for the jobs at the head of the queue."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._editing = asyncio.Semaphore(EDITS_AT_ONCE)
        signals.subscribe(self._heard)

    def _heard(self, signal: Signal) -> None:
        if signal.kind in ("queued", "moved"):
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="queue-positions")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        """Refresh when the queue moves (once however many moves arrive meanwhile), and
        every ``poll_s`` in case a signal was lost or leadership changed hands."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            self._wake.clear()
            try:
                await self.refresh()
            except Exception:
                log.warning("positions.refresh_failed", exc_info=True)

    def _guard(self, job_id: int) -> Callable[[], AbstractAsyncContextManager[bool]]:
        hold = while_queued(self.sessions, job_id)

        @asynccontextmanager
        async def guard() -> AsyncIterator[bool]:
            async with self._editing, hold() as allowed:
                yield allowed

        return guard

    async def refresh(self) -> None:
        if not self.signals.leading:
            self._shown.clear()  # another process writes them; start afresh if this leads
            return
        async with self.sessions() as session:
            repos = Repos(session)
            head = await repos.jobs.queue_head(REFRESH_LIMIT)
            for ahead, job in enumerate(head):
                if job.status_message_id is None or self._shown.get(job.id) == ahead:
                    continue
                self._shown[job.id] = ahead
                texts = await texts_of(repos, job.user_id, self.default_language)
                self.status.update(
                    MessageRef(job.chat_id, job.status_message_id),
                    texts.queued(ahead),
                    status_keyboard(job.id, texts),
                    guard=self._guard(job.id),
                )
        waiting = {job.id for job in head}
        self._shown = {job_id: at for job_id, at in self._shown.items() if job_id in waiting}
