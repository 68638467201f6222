"""Chats the bot was used in: private chats, groups, supergroups."""

from __future__ import annotations

from datetime import datetime

from bot.db.models import Chat, ChatType, utcnow
from bot.db.repositories.base import Repository


class ChatRepo(Repository):
    async def upsert(
        self,
        chat_id: int,
        chat_type: ChatType,
        title: str | None = None,
        *,
        now: datetime | None = None,
    ) -> Chat:
        """Create or refresh a chat; a group's title changes, its id does not."""
        stmt = self.insert(Chat).values(
            id=chat_id, type=chat_type, title=title, created_at=now or utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[Chat.id],
            set_={"type": stmt.excluded.type, "title": stmt.excluded.title},
        )
        return (
            await self.session.scalars(
                stmt.returning(Chat), execution_options={"populate_existing": True}
            )
        ).one()

    async def get(self, chat_id: int) -> Chat | None:
        return await self.session.get(Chat, chat_id)
