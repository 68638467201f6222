"""Receive updates until told to stop, by long polling or by webhook, with the HTTP server
(``/healthz``, ``/metrics``, and the webhook route) up the whole time. A worker receives no
updates: it serves ``/healthz`` and ``/metrics`` while its worker runs, until told to stop.

Stopping is graceful: intake ends first (polling stops, or the server stops accepting and
finishes the updates it is handling); the caller's ``ArtistoApp.aclose`` then lets running
jobs finish or puts them back in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

from bot.app import ArtistoApp
from bot.web.server import WebServer
from bot.web.webhook import set_webhook, webhook_config

log = logging.getLogger(__name__)


async def serve(
    app: ArtistoApp,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    http: bool = True,
) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM with ``handle_signals``); ``app`` must be
    started. Raises ``WebhookConfigError`` or ``ServerError`` before receiving anything when
    the settings cannot work. ``http=False`` (polling only) serves no HTTP at all: for the
    local playground, so that several never fight over one ``listen_port``."""
    stop = stop or asyncio.Event()
    with _signals_set(stop, handle_signals):
        if not app.role.receives_updates:
            async with WebServer(app):
                await stop.wait()
        elif app.settings.bot.mode == "webhook":
            await _webhook(app, stop)
        elif http:
            async with WebServer(app):
                await _polling(app, stop)
        else:
            await _polling(app, stop)


async def _webhook(app: ArtistoApp, stop: asyncio.Event) -> None:
    config = webhook_config(app.settings)
    async with WebServer(app, config):
        await set_webhook(app.bot, app.dispatcher, config)
        log.info("webhook.set", extra={"url": config.url})
        await stop.wait()


async def _polling(app: ArtistoApp, stop: asyncio.Event) -> None:
    polling = asyncio.create_task(app.run_polling(handle_signals=False), name="polling")
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not polling.done():
            try:
                await app.dispatcher.stop_polling()
            except RuntimeError:  # still deleting the webhook: polling never began
                polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling


@contextlib.contextmanager
def _signals_set(stop: asyncio.Event, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
