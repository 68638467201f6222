"""``artisto run``: the bot with a token, the local playground without one.

With a token the bot talks to ``settings.bot.api_base`` (Telegram by default), by long polling
or by webhook (``settings.bot.mode``), with ``/healthz`` and ``/metrics`` on ``listen_host:port``.
Without a token the playground's Bot API emulator starts on ``playground_host:port`` with its
web chat page, and the real bot runs against it over HTTP, exactly as against Telegram.

``--role bot`` and ``--role worker`` run one part each, on a PostgreSQL queue they share with
the rest of the fleet (see ``bot.roles``); a worker serves only ``/healthz`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from pydantic import SecretStr

from bot.app import ArtistoApp
from bot.config import Settings
from bot.roles import Role, role_problem
from bot.web import ServerError, WebhookConfigError, serve, webhook_config
from playground import BotApiEmulator


def run(settings: Settings, role: Role = Role.ALL) -> int:
    problem = role_problem(settings, role)
    if problem is not None:
        sys.stderr.write(f"artisto: error: {problem}\n")
        return 2
    if settings.bot.token is None:
        return asyncio.run(_playground(settings))
    return asyncio.run(_bot(settings, role))


async def _bot(settings: Settings, role: Role) -> int:
    try:
        if role.receives_updates and settings.bot.mode == "webhook":
            webhook_config(settings)  # a wrong setting is told before the slow start
        await _run_app(ArtistoApp(settings, role=role))
    except (WebhookConfigError, ServerError) as exc:
        sys.stderr.write(f"artisto: error: {exc}\n")
        return 2
    return 0


async def _run_app(
    app: ArtistoApp, *, fresh_server: bool = False, ready: Callable[[], None] | None = None
) -> None:
    try:
        await app.start()
        if fresh_server:
            await app.forget_seen_updates()
        if ready is not None:
            ready()
        # The playground serves no /healthz: several must not fight over one listen_port.
        await serve(app, http=not fresh_server)
    finally:
        await app.aclose()


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
    try:
        app = ArtistoApp(playground_settings(settings, emulator))
        await _run_app(app, fresh_server=True, ready=lambda: _announce(url, len(app.registry)))
    finally:
        await emulator.stop()
    return 0


def _announce(url: str, styles: int) -> None:
    """The line to act on, once the bot answers: a URL printed earlier would open a page
    where nobody replies yet, or one left dead by a failed start."""
    sys.stdout.write(
        f"artisto playground: open {url}/ in a browser (no bot token set, so the bot talks to "
        "a local Telegram emulator; Ctrl+C stops)\n"
    )
    sys.stdout.flush()
    if not styles:
        sys.stderr.write(
            "artisto: warning: no styles are installed, so the bot can only say so; "
            "point ARTISTO_INFERENCE__STYLES_DIR at a folder of style packs\n"
        )


def playground_settings(settings: Settings, emulator: BotApiEmulator) -> Settings:
    """``settings`` with the bot pointed at a running ``emulator``: its token and URL, long
    polling, files over HTTP. The end-to-end tests build their app from this too."""
    if emulator.url is None:
        raise ValueError("start the emulator before pointing the bot at it")
    bot_settings = settings.bot.model_copy(
        update={
            "token": SecretStr(emulator.token),
            "api_base": emulator.url,
            "api_local_mode": False,
            "mode": "polling",
        }
    )
    return settings.model_copy(update={"bot": bot_settings})
