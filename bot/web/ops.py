"""``/healthz`` and ``/metrics``: the operator's view of one process, over plain HTTP.

A bot process has no inference pool and no worker: its health is its database's, and its
metrics are the queue's and its own."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import Repos
from bot.services.health import check
from bot.services.metrics import BotMetrics
from bot.services.signals import Signals
from bot.services.worker.loop import JobWorker
from inference.pool import InferencePool

log = logging.getLogger(__name__)


class OpsEndpoints:
    def __init__(
        self,
        *,
        pool: InferencePool | None,
        db_engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        worker: JobWorker | None,
        signals: Signals,
        metrics: BotMetrics,
    ) -> None:
        self.pool = pool
        self.db_engine = db_engine
        self.sessions = sessions
        self.worker = worker
        self.signals = signals
        self.metrics = metrics

    def register(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)

    async def healthz(self, request: web.Request) -> web.Response:
        """200 with the parts' states when the process can serve, 503 with the reasons when
        it cannot."""
        health = await check(self.pool, self.db_engine)
        return web.json_response(health.as_json(), status=200 if health.healthy else 503)

    async def metrics_page(self, request: web.Request) -> web.Response:
        queued = await self._queue_depth()
        self.metrics.refresh(
            queued=queued,
            running=self.worker.running if self.worker is not None else 0,
            pool=self.pool,
            listening=self.signals.listening,
        )
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _queue_depth(self) -> int | None:
        """The durable queue's depth; None when the database does not answer (the scrape
        still shows the rest, and /healthz says what is wrong)."""
        try:
            async with self.sessions() as session:
                return await Repos(session).jobs.queue_depth()
        except Exception:
            log.warning("metrics.queue_depth_unknown", exc_info=True)
            return None
