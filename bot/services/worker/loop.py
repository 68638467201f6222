"""The claim loop: takes jobs from the database, a few at a time, and runs each in a task.

The database is the queue: the worker only ever holds jobs it claimed, and gives back what
it cannot finish. At shutdown jobs still running go back to the queue without spending an
attempt. So does a job that finds the inference pool full: the pool's ``QueueFull`` is a
moment's overload, not the job's fault, so the job waits in the queue and the worker claims
nothing for ``busy_retry_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from artisto.errors import QueueFull
from bot.config import Settings
from bot.db import Job, Repos
from bot.services.metrics import BotMetrics
from bot.services.outputs import ResultFiles
from bot.services.status import MessageRef, StatusBoard
from bot.services.worker.positions import QueuePositions
from bot.services.worker.runner import JobRunner
from inference.pool import InferencePool
from inference.registry import StyleRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 2
    poll_interval_s: float = 2.0
    """How often the queue is looked at when nothing woke the worker (other processes)."""
    shutdown_grace_s: float = 10.0
    busy_retry_s: float = 5.0
    """Pause in claiming after the inference pool answered a job with ``QueueFull``."""


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
        self.sessions = sessions
        self.config = config or WorkerConfig()
        self.metrics = metrics or BotMetrics()
        self.runner = JobRunner(
            bot=bot,
            sessions=sessions,
            pool=pool,
            registry=registry,
            settings=settings,
            status=status,
            outputs=outputs,
            metrics=self.metrics,
        )
        self.positions = QueuePositions(sessions, status, settings.bot.default_language)
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        self._claiming = False
        self._loop_task: asyncio.Task[None] | None = None
        self._running: dict[int, asyncio.Task[None]] = {}
        self._user_cancelled: set[int] = set()
        self._resume_at = 0.0
        """monotonic time before which nothing is claimed (the pool said it is full)."""

    # --- what the rest of the bot tells the worker -------------------------------------

    def job_queued(self, job: Job, status: MessageRef) -> None:
        self.positions.watch(job, status)
        self.wake()

    def job_cancelled(self, job_id: int) -> None:
        self.positions.forget(job_id)
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
        self.runner.work_dir.mkdir(parents=True, exist_ok=True)
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
        await self.positions.aclose()
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
            self.positions.forget(job.id)
            task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
            self._running[job.id] = task
            task.add_done_callback(functools.partial(self._finished, job.id))
            self.positions.refresh()

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

    # --- one claimed job -----------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        """The runner does the job; giving it back (shutdown, a full pool) is the claim's
        business, so it happens here."""
        try:
            await self.runner.run(job, stopped_by_user=lambda: job.id in self._user_cancelled)
        except asyncio.CancelledError:
            await self._release(job, "shutdown")
            raise
        except QueueFull:
            self._resume_at = time.monotonic() + self.config.busy_retry_s
            await self._release(job, "busy")
            if job.status_message_id:
                self.job_queued(job, MessageRef(job.chat_id, job.status_message_id))
                self.positions.refresh()

    async def _release(self, job: Job, reason: str) -> None:
        """Shutdown or a full pool: back to the queue, the attempt not counted."""
        try:
            async with self.sessions.begin() as session:
                await Repos(session).jobs.release(job.id)
            self.metrics.job_requeued(reason)
            log.info("job.released", extra={"job_id": job.id, "reason": reason})
        except Exception:
            log.exception("job.release_failed", extra={"job_id": job.id})
