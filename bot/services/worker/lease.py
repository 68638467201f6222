"""A worker's leases: renewed while its jobs run, and the jobs it lost stopped; and the sweep
that puts back the jobs of workers that went silent, wherever they ran.

Every ``lease_s / 3`` the keeper renews the leases of the jobs this worker runs, in one
statement. A job missing from the answer was cancelled (its task is stopped and the user
told), or was put back after the lease lapsed (its task is stopped without a word: another
worker has it now), or has just been finished by its own task (left alone). Each tick also
sweeps the whole queue for lapsed leases, so a dead worker's jobs come back within a lease
and a tick, whoever notices first.

Between renewals the worker trusts its lease by its own clock (``Lease.held``): a worker
stalled past its lease stops showing progress before it even asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Job, JobStatus, Repos
from bot.db.repositories import Claim
from bot.db.retry import in_transaction

log = logging.getLogger(__name__)

TICKS_PER_LEASE = 3


@dataclass
class Lease:
    """A claim as its worker sees it: trusted until ``held_until`` (monotonic seconds)."""

    claim: Claim
    held_until: float

    @classmethod
    def taken(cls, claim: Claim, lease_s: float, at: float) -> Lease:
        return cls(claim, at + lease_s)

    def held(self) -> bool:
        return time.monotonic() < self.held_until


Lost = Callable[[int, bool], None]
"""Called with a job id this worker no longer holds, and whether its user cancelled it."""


class LeaseKeeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        lease_s: float,
        leases: Callable[[], Mapping[int, Lease]],
        lost: Lost,
        sweep: Callable[[], Awaitable[object]],
    ) -> None:
        self.sessions = sessions
        self.lease_s = lease_s
        self.leases = leases
        self.lost = lost
        self.sweep = sweep
        self._task: asyncio.Task[None] | None = None

    @property
    def interval_s(self) -> float:
        return self.lease_s / TICKS_PER_LEASE

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="lease-keeper")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("lease.tick_failed")
            await asyncio.sleep(self.interval_s)

    async def tick(self) -> None:
        """Renew, stop what was lost, then sweep the fleet's lapsed leases."""
        await self.renew()
        await self.sweep()

    async def renew(self) -> None:
        leases = dict(self.leases())
        if not leases:
            return
        asked = time.monotonic()
        claims = [lease.claim for lease in leases.values()]
        lease = timedelta(seconds=self.lease_s)

        async def renew(repos: Repos) -> tuple[set[int], list[Job]]:
            held = await repos.leases.renew(claims, lease)
            return held, await repos.jobs.get_many([i for i in leases if i not in held])

        held, gone = await in_transaction(self.sessions, renew, what="lease.renew")
        for job_id, current in leases.items():
            if job_id in held:
                current.held_until = asked + self.lease_s
        for job in gone:
            ended = job.status in (JobStatus.DONE, JobStatus.FAILED)
            if ended and Claim.of(job) == leases[job.id].claim:
                continue  # done or failed by its own task, which is ending
            cancelled = job.status == JobStatus.CANCELLED
            log.info("lease.lost", extra={"job_id": job.id, "status": job.status.value})
            self.lost(job.id, cancelled)
