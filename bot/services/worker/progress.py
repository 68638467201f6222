"""A running job's progress: on its status message (with the cancel button) as it moves,
and now and then on its row, so /stats and a restart see how far it got.

Only while the worker's lease holds, by its own clock: a worker stalled past its lease may
have lost the job to another, which now writes that message.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Repos
from bot.keyboards import status_keyboard
from bot.services.status import StatusBoard
from bot.services.worker.claimed import ClaimedJob
from bot.services.worker.stylize import Progress

log = logging.getLogger(__name__)

PROGRESS_DB_INTERVAL_S = 5.0


class ProgressReporter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], status: StatusBoard) -> None:
        self.sessions = sessions
        self.status = status
        self._background: set[asyncio.Task[None]] = set()

    def show(self, run: ClaimedJob, text: str) -> None:
        """``text`` on the job's status message, if it has one and the job is still ours."""
        if run.status is not None and run.lease.held():
            self.status.update(run.status, text, status_keyboard(run.job.id, run.texts))

    def reporter(self, run: ClaimedJob) -> Progress:
        """Called on the event loop after each batch: the status message (rate-limited by
        the board) and, now and then, the job's row."""
        last_saved = time.monotonic()
        shown = -1

        def report(done: int, total: int) -> None:
            nonlocal last_saved, shown
            percent = min(99, done * 100 // max(total, 1))
            if percent == shown:
                return
            shown = percent
            self.show(run, run.texts.stylizing_percent(percent))
            if time.monotonic() - last_saved >= PROGRESS_DB_INTERVAL_S:
                last_saved = time.monotonic()
                task = asyncio.create_task(self._save(run, percent))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

        return report

    async def _save(self, run: ClaimedJob, percent: int) -> None:
        claim = run.lease.claim
        try:
            async with self.sessions.begin() as session:
                await Repos(session).jobs.set_progress(claim.job_id, percent, claim=claim)
        except Exception:
            log.warning("job.progress_not_saved", extra={"job_id": claim.job_id}, exc_info=True)
