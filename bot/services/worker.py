"""The job worker: claims jobs from the database and runs them, a few at a time.

Download -> photo or video pipeline through the inference pool -> reply in the same kind ->
result stored (its file_id is the cache) -> status message deleted. The database is the
queue: the worker only ever holds jobs it claimed, a failure is recorded with its reason
category and told to the user, and at shutdown jobs still running go back to the queue
without spending an attempt. So does a job that finds the inference pool full: the pool's
``QueueFull`` is a moment's overload, not the job's fault, so the job waits in the queue and
the worker claims nothing for ``busy_retry_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
import numpy as np
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import FSInputFile
from aiogram.utils.chat_action import ChatActionSender
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from artisto.errors import ArtistoError, JobTimeout, QueueFull
from bot.config import Settings
from bot.db import Job, JobStatus, Media, MediaKind, Repos, ResultKind
from bot.i18n import Texts
from bot.keyboards import result_keyboard, status_keyboard
from bot.services.delivery import CHAT_ACTION, RESULT_KIND, Destination, Sent, send_result
from bot.services.errors import DownloadFailed, FileTooLarge, UploadFailed, UserBlockedBot
from bot.services.intake import MB, VIDEO_KINDS, IntakeLimits
from bot.services.metrics import BotMetrics
from bot.services.outputs import ResultFiles
from bot.services.people import mark_blocked, texts_of
from bot.services.status import MessageRef, StatusBoard
from inference.media.video import VideoKind, VideoLimits, VideoOptions, stylize_video_async
from inference.photo import PhotoOptions, stylize_photo_async
from inference.pool import InferencePool, Priority
from inference.registry import StylePack, StyleRegistry

log = logging.getLogger(__name__)

VIDEO_KIND: dict[MediaKind, VideoKind] = {
    MediaKind.VIDEO: "video",
    MediaKind.VIDEO_DOCUMENT: "video",
    MediaKind.ANIMATION: "animation",
    MediaKind.VIDEO_NOTE: "video_note",
}
AsyncStylize = Callable[[np.ndarray], Awaitable[np.ndarray]]
PROGRESS_DB_INTERVAL_S = 5.0
REFRESH_LIMIT = 20
"""Queued jobs whose position is kept current on their status message, per process."""


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 2
    poll_interval_s: float = 2.0
    """How often the queue is looked at when nothing woke the worker (other processes)."""
    shutdown_grace_s: float = 10.0
    busy_retry_s: float = 5.0
    """Pause in claiming after the inference pool answered a job with ``QueueFull``."""


@dataclass
class Timings:
    """Milliseconds per stage; None for a stage not reached."""

    download_ms: int | None = None
    inference_ms: int | None = None
    upload_ms: int | None = None

    def by_stage(self) -> dict[str, int | None]:
        return {
            "download": self.download_ms,
            "inference": self.inference_ms,
            "upload": self.upload_ms,
        }


@dataclass
class _Run:
    """One claimed job on its way."""

    job: Job
    media: Media
    pack: StylePack
    texts: Texts
    status: MessageRef | None
    kind: ResultKind
    timings: Timings = field(default_factory=Timings)


@dataclass
class _Waiting:
    status: MessageRef
    user_id: int
    ahead: int | None = None


class JobWorker:
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
        config: WorkerConfig | None = None,
        metrics: BotMetrics | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.pool = pool
        self.registry = registry
        self.settings = settings
        self.status = status
        self.outputs = outputs
        self.config = config or WorkerConfig()
        self.metrics = metrics or BotMetrics()
        self.intake_limits = IntakeLimits.from_settings(settings)
        self.work_dir = settings.data_dir / "work"
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        self._claiming = False
        self._loop_task: asyncio.Task[None] | None = None
        self._running: dict[int, asyncio.Task[None]] = {}
        self._user_cancelled: set[int] = set()
        self._waiting: dict[int, _Waiting] = {}
        self._refresh_task: asyncio.Task[None] | None = None
        self._refresh_again = False
        self._background: set[asyncio.Task[None]] = set()
        self._resume_at = 0.0
        """monotonic time before which nothing is claimed (the pool said it is full)."""

    # --- what the rest of the bot tells the worker -------------------------------------

    def job_queued(self, job: Job, status: MessageRef) -> None:
        if len(self._waiting) < REFRESH_LIMIT:
            self._waiting[job.id] = _Waiting(status, job.user_id)
        self.wake()

    def job_cancelled(self, job_id: int) -> None:
        self._waiting.pop(job_id, None)
        task = self._running.get(job_id)
        if task is not None:
            self._user_cancelled.add(job_id)
            task.cancel()

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> int:
        return len(self._running)

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._loop_task = asyncio.create_task(self._loop(), name="job-worker")
        log.info("worker.started", extra={"concurrency": self.config.concurrency})

    async def stop(self) -> None:
        """Claim nothing more; give running jobs the grace period, then re-queue the rest."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            # Waiting for a free slot or for work: stop now. Inside a claim: let it finish,
            # so a job is never claimed without a task to run (or release) it.
            if not self._claiming:
                self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        running = list(self._running.values())
        if running:
            _, late = await asyncio.wait(running, timeout=self.config.shutdown_grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._refresh_task is not None:
            self._refresh_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh_task
        log.info("worker.stopped", extra={"running_at_stop": len(running)})

    async def _loop(self) -> None:
        while not self._stopping:
            await self._slots.acquire()
            await self._wait_for_room()
            job = None
            try:
                if not self._stopping:
                    self._claiming = True
                    job = await self._claim()
            except Exception:
                log.exception("worker.claim_failed")
            finally:
                self._claiming = False
            if job is None:
                self._slots.release()
                await self._idle()
                continue
            self._waiting.pop(job.id, None)
            task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
            self._running[job.id] = task
            task.add_done_callback(functools.partial(self._finished, job.id))
            self._request_refresh()

    def _finished(self, job_id: int, _task: asyncio.Task[None]) -> None:
        self._running.pop(job_id, None)
        self._user_cancelled.discard(job_id)
        self._slots.release()

    async def _wait_for_room(self) -> None:
        """Hold claims while the pool is known to be full; ``stop`` cancels the wait."""
        pause = self._resume_at - time.monotonic()
        if pause > 0 and not self._stopping:
            await asyncio.sleep(pause)

    async def _idle(self) -> None:
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_s)
        self._wake.clear()

    async def _claim(self) -> Job | None:
        async with self.sessions.begin() as session:
            job = await Repos(session).jobs.claim_next()
        if job is not None:
            log.info(
                "job.claimed", extra={"job_id": job.id, "style": job.style, "try": job.attempts}
            )
        return job

    # --- one job -------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        run: _Run | None = None
        try:
            run = await self._prepare(job)
            async with asyncio.timeout(self.settings.inference.job_timeout_s):
                await self._execute(run)
        except asyncio.CancelledError:
            if job.id in self._user_cancelled:
                await self._tell_cancelled(job, run)
                return
            await self._release(job, "shutdown")
            raise
        except QueueFull:
            self._resume_at = time.monotonic() + self.config.busy_retry_s
            await self._release(job, "busy")
            if run is not None and run.status is not None:
                self.job_queued(job, run.status)
                self._request_refresh()
        except TimeoutError:
            await self._fail(job, run, JobTimeout("the job ran out of time"))
        except TelegramForbiddenError:
            await mark_blocked(self.sessions, job.user_id)
            await self._fail(job, run, UserBlockedBot("the user blocked the bot"))
        except ArtistoError as exc:
            await self._fail(job, run, exc)
        except Exception as exc:
            log.exception("job.crashed", extra={"job_id": job.id})
            await self._fail(job, run, exc)

    async def _prepare(self, job: Job) -> _Run:
        async with self.sessions() as session:
            repos = Repos(session)
            media = await repos.media.get(job.media_id)
            texts = await texts_of(repos, job.user_id, self.settings.bot.default_language)
        if media is None:  # deleted with its chat: nobody to answer
            raise ArtistoError(f"media {job.media_id} of job {job.id} is gone")
        status = MessageRef(job.chat_id, job.status_message_id) if job.status_message_id else None
        pack = self.registry.get(job.style)
        return _Run(job, media, pack, texts, status, RESULT_KIND[media.kind])

    async def _execute(self, run: _Run) -> None:
        job, media = run.job, run.media
        video = media.kind in VIDEO_KINDS
        self._show(run, run.texts.stylizing_percent(0) if video else run.texts.stylizing)
        with tempfile.TemporaryDirectory(prefix=f"job{job.id}-", dir=self.work_dir) as tmp:
            folder = Path(tmp)
            async with ChatActionSender(
                bot=self.bot,
                chat_id=job.chat_id,
                message_thread_id=job.message_thread_id,
                action=CHAT_ACTION[run.kind],
            ):
                with _stage(run, "download_ms"):
                    source = await self._download(media, folder / "input")
                with _stage(run, "inference_ms"):
                    output = await (
                        self._stylize_video(run, source, folder)
                        if video
                        else self._stylize_photo(run, source, folder)
                    )
                with _stage(run, "upload_ms"):
                    sent = await self._send(run, output)
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
                    download_ms=run.timings.download_ms,
                    inference_ms=run.timings.inference_ms,
                    upload_ms=run.timings.upload_ms,
                )
            if done is not None and done.finished_at is not None:
                latency = (done.finished_at - done.created_at).total_seconds()
                self.metrics.job_done(media.kind, latency, run.timings.by_stage())
            await asyncio.to_thread(self.outputs.keep, result.id, output, output.suffix)
        log.info(
            "job.done", extra={"job_id": job.id, "kind": run.kind.value, **asdict(run.timings)}
        )
        if run.status is not None:
            await self.status.finish(run.status, delete=True)

    async def _download(self, media: Media, dest: Path) -> Path:
        limits = self.intake_limits
        try:
            file = await self.bot.get_file(media.file_id)
            if file.file_size is not None and file.file_size > limits.max_bytes:
                raise FileTooLarge(limits.max_mb)
            if file.file_path is None:
                raise DownloadFailed("Telegram gave no path for the file")
            await self.bot.download_file(file.file_path, destination=dest)
        except TelegramBadRequest as exc:
            if "too big" in exc.message:
                raise FileTooLarge(limits.max_mb) from None
            raise DownloadFailed(exc.message) from exc
        except (TelegramAPIError, aiohttp.ClientError, OSError) as exc:
            raise DownloadFailed(str(exc)) from exc
        return dest

    def _stylizer(
        self, run: _Run, priority: Priority
    ) -> Callable[[np.ndarray], Awaitable[np.ndarray]]:
        job = run.job

        def stylize(frames: np.ndarray) -> Awaitable[np.ndarray]:
            return self.pool.stylize(job.style, frames, user_id=job.user_id, priority=priority)

        return stylize

    async def _stylize_photo(self, run: _Run, source: Path, folder: Path) -> Path:
        png = run.kind == ResultKind.DOCUMENT and run.media.mime_type == "image/png"
        options = PhotoOptions(
            max_side=self.settings.inference.max_side,
            work_side=run.pack.meta.work_side,
            fmt="png" if png else "jpeg",
            quality=self.settings.inference.jpeg_quality,
            max_megapixels=self.settings.limits.max_megapixels,
        )
        result = await stylize_photo_async(source, self._stylizer(run, Priority.PHOTO), options)
        output = folder / ("result.png" if png else "result.jpg")
        await asyncio.to_thread(output.write_bytes, result.data)
        return output

    async def _stylize_video(self, run: _Run, source: Path, folder: Path) -> Path:
        settings = self.settings
        upload_mb = 2000 if settings.bot.api_local_mode else settings.limits.max_upload_mb
        options = VideoOptions(
            limits=VideoLimits(
                max_seconds=settings.limits.max_video_seconds,
                max_video_note_seconds=settings.limits.max_video_note_seconds,
                max_input_bytes=self.intake_limits.max_bytes,
                max_fps=settings.limits.max_fps,
            ),
            max_side=settings.inference.video_max_side,
            crf=settings.inference.video_crf,
            preset=settings.inference.video_preset,
            max_output_bytes=upload_mb * MB,
            temporal_pass=settings.inference.temporal_pass,
        )
        output = folder / "result.mp4"
        await stylize_video_async(
            source,
            output,
            self._stylizer(run, Priority.VIDEO),
            kind=VIDEO_KIND[run.media.kind],
            options=options,
            progress=self._progress_reporter(run),
        )
        return output

    def _progress_reporter(self, run: _Run) -> Callable[[int, int], None]:
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
            self._show(run, run.texts.stylizing_percent(percent))
            if time.monotonic() - last_saved >= PROGRESS_DB_INTERVAL_S:
                last_saved = time.monotonic()
                task = asyncio.create_task(self._save_progress(run.job.id, percent))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

        return report

    async def _save_progress(self, job_id: int, percent: int) -> None:
        try:
            async with self.sessions.begin() as session:
                await Repos(session).jobs.set_progress(job_id, percent)
        except Exception:
            log.warning("job.progress_not_saved", extra={"job_id": job_id}, exc_info=True)

    async def _send(self, run: _Run, output: Path) -> Sent:
        job, pack = run.job, run.pack
        caption = run.texts.result_caption(
            pack.meta.emoji, pack.meta.title, pack.meta.artist, pack.meta.year
        )
        where = Destination(job.chat_id, run.media.message_id, job.message_thread_id)
        upload = FSInputFile(output, filename=f"artisto-{job.style}{output.suffix}")
        try:
            return await send_result(
                self.bot,
                where,
                run.kind,
                upload,
                caption=caption,
                markup=result_keyboard(job.id, run.kind, job.style, run.texts),
            )
        except TelegramForbiddenError:
            raise
        except TelegramAPIError as exc:
            raise UploadFailed(exc.message) from exc

    def _show(self, run: _Run, text: str) -> None:
        if run.status is not None:
            self.status.update(run.status, text, status_keyboard(run.job.id, run.texts))

    # --- endings -------------------------------------------------------------------------

    async def _fail(self, job: Job, run: _Run | None, error: BaseException) -> None:
        code = error.code if isinstance(error, ArtistoError) else "internal"
        log.warning("job.failed", extra={"job_id": job.id, "code": code, "error": str(error)[:500]})
        self.metrics.job_failed(run.media.kind if run is not None else None, code)
        try:
            timings = run.timings if run is not None else Timings()
            async with self.sessions.begin() as session:
                await Repos(session).jobs.mark_failed(
                    job.id,
                    code,
                    download_ms=timings.download_ms,
                    inference_ms=timings.inference_ms,
                    upload_ms=timings.upload_ms,
                )
            if not isinstance(error, UserBlockedBot):
                await apologise(self.bot, self.sessions, self.status, self.settings, job, code)
        except Exception:
            log.exception("job.fail_not_recorded", extra={"job_id": job.id})

    async def _tell_cancelled(self, job: Job, run: _Run | None) -> None:
        log.info("job.stopped_by_user", extra={"job_id": job.id})
        self.metrics.job_cancelled(run.media.kind if run is not None else None)
        if run is not None and run.status is not None:
            await self.status.finish(run.status, run.texts.cancelled)

    async def _release(self, job: Job, reason: str) -> None:
        """Shutdown or a full pool: back to the queue, the attempt not counted."""
        try:
            async with self.sessions.begin() as session:
                await Repos(session).jobs.release(job.id)
            self.metrics.job_requeued(reason)
            log.info("job.released", extra={"job_id": job.id, "reason": reason})
        except Exception:
            log.exception("job.release_failed", extra={"job_id": job.id})

    # --- queue positions -----------------------------------------------------------------

    def _request_refresh(self) -> None:
        if not self._waiting:
            return
        if self._refresh_task is not None and not self._refresh_task.done():
            self._refresh_again = True
            return
        self._refresh_task = asyncio.create_task(self._refresh_positions())

    async def _refresh_positions(self) -> None:
        """Show each waiting job (of this process) its new place after a claim."""
        self._refresh_again = True
        while self._refresh_again and self._waiting:
            self._refresh_again = False
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
                texts = await texts_of(repos, job.user_id, self.settings.bot.default_language)
                self.status.update(
                    waiting.status, texts.queued(ahead), status_keyboard(job.id, texts)
                )


