"""The playground: a local Telegram Bot API emulator with simulated users and a web chat page.

Without a bot token, artisto runs against it; the end-to-end tests drive the real bot
through it over HTTP.
"""

from __future__ import annotations

from playground.emulator import BotApiEmulator
from playground.errors import ApiError, PlaygroundError
from playground.options import EmulatorConfig, RateLimit
from playground.world import GROUP_ID, PEOPLE

ALICE = PEOPLE[0].id
BORIS = PEOPLE[1].id

__all__ = [
    "ALICE",
    "BORIS",
    "GROUP_ID",
    "PEOPLE",
    "ApiError",
    "BotApiEmulator",
    "EmulatorConfig",
    "PlaygroundError",
    "RateLimit",
]
