"""The finished result, fenced: checked against the lease, sent to the user, then recorded
(the result row, which is the cache for the next request, and the job done), and its file
kept for "Original quality".

The fence: immediately before the send, one transaction checks that this worker's claim
still holds the job and records that its result is on its way (``delivering_at``, a lease
renewed for the send). A worker whose job was put back and taken by another, or cancelled,
sends nothing and records nothing. What remains is the window between that check and
Telegram's answer to the send (timed in ``artisto_delivery_window_seconds``): a worker that
dies in it, or loses the database until its lease lapses, leaves a job that comes back with
``delivering_at`` set; its next try sends again (``artisto_delivery_retries_total``), since a
result sent twice is better than one never sent. A send that outlasts the lease it was
given is counted too (``artisto_delivery_window_overruns_total``): another worker may have
taken the job meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import FSInputFile
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Repos
from bot.db.retry import in_transaction
from bot.services.delivery import Destination, Sent, send_painting
from bot.services.errors import UploadFailed
from bot.services.metrics import BotMetrics
from bot.services.outputs import ResultFiles
from bot.services.worker.claimed import ClaimedJob, stage


class LeaseLost(Exception):
    """The fence found the job no longer this worker's to finish (put back, or cancelled):
    nothing is sent or recorded."""


async def send(bot: Bot, run: ClaimedJob, output: Path) -> Sent:
    """Upload ``output`` as the reply to the job's media. Telegram refusing it is an
    ``UploadFailed``; a user who blocked the bot stays a ``TelegramForbiddenError``."""
    job = run.job
    where = Destination(job.chat_id, run.media.message_id, job.message_thread_id)
    upload = FSInputFile(output, filename=f"artisto-{job.style}{output.suffix}")
    try:
        return await send_painting(
            bot, where, run.kind, upload, job_id=job.id, pack=run.pack, texts=run.texts
        )
    except TelegramForbiddenError:
        raise
    except TelegramAPIError as exc:
        raise UploadFailed(exc.message) from exc


class Delivery:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        outputs: ResultFiles,
        metrics: BotMetrics,
        lease_s: float,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.outputs = outputs
        self.metrics = metrics
        self.lease_s = lease_s

    async def deliver(self, run: ClaimedJob, output: Path) -> None:
        """Fence, send, record; raises ``LeaseLost`` (nothing sent) when the fence fails."""
        await self._fence(run)
        checked = time.monotonic()
        with stage(run.timings, "upload_ms"):
            sent = await send(self.bot, run, output)
        answered = time.monotonic()
        self.metrics.delivery_window(answered - checked, overrun=answered > run.lease.held_until)
        await self._record(run, sent, output)

    async def _fence(self, run: ClaimedJob) -> None:
        claim, lease = run.lease.claim, timedelta(seconds=self.lease_s)
        asked = time.monotonic()
        fenced = await in_transaction(
            self.sessions, lambda repos: repos.leases.fence(claim, lease), what="job.fence"
        )
        if fenced is None:
            self.metrics.delivery_fenced()
            raise LeaseLost(f"job {claim.job_id} is no longer this worker's (try {claim.attempt})")
        run.lease.held_until = max(run.lease.held_until, asked + self.lease_s)

    async def _record(self, run: ClaimedJob, sent: Sent, output: Path) -> None:
        """The result row and the job done in one transaction, then the latency counted and
        the file copied in under the result's id. The row is stored even when the job is no
        longer this worker's (cancelled during the send): the result did reach the chat."""
        job, media, timings = run.job, run.media, run.timings

        async def record(repos: Repos) -> tuple[int, float | None]:
            result = await repos.results.add(
                job_id=job.id,
                source_unique_id=media.file_unique_id,
                style=job.style,
                kind=run.kind,
                file_id=sent.file_id,
                file_unique_id=sent.file_unique_id,
                size_bytes=sent.size_bytes,
            )
            done = await repos.jobs.mark_done(
                job.id,
                download_ms=timings.download_ms,
                inference_ms=timings.inference_ms,
                upload_ms=timings.upload_ms,
                claim=run.lease.claim,
            )
            if done is None or done.finished_at is None:
                return result.id, None
            return result.id, (done.finished_at - done.created_at).total_seconds()

        result_id, latency = await in_transaction(self.sessions, record, what="job.record")
        if latency is not None:
            self.metrics.job_done(media.kind, latency, timings.by_stage())
        await asyncio.to_thread(self.outputs.keep, result_id, output, output.suffix)
