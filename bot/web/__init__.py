"""The HTTP side of a running bot: the webhook, ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from bot.web.serve import serve
from bot.web.server import ServerError, WebServer
from bot.web.webhook import WebhookConfigError, webhook_config

__all__ = ["ServerError", "WebServer", "WebhookConfigError", "serve", "webhook_config"]
