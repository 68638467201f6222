"""Telegram users: who asked, in which language, and whether they still accept messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, select, update

from bot.db.models import User, utcnow
from bot.db.repositories.base import Repository


class UserRepo(Repository):
    async def upsert(
        self,
        user_id: int,
        *,
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
        now: datetime | None = None,
    ) -> User:
        """Create or refresh a user from an incoming update.

        A user who writes to the bot has evidently not blocked it, so the flag is cleared.
        The language chosen with /lang is kept.
        """
        stmt = self.insert(User).values(
            id=user_id,
            username=username,
            first_name=first_name,
            language_code=language_code,
            is_blocked_bot=False,
            created_at=now or utcnow(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[User.id],
            set_={
                "username": stmt.excluded.username,
                "first_name": stmt.excluded.first_name,
                "language_code": stmt.excluded.language_code,
                "is_blocked_bot": false(),
            },
        )
        return (
            await self.session.scalars(
                stmt.returning(User), execution_options={"populate_existing": True}
            )
        ).one()

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def set_language(self, user_id: int, language: str | None) -> bool:
        """False when there is no such user."""
        return await self._set(user_id, language=language)

    async def set_blocked(self, user_id: int, blocked: bool = True) -> bool:
        """Record that the user blocked the bot (Telegram answered 403), or unblocked it."""
        return await self._set(user_id, is_blocked_bot=blocked)

    async def pick_style(self, user_id: int, style: str, until: datetime) -> bool:
        """Keep ``style`` for the user's next photo or video, until ``until``."""
        return await self._set(user_id, picked_style=style, picked_until=until)

    async def take_pick(self, user_id: int, *, now: datetime | None = None) -> str | None:
        """The user's pick, used up; None when there is none or it lapsed. Of two takes at
        once (two photos, two bot processes) only one gets it: the clearing UPDATE is
        conditional on the pick it read."""
        stmt = select(User.picked_style, User.picked_until).where(User.id == user_id)
        picked = (await self.session.execute(stmt)).one_or_none()
        if picked is None or picked.picked_style is None:
            return None
        taken = (
            update(User)
            .where(User.id == user_id, User.picked_style == picked.picked_style)
            .values(picked_style=None, picked_until=None)
            .returning(User.id)
        )
        if (
            await self.session.scalar(taken, execution_options={"synchronize_session": False})
            is None
        ):
            return None
        if picked.picked_until is None or picked.picked_until <= (now or utcnow()):
            return None
        return str(picked.picked_style)

    async def _set(self, user_id: int, **values: object) -> bool:
        stmt = update(User).where(User.id == user_id).values(**values).returning(User.id)
        found = await self.session.scalar(stmt, execution_options={"synchronize_session": "fetch"})
        return found is not None
