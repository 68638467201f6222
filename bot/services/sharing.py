"""Inline mode's lookup: a user's recent results, narrowed by what they typed after the
bot's name, to be sent again by file_id."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Repos, Result
from inference.registry import StyleRegistry

MAX_RESULTS = 20


def matching_styles(registry: StyleRegistry, query: str) -> list[str] | None:
    """Styles whose name or title contains the query; None (no filter) for an empty one."""
    words = query.strip().lower()
    if not words:
        return None
    return [p.name for p in registry if words in p.name or words in p.meta.title.lower()]


async def recent_results(
    sessions: async_sessionmaker[AsyncSession],
    registry: StyleRegistry,
    user_id: int,
    query: str,
) -> list[Result]:
    """The user's results in the styles ``query`` names (all styles when it names none),
    newest first."""
    styles = matching_styles(registry, query)
    async with sessions() as session:
        return await Repos(session).results.recent_for_user(
            user_id, limit=MAX_RESULTS, styles=styles
        )