async def apologise(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    status: StatusBoard,
    settings: Settings,
    job: Job,
    code: str,
) -> None:
    """Tell the user that ``job`` failed and why (its reason category): on its status
    message, or as a reply to the media when that message is gone."""
    async with sessions() as session:
        repos = Repos(session)
        texts = await texts_of(repos, job.user_id, settings.bot.default_language)
        media = await repos.media.get(job.media_id)
    text = texts.failure(code)
    if job.status_message_id is not None and await status.finish(
        MessageRef(job.chat_id, job.status_message_id), text
    ):
        return
    if media is None:
        return
    try:
        await bot.send_message(
            job.chat_id,
            text,
            message_thread_id=job.message_thread_id,
            reply_parameters=Destination(job.chat_id, media.message_id).reply,
        )
    except TelegramForbiddenError:
        await mark_blocked(sessions, job.user_id)
    except TelegramAPIError as exc:
        log.warning("job.apology_lost", extra={"job_id": job.id, "error": repr(exc)})


@contextlib.contextmanager
def _stage(run: _Run, name: str) -> Iterator[None]:
    """Time a stage into ``run.timings[name]`` in milliseconds, even when it fails."""
    started = time.perf_counter()
    try:
        yield
    finally:
        setattr(run.timings, name, round((time.perf_counter() - started) * 1000))
