"""What every repository shares: the caller's session and the dialect's INSERT.

Repositories run SQL and flush; they never commit or roll back. The service that calls
them owns the transaction (``async with sessions.begin() as session: ...``), so one use
case is one atomic unit however many repositories it touches.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Base

Upsert = postgresql.Insert | sqlite.Insert


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def insert(self, model: type[Base]) -> Upsert:
        """An INSERT with ``ON CONFLICT`` (both dialects spell it the same way)."""
        if self.dialect == "postgresql":
            return postgresql.insert(model)
        return sqlite.insert(model)
