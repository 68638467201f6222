"""Telegram update ids already handled: a redelivered update must not make a second job."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete

from bot.db.models import ProcessedUpdate, utcnow
from bot.db.repositories.base import Repository


class UpdateRepo(Repository):
    async def mark_update_processed(self, update_id: int, *, now: datetime | None = None) -> bool:
        """True the first time an update id is seen, False for a repeat.

        Call it in the same transaction as the work the update causes: if that work rolls
        back, the mark goes with it and a redelivery is handled again. On PostgreSQL a
        concurrent transaction inserting the same id waits for this one, then sees False.
        """
        stmt = (
            self.insert(ProcessedUpdate)
            .values(update_id=update_id, processed_at=now or utcnow())
            .on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id])
            .returning(ProcessedUpdate.update_id)
        )
        return (await self.session.scalar(stmt)) is not None

    async def prune(self, before: datetime) -> int:
        """Forget update ids handled before ``before``; Telegram redelivers within hours."""
        stmt = delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)
        result = await self.session.execute(stmt, execution_options={"synchronize_session": False})
        return cast("CursorResult[Any]", result).rowcount
