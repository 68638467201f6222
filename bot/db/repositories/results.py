"""Stylized outputs already on Telegram's servers: the (source file, style) cache."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, func, select

from bot.db.models import Job, JobStatus, Media, Result, ResultKind, utcnow
from bot.db.repositories.base import Repository


class ResultRepo(Repository):
    async def get_cached(self, source_unique_id: str, style: str) -> Result | None:
        """The earlier output for this file in this style, if any: answer at once with it."""
        stmt = select(Result).where(
            Result.source_unique_id == source_unique_id, Result.style == style
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def add(
        self,
        *,
        job_id: int,
        source_unique_id: str,
        style: str,
        kind: ResultKind,
        file_id: str,
        file_unique_id: str,
        size_bytes: int | None = None,
        now: datetime | None = None,
    ) -> Result:
        """Store a job's output; if another job stored the same (source, style) first, keep
        that one and return it, so two users racing on one photo both succeed."""
        stmt = (
            self.insert(Result)
            .values(
                job_id=job_id,
                source_unique_id=source_unique_id,
                style=style,
                kind=kind,
                file_id=file_id,
                file_unique_id=file_unique_id,
                size_bytes=size_bytes,
                created_at=now or utcnow(),
            )
            .on_conflict_do_nothing(index_elements=[Result.source_unique_id, Result.style])
            .returning(Result)
        )
        added = (await self.session.scalars(stmt)).one_or_none()
        if added is not None:
            return added
        existing = await self.get_cached(source_unique_id, style)
        if existing is None:  # the winner was deleted between the two statements
            raise LookupError(f"result for {source_unique_id!r} in {style!r} vanished")
        return existing

    async def recent_for_user(
        self, user_id: int, *, limit: int = 20, styles: Collection[str] | None = None
    ) -> list[Result]:
        """Results this user received, newest first, for inline sharing.

        A result belongs to every user whose job was answered with it, cached or not: the
        join goes through the user's finished jobs on (file_unique_id, style).
        """
        stmt = (
            select(Result)
            .join(Media, Media.file_unique_id == Result.source_unique_id)
            .join(Job, and_(Job.media_id == Media.id, Job.style == Result.style))
            .where(Job.user_id == user_id, Job.status == JobStatus.DONE)
            .group_by(Result.id)
            .order_by(func.max(Job.finished_at).desc(), Result.id.desc())
            .limit(limit)
        )
        if styles is not None:
            stmt = stmt.where(Result.style.in_(list(styles)))
        return list((await self.session.scalars(stmt)).all())
