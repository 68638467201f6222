"""Inline mode: ``@bot [style]`` in any chat lists the user's recent results, sent again by
file_id (nothing is uploaded). The "Share" button under a result opens this with the style's
name typed in."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import (
    InlineQuery,
    InlineQueryResultCachedDocument,
    InlineQueryResultCachedMpeg4Gif,
    InlineQueryResultCachedPhoto,
    InlineQueryResultCachedVideo,
    InlineQueryResultsButton,
    InlineQueryResultUnion,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import Result, ResultKind
from bot.i18n import Texts
from bot.services.sharing import recent_results
from inference.registry import StyleRegistry


def as_inline(result: Result, registry: StyleRegistry) -> InlineQueryResultUnion | None:
    """A cached inline result; None for video notes, which inline mode cannot send."""
    title = registry.get(result.style).meta.title if result.style in registry else result.style
    rid, file_id = f"r{result.id}", result.file_id
    if result.kind == ResultKind.PHOTO:
        return InlineQueryResultCachedPhoto(id=rid, photo_file_id=file_id, title=title)
    if result.kind == ResultKind.VIDEO:
        return InlineQueryResultCachedVideo(id=rid, video_file_id=file_id, title=title)
    if result.kind == ResultKind.ANIMATION:
        return InlineQueryResultCachedMpeg4Gif(id=rid, mpeg4_file_id=file_id, title=title)
    if result.kind == ResultKind.DOCUMENT:
        return InlineQueryResultCachedDocument(id=rid, document_file_id=file_id, title=title)
    return None


async def on_inline(
    query: InlineQuery,
    texts: Texts,
    registry: StyleRegistry,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    found = await recent_results(sessions, registry, query.from_user.id, query.query)
    results = [item for r in found if (item := as_inline(r, registry)) is not None]
    button = (
        None
        if results
        else InlineQueryResultsButton(text=texts.inline_empty, start_parameter="inline")
    )
    await query.answer(results, cache_time=10, is_personal=True, button=button)


def setup() -> Router:
    router = Router(name="inline")
    router.inline_query.register(on_inline)
    return router
