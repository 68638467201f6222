"""Media messages users sent: what a job stylizes and what its result replies to."""

from __future__ import annotations

from datetime import datetime

from bot.db.models import Media, MediaKind, utcnow
from bot.db.repositories.base import Repository


class MediaRepo(Repository):
    async def add(
        self,
        *,
        chat_id: int,
        message_id: int,
        kind: MediaKind,
        file_id: str,
        file_unique_id: str,
        mime_type: str | None = None,
        size_bytes: int | None = None,
        width: int | None = None,
        height: int | None = None,
        duration_s: int | None = None,
        now: datetime | None = None,
    ) -> Media:
        """The row for this message, created on first sight.

        Idempotent on (chat_id, message_id): a redelivered update, or /art replied twice to
        the same photo, yields the same row and so the same ids in the style keyboard.
        """
        stmt = self.insert(Media).values(
            chat_id=chat_id,
            message_id=message_id,
            kind=kind,
            file_id=file_id,
            file_unique_id=file_unique_id,
            mime_type=mime_type,
            size_bytes=size_bytes,
            width=width,
            height=height,
            duration_s=duration_s,
            created_at=now or utcnow(),
        )
        # DO UPDATE rather than DO NOTHING so that RETURNING yields the existing row too;
        # file_ids may differ between deliveries, and the newest one is as good as any.
        stmt = stmt.on_conflict_do_update(
            index_elements=[Media.chat_id, Media.message_id],
            set_={"file_id": stmt.excluded.file_id},
        )
        return (
            await self.session.scalars(
                stmt.returning(Media), execution_options={"populate_existing": True}
            )
        ).one()

    async def get(self, media_id: int) -> Media | None:
        return await self.session.get(Media, media_id)
