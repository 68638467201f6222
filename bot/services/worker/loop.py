"""The claim loop: takes jobs from the database, a few at a time, and runs each in a task.

The database is the queue: the worker only ever holds jobs it claimed, each under a lease it
renews (``lease``), and gives back what it cannot finish. It claims only jobs in the styles
it has, so a worker without a new style leaves those jobs to one with it. At shutdown jobs
still running go back to the queue without spending an attempt. So does a job whose database
connection broke under it, and a job that finds the inference pool full: the pool's
``QueueFull`` is a moment's overload, not the job's fault, so the job waits in the queue and
the worker claims nothing for ``busy_retry_s``.

A signal wakes the loop when a job is queued anywhere in the fleet; without one it looks at
the queue every ``poll_interval_s``. A cancel signal for a job it runs stops that job.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from artisto.errors import QueueFull
from bot.config import Settings
from bot.db import Job, Repos
from bot.db.repositories import Claim
from bot.db.retry import in_transaction
from bot.services.metrics import BotMetrics
from bot.services.outputs import ResultFiles
from bot.services.signals import MOVED, QUEUED, Signal, Signals
from bot.services.status import StatusBoard
from bot.services.worker.lease import Lease, LeaseKeeper
from bot.services.worker.runner import DatabaseAway, JobRunner
from inference.pool import InferencePool
from inference.registry import StyleRegistry

log = logging.getLogger(__name__)

Stop = Literal["user", "lost"]


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 2
    poll_interval_s: float = 10.0
    """How often the queue is looked at when no signal woke the worker."""
    lease_s: float = 30.0
    shutdown_grace_s: float = 10.0
    busy_retry_s: float = 5.0
    """Pause in claiming after the inference pool answered a job with ``QueueFull``."""

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        worker = settings.worker
        return cls(
            concurrency=worker.concurrency, poll_interval_s=worker.poll_s, lease_s=worker.lease_s
        )


def new_worker_id() -> str:
    """This process's name in the jobs it claims: host, pid and a nonce (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(eq=False)
class _Running:
    lease: Lease
    stop: Stop | None = None
    """Why its task was cancelled, when it was not a shutdown."""
    task: asyncio.Task[None] | None = None

    def cancel(self, why: Stop) -> None:
        if self.stop is None and self.task is not None:
            self.stop = why
            self.task.cancel()


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
        signals: Signals,
        sweep: Callable[[], Awaitable[object]],
        config: WorkerConfig | None = None,
        metrics: BotMetrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.signals = signals
        self.styles = registry.names()
        self.config = config or WorkerConfig()
        self.metrics = metrics or BotMetrics()
        self.worker_id = new_worker_id()
        self.runner = JobRunner(
            bot=bot,
            sessions=sessions,
            pool=pool,
            registry=registry,
            settings=settings,
            status=status,
            outputs=outputs,
            metrics=self.metrics,
            lease_s=self.config.lease_s,
        )
        self.keeper = LeaseKeeper(
            sessions,
            self.config.lease_s,
            lambda: {job_id: running.lease for job_id, running in self._running.items()},
            self._lost,
            sweep,
        )
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        self._claiming = False
        self._loop_task: asyncio.Task[None] | None = None
        self._running: dict[int, _Running] = {}
        self._resume_at = 0.0
        """monotonic time before which nothing is claimed (the pool said it is full)."""
        signals.subscribe(self._heard)

    # --- what the rest of the fleet tells the worker -----------------------------------

    def _heard(self, signal: Signal) -> None:
        if signal.kind == "queued":
            self.wake()
        elif signal.kind == "cancel" and signal.job_id is not None:
            self.job_cancelled(signal.job_id)

    def job_cancelled(self, job_id: int) -> None:
        self._stop(job_id, "user")

    def _lost(self, job_id: int, cancelled: bool) -> None:
        self._stop(job_id, "user" if cancelled else "lost")

    def _stop(self, job_id: int, why: Stop) -> None:
        running = self._running.get(job_id)
        if running is not None:
            running.cancel(why)

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> int:
        return len(self._running)

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self.runner.work_dir.mkdir(parents=True, exist_ok=True)
        self.keeper.start()
        self._loop_task = asyncio.create_task(self._loop(), name="job-worker")
        log.info(
            "worker.started",
            extra={"worker": self.worker_id, "concurrency": self.config.concurrency},
        )

    async def stop(self) -> None:
        """Claim nothing more; give running jobs the grace period, then give back the rest."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            # Waiting for a free slot or for work: stop now. Inside a claim: let it finish,
            # so a job is never claimed without a task to run (or release) it.
            if not self._claiming:
                self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        tasks = [running.task for running in self._running.values() if running.task]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.config.shutdown_grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.keeper.aclose()
        log.info("worker.stopped", extra={"running_at_stop": len(tasks)})

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
            self._begin(job)
            await self.signals.publish(MOVED)

    def _begin(self, job: Job) -> None:
        superseded = self._running.get(job.id)
        if superseded is not None:  # put back while this worker was stalled: a new try
            superseded.cancel("lost")
        running = _Running(Lease.taken(Claim.of(job), self.config.lease_s, time.monotonic()))
        running.task = asyncio.create_task(self._run(job, running), name=f"job-{job.id}")
        self._running[job.id] = running
        running.task.add_done_callback(functools.partial(self._finished, job.id, running))

    def _finished(self, job_id: int, running: _Running, _task: asyncio.Task[None]) -> None:
        if self._running.get(job_id) is running:
            del self._running[job_id]
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
        lease = timedelta(seconds=self.config.lease_s)
        async with self.sessions.begin() as session:
            job = await Repos(session).leases.claim_next(self.worker_id, lease, styles=self.styles)
        if job is None:
            return None
        log.info("job.claimed", extra={"job_id": job.id, "style": job.style, "try": job.attempts})
        if job.delivering_at is not None:
            # An earlier try passed the lease check and may have sent its result already.
            self.metrics.delivery_retried()
            log.warning("job.retried_after_delivery_began", extra={"job_id": job.id})
        return job

    # --- one claimed job -----------------------------------------------------------------

    async def _run(self, job: Job, running: _Running) -> None:
        """The runner does the job; giving it back (shutdown, a full pool) or letting it go
        (lost) is the claim's business, so it happens here."""
        claim = running.lease.claim
        try:
            await self.runner.run(
                job, running.lease, stopped_by_user=lambda: running.stop == "user"
            )
        except asyncio.CancelledError:
            if running.stop == "lost":
                self.metrics.lease_lost()
                log.warning("job.lease_lost", extra={"job_id": job.id, "try": claim.attempt})
                return
            await self._release(claim, "shutdown")
            raise
        except QueueFull:
            self._resume_at = time.monotonic() + self.config.busy_retry_s
            await self._release(claim, "busy")
        except DatabaseAway as exc:
            log.warning("job.database_away", extra={"job_id": job.id, "error": str(exc)[:300]})
            await self._release(claim, "database")

    async def _release(self, claim: Claim, reason: str) -> None:
        """Shutdown or a full pool: back to the queue at once, the attempt not counted."""
        try:
            released = await in_transaction(
                self.sessions, lambda repos: repos.leases.release(claim), what="job.release"
            )
        except Exception:
            log.exception("job.release_failed", extra={"job_id": claim.job_id})
            return
        if released:
            self.metrics.job_requeued(reason)
            log.info("job.released", extra={"job_id": claim.job_id, "reason": reason})
            await self.signals.publish(QUEUED, MOVED)
