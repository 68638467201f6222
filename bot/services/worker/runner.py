"""One claimed job, from its row to the result in the user's chat, and how it ends.

Download -> photo or video pipeline through the inference pool -> fenced reply in the same
kind -> result stored (its file_id is the cache) -> status message deleted. A failure is
recorded with its reason category and told to the user, if the job is still this worker's;
a cancel by the user is told on the status message; a job found to be someone else's at the
fence ends without a word. What concerns the claim itself (a shutdown, a full pool, a lost
lease, the database away) is left to the caller: ``asyncio.CancelledError``, ``QueueFull``
and ``DatabaseAway`` pass through.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.utils.chat_action import ChatActionSender
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from artisto.errors import ArtistoError, JobTimeout, QueueFull
from bot.config import Settings
from bot.db import Job, Repos
from bot.db.retry import in_transaction, is_disconnect
from bot.services.apology import apologise
from bot.services.delivery import CHAT_ACTION, RESULT_KIND
from bot.services.errors import UserBlockedBot
from bot.services.intake import VIDEO_KINDS, IntakeLimits
from bot.services.metrics import BotMetrics
from bot.services.outputs import ResultFiles
from bot.services.people import mark_blocked, texts_of
from bot.services.status import MessageRef, StatusBoard
from bot.services.worker.claimed import ClaimedJob, Timings, stage
from bot.services.worker.deliver import Delivery, LeaseLost
from bot.services.worker.download import download
from bot.services.worker.lease import Lease
from bot.services.worker.progress import ProgressReporter
from bot.services.worker.stylize import Stylist
from inference.pool import InferencePool
from inference.registry import StyleRegistry

log = logging.getLogger(__name__)


class DatabaseAway(Exception):
    """The database connection broke under the job: not the job's fault, so it goes back to
    the queue rather than failing."""


class JobRunner:
    def __init__(
        self,
        *,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        pool: InferencePool,
        registry: StyleRegistry,
        settings: Settings,
        status: StatusBoard,
        outputs: ResultFiles,
        metrics: BotMetrics,
        lease_s: float,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.registry = registry
        self.settings = settings
        self.status = status
        self.metrics = metrics
        self.intake_limits = IntakeLimits.from_settings(settings)
        self.work_dir = settings.data_dir / "work"
        self.stylist = Stylist(pool, settings, self.intake_limits)
        self.progress = ProgressReporter(sessions, status)
        self.delivery = Delivery(bot, sessions, outputs, metrics, lease_s)

    async def run(self, job: Job, lease: Lease, *, stopped_by_user: Callable[[], bool]) -> None:
        """Run ``job`` under ``lease`` to its end: done, failed or cancelled by its user
        (``stopped_by_user()`` says which cancellation is theirs)."""
        run: ClaimedJob | None = None
        try:
            run = await self._prepare(job, lease)
            async with asyncio.timeout(self.settings.inference.job_timeout_s):
                await self._execute(run)
        except asyncio.CancelledError:
            if not stopped_by_user():
                raise
            await self._tell_cancelled(job, run)
        except QueueFull:
            raise
        except LeaseLost:
            log.warning("job.fenced", extra={"job_id": job.id, "try": lease.claim.attempt})
        except TimeoutError:
            await self._fail(job, lease, run, JobTimeout("the job ran out of time"))
        except TelegramForbiddenError:
            await mark_blocked(self.sessions, job.user_id)
            await self._fail(job, lease, run, UserBlockedBot("the user blocked the bot"))
        except ArtistoError as exc:
            await self._fail(job, lease, run, exc)
        except Exception as exc:
            if is_disconnect(exc):
                raise DatabaseAway(str(exc)) from exc
            log.exception("job.crashed", extra={"job_id": job.id})
            await self._fail(job, lease, run, exc)

    async def _prepare(self, job: Job, lease: Lease) -> ClaimedJob:
        async with self.sessions() as session:
            repos = Repos(session)
            media = await repos.media.get(job.media_id)
            texts = await texts_of(repos, job.user_id, self.settings.bot.default_language)
        if media is None:  # deleted with its chat: nobody to answer
            raise ArtistoError(f"media {job.media_id} of job {job.id} is gone")
        status = MessageRef(job.chat_id, job.status_message_id) if job.status_message_id else None
        pack = self.registry.get(job.style)
        return ClaimedJob(job, lease, media, pack, texts, status, RESULT_KIND[media.kind])

    async def _execute(self, run: ClaimedJob) -> None:
        job, timings = run.job, run.timings
        video = run.media.kind in VIDEO_KINDS
        self.progress.show(run, run.texts.stylizing_percent(0) if video else run.texts.stylizing)
        with tempfile.TemporaryDirectory(prefix=f"job{job.id}-", dir=self.work_dir) as tmp:
            folder = Path(tmp)
            async with ChatActionSender(
                bot=self.bot,
                chat_id=job.chat_id,
                message_thread_id=job.message_thread_id,
                action=CHAT_ACTION[run.kind],
            ):
                with stage(timings, "download_ms"):
                    source = await download(
                        self.bot, run.media, folder / "input", self.intake_limits
                    )
                with stage(timings, "inference_ms"):
                    output = await (
                        self.stylist.video(run, source, folder, self.progress.reporter(run))
                        if video
                        else self.stylist.photo(run, source, folder)
                    )
                await self.delivery.deliver(run, output)
        log.info("job.done", extra={"job_id": job.id, "kind": run.kind.value, **asdict(timings)})
        if run.status is not None:
            await self.status.finish(run.status, delete=True)

    async def _fail(
        self, job: Job, lease: Lease, run: ClaimedJob | None, error: BaseException
    ) -> None:
        """Record the failure and tell the user, if the job is still this worker's."""
        code = error.code if isinstance(error, ArtistoError) else "internal"
        log.warning("job.failed", extra={"job_id": job.id, "code": code, "error": str(error)[:500]})
        timings = run.timings if run is not None else Timings()
        try:
            failed = await in_transaction(
                self.sessions,
                lambda repos: repos.jobs.mark_failed(
                    job.id,
                    code,
                    download_ms=timings.download_ms,
                    inference_ms=timings.inference_ms,
                    upload_ms=timings.upload_ms,
                    claim=lease.claim,
                ),
                what="job.fail",
            )
            if failed is None:
                log.warning("job.failure_not_ours", extra={"job_id": job.id})
                return
            self.metrics.job_failed(run.media.kind if run is not None else None, code)
            if not isinstance(error, UserBlockedBot):
                await apologise(self.bot, self.sessions, self.status, self.settings, job, code)
        except Exception:
            log.exception("job.fail_not_recorded", extra={"job_id": job.id})

    async def _tell_cancelled(self, job: Job, run: ClaimedJob | None) -> None:
        log.info("job.stopped_by_user", extra={"job_id": job.id})
        self.metrics.job_cancelled(run.media.kind if run is not None else None)
        if run is not None and run.status is not None:
            await self.status.finish(run.status, run.texts.cancelled)
