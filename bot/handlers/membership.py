"""A user blocking (or unblocking) the bot in their private chat, recorded on their row."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.people import set_blocked

GONE = frozenset({ChatMemberStatus.KICKED, ChatMemberStatus.LEFT})


async def on_membership(
    event: ChatMemberUpdated, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await set_blocked(sessions, event.from_user.id, event.new_chat_member.status in GONE)


def setup() -> Router:
    router = Router(name="membership")
    router.my_chat_member.register(on_membership, F.chat.type == "private")
    return router
