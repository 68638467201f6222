"""``artisto run``: the bot with a token, the local playground without one."""

from __future__ import annotations

import sys

from bot.config import Settings


def run(settings: Settings) -> int:
    if settings.bot.token is None:
        print(
            "artisto: no bot token: set ARTISTO_BOT__TOKEN (in the environment or .env) "
            "to the token from @BotFather.",
            file=sys.stderr,
        )
        return 2
    print("artisto: the bot is not built yet.", file=sys.stderr)
    return 2
