"""``artisto run``: the bot with a token, the local playground without one.

With a token the bot talks to ``settings.bot.api_base`` (Telegram by default) by long polling.
Webhook mode is the seam left for the webhook server: ``_serve`` is where it plugs in.
Without a token the playground's Bot API emulator starts on ``playground_host:port`` with its
web chat page, and the real bot runs against it over HTTP, exactly as against Telegram.
"""

from __future__ import annotations

import asyncio
import sys

from pydantic import SecretStr

from bot.app import ArtistoApp
from bot.config import Settings
from bot.playground import BotApiEmulator


def run(settings: Settings) -> int:
    if settings.bot.token is None:
        return asyncio.run(_playground(settings))
    return asyncio.run(_bot(settings))


async def _bot(settings: Settings) -> int:
    if settings.bot.mode != "polling":
        sys.stderr.write(
            "artisto: error: webhook mode is not available yet; set ARTISTO_BOT__MODE=polling\n"
        )
        return 2
    await _run_app(ArtistoApp(settings))
    return 0


async def _run_app(app: ArtistoApp, *, fresh_server: bool = False) -> None:
    try:
        await app.start()
        if fresh_server:
            await app.forget_seen_updates()
        await _serve(app)
    finally:
        await app.aclose()


async def _serve(app: ArtistoApp) -> None:
    """Receive updates until SIGINT or SIGTERM. The seam for webhook mode: an aiohttp server
    with aiogram's ``SimpleRequestHandler`` (secret token checked) goes here."""
    await app.run_polling()


async def _playground(settings: Settings) -> int:
    emulator = BotApiEmulator()
    try:
        url = await emulator.start(settings.bot.playground_host, settings.bot.playground_port)
    except OSError as exc:
        sys.stderr.write(
            f"artisto: error: cannot serve the playground on {settings.bot.playground_host}:"
            f"{settings.bot.playground_port} ({exc.strerror}); "
            "set ARTISTO_BOT__PLAYGROUND_PORT to a free port\n"
        )
        return 2
    bot_settings = settings.bot.model_copy(
        update={
            "token": SecretStr(emulator.token),
            "api_base": url,
            "api_local_mode": False,
            "mode": "polling",
        }
    )
    sys.stdout.write(
        f"artisto playground: open {url}/ in a browser (no bot token set, so the bot talks to "
        "a local Telegram emulator; Ctrl+C stops)\n"
    )
    sys.stdout.flush()
    try:
        await _run_app(
            ArtistoApp(settings.model_copy(update={"bot": bot_settings})), fresh_server=True
        )
    finally:
        await emulator.stop()
    return 0
