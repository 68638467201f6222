"""A style picked in the /styles gallery, waiting for the user's next photo or video.

Kept on the user's row, for a while, so any bot process that receives the photo finds it: a
pick is a moment's intention, not a setting. Lapsed after ``ttl``, it costs the user one tap
on the usual keyboard, nothing more.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Repos, utcnow

PICK_TTL = timedelta(minutes=15)


class StylePicks:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], ttl: timedelta = PICK_TTL
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl

    async def remember(self, user_id: int, style: str) -> None:
        async with self.sessions.begin() as session:
            await Repos(session).users.pick_style(user_id, style, utcnow() + self.ttl)

    async def take(self, user_id: int) -> str | None:
        """The user's pick, used up; None when there is none or it lapsed."""
        async with self.sessions.begin() as session:
            return await Repos(session).users.take_pick(user_id)
