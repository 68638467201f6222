"""The durable queue: a job accepted is a row, and only these operations move it.

States: queued -> running -> done | failed | cancelled (and running -> queued on recovery).
Every transition is a single conditional UPDATE, so two workers, or a worker and a user's
/cancel, cannot both move the same job: the loser's UPDATE matches no row and says so.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.sql.dml import ReturningUpdate

from bot.db.models import ACTIVE_STATUSES, Job, JobStatus, Media, MediaKind, utcnow
from bot.db.repositories.base import Repository

ATTEMPTS_EXHAUSTED = "attempts_exhausted"
"""error_code of a job that was running when the service died too many times."""

# Results of UPDATE ... RETURNING(Job) replace whatever the session already holds for
# those rows; nothing else in the session needs synchronising.
_RETURNING_JOBS = {"synchronize_session": False, "populate_existing": True}


class Recovered(NamedTuple):
    requeued: list[int]
    failed: list[int]


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

    async def claim_next(self, *, now: datetime | None = None) -> Job | None:
        """Take the first queued job (by priority, then id): it becomes running, one more try.

        One statement, so it is atomic: on SQLite the write lock serialises claimers; on
        PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets concurrent claimers pass over a row
        another is taking instead of waiting for it or taking it twice. Commit promptly.
        """
        first = (
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED)
            .order_by(Job.priority, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)  # rendered as nothing on SQLite
            .scalar_subquery()
        )
        stmt = self._move(
            and_(Job.id == first, Job.status == JobStatus.QUEUED),
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            started_at=now or utcnow(),
            progress=0,
        )
        return (await self.session.scalars(stmt, execution_options=_RETURNING_JOBS)).first()

    async def mark_done(
        self,
        job_id: int,
        *,
        download_ms: int | None = None,
        inference_ms: int | None = None,
        upload_ms: int | None = None,
        now: datetime | None = None,
    ) -> Job | None:
        """running -> done; None if the job was not running (cancelled meanwhile, say)."""
        return await self._finish(
            job_id,
            (JobStatus.RUNNING,),
            JobStatus.DONE,
            now,
            progress=100,
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
        now: datetime | None = None,
    ) -> Job | None:
        """queued or running -> failed with a reason category; None if already final."""
        return await self._finish(
            job_id,
            ACTIVE_STATUSES,
            JobStatus.FAILED,
            now,
            error_code=error_code,
            **_timings(download_ms, inference_ms, upload_ms),
        )

    async def mark_cancelled(self, job_id: int, *, now: datetime | None = None) -> Job | None:
        """queued or running -> cancelled; None if already final."""
        return await self._finish(job_id, ACTIVE_STATUSES, JobStatus.CANCELLED, now)

    async def release(self, job_id: int) -> bool:
        """running -> queued without spending an attempt: for a graceful shutdown."""
        stmt = self._move(
            and_(Job.id == job_id, Job.status == JobStatus.RUNNING),
            status=JobStatus.QUEUED,
            attempts=Job.attempts - 1,  # claim_next counted this try; running means >= 1
            started_at=None,
            progress=0,
        )
        found = await self.session.scalars(stmt, execution_options=_RETURNING_JOBS)
        return found.first() is not None

    async def set_progress(self, job_id: int, percent: int) -> bool:
        """Record a running job's progress (0-100); False if it is no longer running."""
        percent = min(max(percent, 0), 100)
        stmt = self._move(and_(Job.id == job_id, Job.status == JobStatus.RUNNING), progress=percent)
        found = await self.session.scalars(stmt, execution_options=_RETURNING_JOBS)
        return found.first() is not None

    async def set_status_message(self, job_id: int, message_id: int | None) -> bool:
        """Remember the message that shows this job's status, to edit it later."""
        stmt = self._move(Job.id == job_id, status_message_id=message_id)
        found = await self.session.scalars(stmt, execution_options=_RETURNING_JOBS)
        return found.first() is not None

    async def requeue_stale_running(
        self,
        max_attempts: int,
        *,
        started_before: datetime | None = None,
        now: datetime | None = None,
    ) -> Recovered:
        """Recover jobs a dead process left running: re-queue them, or fail those that
        have had ``max_attempts`` tries already (they may be what kills the process).

        Without ``started_before`` every running job counts as stale, which is right for a
        single process at start; several workers sharing PostgreSQL pass a cut-off older
        than the longest job so as not to take each other's work.
        """
        stale = Job.status == JobStatus.RUNNING
        if started_before is not None:
            stale = and_(stale, Job.started_at < started_before)
        failed = await self.session.scalars(
            self._move(
                and_(stale, Job.attempts >= max_attempts),
                status=JobStatus.FAILED,
                error_code=ATTEMPTS_EXHAUSTED,
                finished_at=now or utcnow(),
            ),
            execution_options=_RETURNING_JOBS,
        )
        failed_ids = sorted(job.id for job in failed)
        requeued = await self.session.scalars(
            self._move(stale, status=JobStatus.QUEUED, started_at=None, progress=0),
            execution_options=_RETURNING_JOBS,
        )
        return Recovered(sorted(job.id for job in requeued), failed_ids)

    async def cancel_user_queued(self, user_id: int, *, now: datetime | None = None) -> list[Job]:
        """/cancel: every queued job of this user, now cancelled (running ones finish)."""
        stmt = self._move(
            and_(Job.user_id == user_id, Job.status == JobStatus.QUEUED),
            status=JobStatus.CANCELLED,
            finished_at=now or utcnow(),
        )
        jobs = await self.session.scalars(stmt, execution_options=_RETURNING_JOBS)
        return sorted(jobs, key=lambda job: job.id)

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
        **values: Any,
    ) -> Job | None:
        stmt = self._move(
            and_(Job.id == job_id, Job.status.in_(allowed)),
            status=status,
            finished_at=now or utcnow(),
            **values,
        )
        return (await self.session.scalars(stmt, execution_options=_RETURNING_JOBS)).first()

    def _move(self, where: Any, **values: Any) -> ReturningUpdate[Job]:
        return update(Job).where(where).values(**values).returning(Job)

    async def _count(self, stmt: Select[int]) -> int:
        return (await self.session.scalar(stmt.select_from(Job))) or 0


def _timings(
    download_ms: int | None, inference_ms: int | None, upload_ms: int | None
) -> dict[str, int]:
    """Only the stages that were measured, so a later call never erases an earlier one."""
    given = {"download_ms": download_ms, "inference_ms": inference_ms, "upload_ms": upload_ms}
    return {name: ms for name, ms in given.items() if ms is not None}
