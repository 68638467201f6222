"""Webhook mode: Telegram POSTs each update to ``webhook_url``, with the secret in a header.

The path of the public URL is the route served here (a reverse proxy in front forwards it
unchanged). Without a configured secret a random one is made at each start: the bot
registers the webhook itself, so nobody else needs to know it, and an update without it is
refused with 401 by aiogram's ``SimpleRequestHandler``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings

SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
"""What Telegram accepts as a secret token."""
RESERVED_PATHS = frozenset({"/healthz", "/metrics"})


class WebhookConfigError(ValueError):
    """The webhook settings cannot work; the message names the variable to fix."""


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    path: str
    secret: str = ""

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"WebhookConfig(url={self.url!r}, path={self.path!r})"


def webhook_config(settings: Settings) -> WebhookConfig:
    """The webhook's public URL, local route and secret, checked; raises ``WebhookConfigError``."""
    url = settings.bot.webhook_url
    if not url:
        raise WebhookConfigError(
            "webhook mode needs ARTISTO_BOT__WEBHOOK_URL (the public HTTPS URL Telegram posts to)"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookConfigError(f"ARTISTO_BOT__WEBHOOK_URL is not an http(s) URL: {url!r}")
    path = parts.path or "/"
    if path in RESERVED_PATHS:
        raise WebhookConfigError(f"ARTISTO_BOT__WEBHOOK_URL must not end in {path}")
    configured = settings.bot.webhook_secret
    secret = configured.get_secret_value() if configured else secrets.token_urlsafe(32)
    if not SECRET.match(secret):
        raise WebhookConfigError(
            "ARTISTO_BOT__WEBHOOK_SECRET may hold only letters, digits, _ and - (1-256 of them)"
        )
    return WebhookConfig(url, path, secret)


def register_webhook_route(
    app: web.Application, config: WebhookConfig, dispatcher: Dispatcher, bot: Bot
) -> None:
    """The POST route; updates are handled before the answer, so a stopping server waits
    for them (handlers are short: the heavy work is queued for the worker).

    ``SimpleRequestHandler.register`` is not used: it would close the bot's session when the
    server stops, while the worker still needs it to deliver the jobs it is finishing.
    """
    handler = SimpleRequestHandler(
        dispatcher, bot, handle_in_background=False, secret_token=config.secret
    )
    app.router.add_post(config.path, handler.handle)


async def set_webhook(bot: Bot, dispatcher: Dispatcher, config: WebhookConfig) -> None:
    """Point Telegram at us, for the update types the routers handle; pending updates are
    kept (they are requests users are waiting for)."""
    await bot.set_webhook(
        config.url,
        secret_token=config.secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
        drop_pending_updates=False,
    )
