"""The finished result: sent to the user, then recorded (the result row, which is the cache
for the next request, and the job done) and its file kept for "Original quality".

Two steps: the upload alone is timed (while the chat shows "sending..."), and the record
follows once Telegram has accepted the file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import FSInputFile
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Repos
from bot.services.delivery import Destination, Sent, send_painting
from bot.services.errors import UploadFailed
from bot.services.metrics import BotMetrics
from bot.services.outputs import ResultFiles
from bot.services.worker.claimed import ClaimedJob


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


class ResultRecorder:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outputs: ResultFiles,
        metrics: BotMetrics,
    ) -> None:
        self.sessions = sessions
        self.outputs = outputs
        self.metrics = metrics

    async def record(self, run: ClaimedJob, sent: Sent, output: Path) -> None:
        """The result row and the job done in one transaction, then the latency counted and
        the file copied in under the result's id."""
        job, media, timings = run.job, run.media, run.timings
        async with self.sessions.begin() as session:
            repos = Repos(session)
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
            )
        if done is not None and done.finished_at is not None:
            latency = (done.finished_at - done.created_at).total_seconds()
            self.metrics.job_done(media.kind, latency, timings.by_stage())
        await asyncio.to_thread(self.outputs.keep, result.id, output, output.suffix)
