"""Job leases: how a worker takes a job, keeps it, checks it still has it, and gives it back;
and how a job whose worker went silent returns to the queue.

A claimed job records its worker and a deadline (``lease_until``); the worker renews the
deadline while it runs. Past the deadline whichever process notices first puts the job back
in the queue (the try it had counts) or fails it for good after ``max_attempts``. A claim is
named by its worker and its try (``Claim``): every statement here is one conditional UPDATE
on both, so a worker whose job was put back and taken again, even by itself, changes nothing
with its old claim, and learns so from the answer. A lapsed lease that nobody has put back
yet is still its worker's: the sweep and the worker's renewal are both conditional, so only
one of them wins.

Deadlines come from the clock of the process that writes them: hosts keep their clocks in
step (NTP), and a lease of tens of seconds dwarfs their usual drift.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, or_, select, tuple_

from bot.db.models import Job, JobStatus, utcnow
from bot.db.repositories.base import Repository
from bot.db.repositories.claims import RETURNING_JOBS, Claim, held, move

ATTEMPTS_EXHAUSTED = "attempts_exhausted"
"""error_code of a job whose worker died with it too many times."""


class Recovered(NamedTuple):
    requeued: list[int]
    failed: list[int]


class LeaseRepo(Repository):
    async def claim_next(
        self,
        worker: str,
        lease: timedelta,
        *,
        styles: Collection[str] | None = None,
        now: datetime | None = None,
    ) -> Job | None:
        """Take the first queued job (by priority, then id) in one of ``styles`` (any style
        when None): it becomes running, held by ``worker`` for ``lease``, one more try.

        One statement, so it is atomic: on SQLite the write lock serialises claimers; on
        PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets concurrent claimers pass over a row
        another is taking instead of waiting for it or taking it twice. Commit promptly.
        """
        now = now or utcnow()
        queued = Job.status == JobStatus.QUEUED
        if styles is not None:
            queued = and_(queued, Job.style.in_(list(styles)))
        first = (
            select(Job.id)
            .where(queued)
            .order_by(Job.priority, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)  # rendered as nothing on SQLite
            .scalar_subquery()
        )
        stmt = move(
            and_(Job.id == first, Job.status == JobStatus.QUEUED),
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            started_at=now,
            progress=0,
            worker_id=worker,
            lease_until=now + lease,
        )
        return (await self.session.scalars(stmt, execution_options=RETURNING_JOBS)).first()

    async def renew(
        self, claims: Iterable[Claim], lease: timedelta, *, now: datetime | None = None
    ) -> set[int]:
        """Push the deadline of these claims' jobs to ``now + lease``; returns the ids still
        held. One missing was cancelled, or its lease lapsed and it was put back."""
        claims = list(claims)
        if not claims:
            return set()
        now = now or utcnow()
        stmt = move(
            and_(
                Job.status == JobStatus.RUNNING,
                tuple_(Job.id, Job.worker_id, Job.attempts).in_([tuple(c) for c in claims]),
            ),
            lease_until=now + lease,
        )
        return {
            job.id for job in await self.session.scalars(stmt, execution_options=RETURNING_JOBS)
        }

    async def fence(
        self, claim: Claim, lease: timedelta, *, now: datetime | None = None
    ) -> Job | None:
        """The check before a result leaves: the claim still holds its job. If so, note that
        the result is on its way (``delivering_at``) and extend the lease by ``lease``, the
        time the send may take; None means: send nothing."""
        now = now or utcnow()
        stmt = move(held(claim), lease_until=now + lease, delivering_at=now)
        return (await self.session.scalars(stmt, execution_options=RETURNING_JOBS)).first()

    async def release(self, claim: Claim) -> bool:
        """running -> queued without spending an attempt: a graceful shutdown, a full pool.
        False when the claim no longer held the job."""
        stmt = move(
            held(claim),
            status=JobStatus.QUEUED,
            attempts=Job.attempts - 1,  # claim_next counted this try; running means >= 1
            started_at=None,
            progress=0,
            lease_until=None,
        )
        found = await self.session.scalars(stmt, execution_options=RETURNING_JOBS)
        return found.first() is not None

    async def requeue_lapsed(
        self, max_attempts: int, *, every_running: bool = False, now: datetime | None = None
    ) -> Recovered:
        """Running jobs whose lease lapsed (or that have none, from before leases) go back
        to the queue, their try spent; those that had ``max_attempts`` tries fail for good,
        since they may be what kills their workers.

        ``every_running`` takes every running job, lease or not: for the single process of
        a SQLite database at its start, when no other process can be running anything.
        """
        now = now or utcnow()
        lapsed = Job.status == JobStatus.RUNNING
        if not every_running:
            lapsed = and_(lapsed, or_(Job.lease_until.is_(None), Job.lease_until < now))
        failed = await self.session.scalars(
            move(
                and_(lapsed, Job.attempts >= max_attempts),
                status=JobStatus.FAILED,
                error_code=ATTEMPTS_EXHAUSTED,
                finished_at=now,
                lease_until=None,
            ),
            execution_options=RETURNING_JOBS,
        )
        failed_ids = sorted(job.id for job in failed)
        requeued = await self.session.scalars(
            move(lapsed, status=JobStatus.QUEUED, started_at=None, progress=0, lease_until=None),
            execution_options=RETURNING_JOBS,
        )
        return Recovered(sorted(job.id for job in requeued), failed_ids)
