"""The durable queue: a job accepted is a row, and only these operations move it.

States: queued -> running -> done | failed | cancelled (and running -> queued when its lease
lapses or its worker gives it back; see ``leases``). Every transition is a single conditional
UPDATE, so two workers, or a worker and a user's /cancel, cannot both move the same job: the
loser's UPDATE matches no row and says so. A worker's own transitions name its claim,
so one that lost its claim moves nothing.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from bot.db.models import ACTIVE_STATUSES, Job, JobStatus, Media, MediaKind, utcnow
from bot.db.repositories.base import Repository
from bot.db.repositories.claims import RETURNING_JOBS, Claim, held, move


@dataclass(frozen=True)
class JobStats:
    """What /stats shows: the queue now and the jobs finished within ``window``."""

    queued: int
    running: int
    window: timedelta
    done: int
    failed: int
    cancelled: int
    median_latency_s: dict[MediaKind, float] = field(default_factory=dict)
    failures_by_code: dict[str, int] = field(default_factory=dict)

    @property
    def jobs_per_hour(self) -> float:
        return self.done / (self.window.total_seconds() / 3600)


class JobRepo(Repository):
    async def create(
        self,
        *,
        user_id: int,
        chat_id: int,
        media_id: int,
        style: str,
        priority: int = 0,
        message_thread_id: int | None = None,
        status_message_id: int | None = None,
        now: datetime | None = None,
    ) -> Job:
        """A queued job; ``priority``: smaller is claimed first."""
        job = Job(
            user_id=user_id,
            chat_id=chat_id,
            media_id=media_id,
            style=style,
            priority=priority,
            message_thread_id=message_thread_id,
            status_message_id=status_message_id,
            status=JobStatus.QUEUED,
            attempts=0,
            progress=0,
            created_at=now or utcnow(),
        )
        self.session.add(job)
        await self.session.flush()
        return job

    async def get(self, job_id: int) -> Job | None:
        return await self.session.get(Job, job_id)

    async def get_many(self, job_ids: Sequence[int]) -> list[Job]:
        stmt = select(Job).where(Job.id.in_(list(job_ids))).order_by(Job.id)
        return list((await self.session.scalars(stmt)).all())

    async def mark_done(
        self,
        job_id: int,
        *,
        download_ms: int | None = None,
        inference_ms: int | None = None,
        upload_ms: int | None = None,
        claim: Claim | None = None,
        now: datetime | None = None,
    ) -> Job | None:
        """running -> done; None if the job was not running (cancelled meanwhile, say) or,
        with ``claim``, is no longer held by it."""
        return await self._finish(
            job_id,
            (JobStatus.RUNNING,),
            JobStatus.DONE,
            now,
            claim=claim,
            progress=100,
            lease_until=None,
            **_timings(download_ms, inference_ms, upload_ms),
        )

    async def mark_failed(
        self,
        job_id: int,
        error_code: str,
        *,
        download_ms: int | None = None,
        inference_ms: int | None = None,
        upload_ms: int | None = None,
        claim: Claim | None = None,
        now: datetime | None = None,
    ) -> Job | None:
        """queued or running -> failed with a reason category; None if already final or,
        with ``claim``, no longer held by it."""
        return await self._finish(
            job_id,
            ACTIVE_STATUSES,
            JobStatus.FAILED,
            now,
            claim=claim,
            error_code=error_code,
            lease_until=None,
            **_timings(download_ms, inference_ms, upload_ms),
        )

    async def mark_cancelled(self, job_id: int, *, now: datetime | None = None) -> Job | None:
        """queued or running -> cancelled; None if already final. The lease goes with it,
        so the worker's next renewal tells it to stop; ``worker_id`` stays, to say where
        the job was running."""
        return await self._finish(
            job_id, ACTIVE_STATUSES, JobStatus.CANCELLED, now, lease_until=None
        )

    async def set_progress(self, job_id: int, percent: int, *, claim: Claim | None = None) -> bool:
        """Record a running job's progress (0-100); False if it is no longer running (or,
        with ``claim``, no longer held by it)."""
        percent = min(max(percent, 0), 100)
        where = and_(Job.id == job_id, Job.status == JobStatus.RUNNING)
        if claim is not None:
            where = held(claim)
        stmt = move(where, progress=percent)
        found = await self.session.scalars(stmt, execution_options=RETURNING_JOBS)
        return found.first() is not None

    async def set_status_message(self, job_id: int, message_id: int | None) -> bool:
        """Remember the message that shows this job's status, to edit it later."""
        stmt = move(Job.id == job_id, status_message_id=message_id)
        found = await self.session.scalars(stmt, execution_options=RETURNING_JOBS)
        return found.first() is not None

    async def cancel_user_queued(self, user_id: int, *, now: datetime | None = None) -> list[Job]:
        """/cancel: every queued job of this user, now cancelled (running ones finish)."""
        stmt = move(
            and_(Job.user_id == user_id, Job.status == JobStatus.QUEUED),
            status=JobStatus.CANCELLED,
            finished_at=now or utcnow(),
        )
        jobs = await self.session.scalars(stmt, execution_options=RETURNING_JOBS)
        return sorted(jobs, key=lambda job: job.id)

    async def for_keyboard(self, chat_id: int, message_id: int) -> Job | None:
        """The job a style keyboard already became, if any (one per keyboard)."""
        stmt = select(Job).where(Job.chat_id == chat_id, Job.status_message_id == message_id)
        return (await self.session.scalars(stmt)).first()

    async def queue_head(self, limit: int) -> list[Job]:
        """The first ``limit`` queued jobs in claim order: the i-th has i jobs ahead of it."""
        stmt = (
            select(Job)
            .where(Job.status == JobStatus.QUEUED)
            .order_by(Job.priority, Job.id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def hold_if_queued(self, job_id: int) -> bool:
        """Lock a queued job's row against change until the transaction ends (FOR SHARE on
        PostgreSQL): a claim passes over it and a cancel waits, so whatever is shown on its
        status message meanwhile is not shown after the next word. False if not queued."""
        stmt = (
            select(Job.id)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
            .with_for_update(read=True)
        )
        return (await self.session.scalar(stmt)) is not None

    async def count_ahead(self, job: Job) -> int:
        """Queued jobs that will be claimed before this queued one."""
        ahead = or_(
            Job.priority < job.priority,
            and_(Job.priority == job.priority, Job.id < job.id),
        )
        return await self._count(select(func.count()).where(Job.status == JobStatus.QUEUED, ahead))

    async def queue_depth(self) -> int:
        return await self._count(select(func.count()).where(Job.status == JobStatus.QUEUED))

    async def user_active_count(self, user_id: int) -> int:
        """The user's queued and running jobs, for the concurrent-jobs limit."""
        stmt = select(func.count()).where(Job.user_id == user_id, Job.status.in_(ACTIVE_STATUSES))
        return await self._count(stmt)

    async def user_started_since(self, user_id: int, since: datetime) -> int:
        """Jobs the user submitted since ``since``, for the per-minute rate."""
        stmt = select(func.count()).where(Job.user_id == user_id, Job.created_at >= since)
        return await self._count(stmt)

    async def stats(
        self, *, window: timedelta = timedelta(hours=1), now: datetime | None = None
    ) -> JobStats:
        """Counts by state, and over the jobs finished in ``window``: throughput, median
        latency (submitted to finished) per media kind, failures per reason.

        Medians are taken in Python: neither SQLite nor portable SQL has one, and a window
        holds few enough rows.
        """
        since = (now or utcnow()) - window
        active = await self.session.execute(
            select(Job.status, func.count())
            .where(Job.status.in_(ACTIVE_STATUSES))
            .group_by(Job.status)
        )
        by_status = {status: count for status, count in active}
        rows = await self.session.execute(
            select(Job.status, Job.error_code, Job.created_at, Job.finished_at, Media.kind)
            .join(Media, Media.id == Job.media_id)
            .where(Job.finished_at >= since)
        )
        counts: Counter[JobStatus] = Counter()
        failures: Counter[str] = Counter()
        latencies: defaultdict[MediaKind, list[float]] = defaultdict(list)
        for status, error_code, created_at, finished_at, kind in rows:
            counts[status] += 1
            if status == JobStatus.FAILED:
                failures[error_code or "unknown"] += 1
            elif status == JobStatus.DONE and finished_at is not None:
                latencies[kind].append((finished_at - created_at).total_seconds())
        return JobStats(
            queued=by_status.get(JobStatus.QUEUED, 0),
            running=by_status.get(JobStatus.RUNNING, 0),
            window=window,
            done=counts[JobStatus.DONE],
            failed=counts[JobStatus.FAILED],
            cancelled=counts[JobStatus.CANCELLED],
            median_latency_s={k: statistics.median(v) for k, v in sorted(latencies.items())},
            failures_by_code=dict(failures.most_common()),
        )

    async def _finish(
        self,
        job_id: int,
        allowed: Sequence[JobStatus],
        status: JobStatus,
        now: datetime | None,
        *,
        claim: Claim | None = None,
        **values: Any,
    ) -> Job | None:
        where = and_(Job.id == job_id, Job.status.in_(allowed))
        if claim is not None:
            where = and_(where, held(claim))
        stmt = move(where, status=status, finished_at=now or utcnow(), **values)
        return (await self.session.scalars(stmt, execution_options=RETURNING_JOBS)).first()

    async def _count(self, stmt: Select[int]) -> int:
        return (await self.session.scalar(stmt.select_from(Job))) or 0


def _timings(
    download_ms: int | None, inference_ms: int | None, upload_ms: int | None
) -> dict[str, int]:
    """Only the stages that were measured, so a later call never erases an earlier one."""
    given = {"download_ms": download_ms, "inference_ms": inference_ms, "upload_ms": upload_ms}
    return {name: ms for name, ms in given.items() if ms is not None}
