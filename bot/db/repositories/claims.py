"""What the jobs' repositories share: one conditional transition, and a worker's claim on a
job's try, which every move a worker makes is conditional on."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.sql.dml import ReturningUpdate

from bot.db.models import Job, JobStatus

RETURNING_JOBS = {"synchronize_session": False, "populate_existing": True}
"""Rows from UPDATE ... RETURNING(Job) replace whatever the session already holds for them;
nothing else in the session needs synchronising."""


class Claim(NamedTuple):
    """One worker's hold on one try of a job: a job put back and claimed again, even by the
    same worker, is another claim."""

    job_id: int
    worker: str
    attempt: int

    @classmethod
    def of(cls, job: Job) -> Claim:
        if job.worker_id is None:
            raise ValueError(f"job {job.id} was never claimed")
        return cls(job.id, job.worker_id, job.attempts)


def held(claim: Claim) -> ColumnElement[bool]:
    """The claim's job is running, on this worker's try."""
    return and_(
        Job.id == claim.job_id,
        Job.status == JobStatus.RUNNING,
        Job.worker_id == claim.worker,
        Job.attempts == claim.attempt,
    )


def move(where: Any, **values: Any) -> ReturningUpdate[Job]:
    """``UPDATE jobs SET values WHERE where RETURNING *``: one conditional transition."""
    return update(Job).where(where).values(**values).returning(Job)
