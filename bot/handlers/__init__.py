"""Telegram handlers: one router per feature, each built by its module's ``setup()``.

Order matters where filters overlap: commands first, the media intake before the fallback
hints, and the catch-all callback handler (stale or forged buttons) last among callbacks.
"""

from __future__ import annotations

from aiogram import Router

from bot.handlers.choice import setup as choice_router
from bot.handlers.commands import setup as commands_router
from bot.handlers.errors import setup as errors_router
from bot.handlers.fallback import setup as fallback_router
from bot.handlers.group import setup as group_router
from bot.handlers.inline import setup as inline_router
from bot.handlers.media import setup as media_router
from bot.handlers.membership import setup as membership_router


def setup_routers() -> list[Router]:
    return [
        errors_router(),
        commands_router(),
        group_router(),
        media_router(),
        choice_router(),
        inline_router(),
        membership_router(),
        fallback_router(),
    ]


__all__ = ["setup_routers"]
