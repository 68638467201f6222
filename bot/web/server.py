"""The process's one HTTP server: ``/healthz`` and ``/metrics`` always, the webhook route in
webhook mode, on ``listen_host:listen_port``."""

from __future__ import annotations

import logging
from types import TracebackType

from aiohttp import web

from bot.app import ArtistoApp
from bot.web.ops import OpsEndpoints
from bot.web.webhook import WebhookConfig, register_webhook_route

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 10.0
"""How long a stopping server waits for requests in flight (webhook updates being handled)."""


class ServerError(Exception):
    """The server cannot listen; the message names the setting to change."""


class WebServer:
    def __init__(self, app: ArtistoApp, webhook: WebhookConfig | None = None) -> None:
        self.app = app
        self.webhook = webhook
        self._runner: web.AppRunner | None = None

    def _web_app(self) -> web.Application:
        web_app = web.Application()
        OpsEndpoints(
            pool=self.app.pool,
            db_engine=self.app.db_engine,
            sessions=self.app.sessions,
            worker=self.app.worker,
            signals=self.app.signals,
            metrics=self.app.metrics,
        ).register(web_app)
        if self.webhook is not None:
            register_webhook_route(web_app, self.webhook, self.app.dispatcher, self.app.bot)
        return web_app

    async def start(self) -> None:
        bot = self.app.settings.bot
        runner = web.AppRunner(
            self._web_app(),
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            access_log=None,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, bot.listen_host, bot.listen_port).start()
        except OSError as exc:
            await runner.cleanup()
            raise ServerError(
                f"cannot listen on {bot.listen_host}:{bot.listen_port} ({exc.strerror}); "
                "set ARTISTO_BOT__LISTEN_HOST or ARTISTO_BOT__LISTEN_PORT",
            ) from exc
        self._runner = runner
        log.info(
            "web.started",
            extra={"address": self.address, "webhook": self.webhook.path if self.webhook else None},
        )

    @property
    def address(self) -> str:
        """host:port actually bound (port 0 in the settings picks a free one)."""
        if self._runner is None or not self._runner.addresses:
            return ""
        host, port, *_ = self._runner.addresses[0]
        return f"{host}:{port}"

    async def stop(self) -> None:
        """Refuse new connections, let requests in flight finish (up to the timeout)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            log.info("web.stopped")

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
