"""The app factory: settings and a role in, a wired process out (Bot, Dispatcher, database,
signals, and for a role that runs jobs the pool and the worker).

App-wide dependencies go to the dispatcher's workflow data, so a handler receives exactly the
names its signature asks for (``jobs``, ``registry``, ``status``...). ``ArtistoApp`` owns the
life cycle: ``start()`` migrates, recovers jobs a crash left running, registers the command
menus, starts the worker and then the pool, whose warm-up goes on in the background;
``aclose()`` undoes it in reverse, putting jobs still running back in the queue. How updates
arrive (long polling or a webhook, beside /healthz and /metrics) is the caller's choice: see
``bot.web.serve``.

The bot role reads the styles' metadata only (style.toml, the previews): nothing it imports
or runs loads torch, which only the pool's engine, built in a worker's thread, needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeDefault
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import Repos, create_engine, create_session_factory, utcnow
from bot.db.engine import is_sqlite
from bot.db.migrate import upgrade_async
from bot.db.repositories import Recovered
from bot.handlers import setup_routers
from bot.i18n import LANGUAGES, texts_for
from bot.middlewares.context import UpdateContextMiddleware
from bot.middlewares.pacing import PacingMiddleware
from bot.middlewares.retry import RetryMiddleware, RetryPolicy
from bot.roles import Role
from bot.services.gallery import Gallery
from bot.services.intake import IntakeLimits, IntakeService
from bot.services.jobs import JobService
from bot.services.limits import Limits
from bot.services.metrics import BotMetrics
from bot.services.outputs import ResultFiles
from bot.services.picks import StylePicks
from bot.services.positions import QueuePositions
from bot.services.recovery import recover
from bot.services.signals import Signals
from bot.services.status import DEFAULT_MIN_INTERVAL, StatusBoard
from bot.services.worker.loop import JobWorker, WorkerConfig
from inference.pool import InferencePool
from inference.pool_engine import BatchEngine, PoolConfig
from inference.registry import StyleRegistry

log = logging.getLogger(__name__)

UPDATE_IDS_KEPT = timedelta(days=2)
"""Telegram redelivers an unconfirmed update within hours; older ids need not be remembered."""
PACE_KEPT = timedelta(hours=1)
"""A chat's send pace older than this constrains nothing."""
PACE_CONNECTIONS = 4
"""The send pace has connections of its own: a sender may hold one of the main pool (a
job's first status is written inside its transaction) while it waits for its turn."""
POLLING_CONCURRENCY = 32
"""Updates handled at once; the heavy work is in the worker, so handlers are short."""

EngineFactory = Callable[[], BatchEngine]


@dataclass(frozen=True)
class AppOptions:
    """Knobs that are not user settings: tests turn them to make time pass faster."""

    status_interval_s: float = DEFAULT_MIN_INTERVAL
    worker: WorkerConfig | None = None
    """None: from the settings."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    start_worker: bool = True


def create_bot(
    settings: Settings,
    retry: RetryPolicy | None = None,
    pace: async_sessionmaker[AsyncSession] | None = None,
) -> Bot:
    """A Bot for ``settings.bot``: Telegram, a local Bot API server or the playground; with
    ``pace``, its sends keep to the pace the fleet shares in that database."""
    if settings.bot.token is None:
        raise ValueError("no bot token: set ARTISTO_BOT__TOKEN")
    api = TelegramAPIServer.from_base(settings.bot.api_base, is_local=settings.bot.api_local_mode)
    session = AiohttpSession(api=api)
    session.middleware(RetryMiddleware(retry))  # outermost: each retry waits its turn again
    if pace is not None:
        session.middleware(PacingMiddleware(pace))
    return Bot(
        settings.bot.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )


def default_engine_factory(settings: Settings, registry: StyleRegistry) -> EngineFactory:
    """Engines are built in the pool's threads, where they run; a new one on each call."""
    inference = settings.inference

    def make() -> BatchEngine:
        from inference.engine import Engine  # torch set-up belongs to the worker thread

        return Engine(
            registry,
            device=inference.device,
            precision=inference.precision,
            cpu_threads=inference.cpu_threads,
            cache_size=inference.model_cache_size,
            cache_mb=inference.model_cache_mb,
            cache_dir=settings.cache_dir,
        )

    return make


def create_pool(settings: Settings, engine_factory: EngineFactory) -> InferencePool:
    """A worker on the factory's engine and, while it warms up (compiles, on the CPU), a
    stand-in on another engine from the same factory, which serves without warming up."""
    inference = settings.inference
    config = PoolConfig(
        queue_size=inference.queue_size,
        max_batch=inference.max_batch,
        max_wait_ms=inference.max_wait_ms,
        job_timeout_s=inference.job_timeout_s,
        warmup_styles=None if inference.warmup else (),
    )
    return InferencePool(engine_factory, config, stand_in=engine_factory)


class ArtistoApp:
    def __init__(
        self,
        settings: Settings,
        *,
        role: Role = Role.ALL,
        registry: StyleRegistry | None = None,
        engine_factory: EngineFactory | None = None,
        options: AppOptions | None = None,
    ) -> None:
        self.settings = settings
        self.role = role
        self.options = options or AppOptions()
        self.registry = registry or StyleRegistry.discover(
            settings.inference.styles_dir, verify=role.runs_jobs
        )
        url = settings.database_url
        self.shared_db = not is_sqlite(url)
        name = f"artisto-{role.value}"
        self.db_engine: AsyncEngine = create_engine(
            url, echo=settings.db.echo, application_name=name
        )
        self.sessions: async_sessionmaker[AsyncSession] = create_session_factory(self.db_engine)
        self.pace_engine: AsyncEngine | None = None
        if self.shared_db:
            self.pace_engine = create_engine(
                url, application_name=f"{name}-pace", pool_size=PACE_CONNECTIONS
            )
        self.bot = create_bot(
            settings,
            self.options.retry,
            pace=create_session_factory(self.pace_engine) if self.pace_engine else None,
        )
        self.signals = Signals(self.db_engine, url, lead=role.receives_updates, name=name)
        self.status = StatusBoard(self.bot, self.options.status_interval_s)
        self.outputs = ResultFiles(settings.data_dir / "results")
        self.metrics = BotMetrics()
        self.worker_config = self.options.worker or WorkerConfig.from_settings(settings)
        self.pool: InferencePool | None = None
        self.worker: JobWorker | None = None
        if role.runs_jobs:
            self.pool = create_pool(
                settings, engine_factory or default_engine_factory(settings, self.registry)
            )
            self.worker = self._worker(self.pool)
        self.positions: QueuePositions | None = None
        if role.receives_updates:
            self.positions = QueuePositions(
                self.sessions,
                self.status,
                self.signals,
                settings.bot.default_language,
                self.worker_config.poll_interval_s,
            )
        limits = Limits(settings.limits, frozenset(settings.bot.admins))
        self.jobs = JobService(self.sessions, limits, self.signals)
        self.intake = IntakeService(self.sessions, IntakeLimits.from_settings(settings))
        self.dispatcher = self._dispatcher()
        self._started = False

    def _worker(self, pool: InferencePool) -> JobWorker:
        return JobWorker(
            bot=self.bot,
            sessions=self.sessions,
            pool=pool,
            registry=self.registry,
            settings=self.settings,
            status=self.status,
            outputs=self.outputs,
            signals=self.signals,
            sweep=self.recover,
            config=self.worker_config,
            metrics=self.metrics,
        )

    def _dispatcher(self) -> Dispatcher:
        dispatcher = Dispatcher(
            settings=self.settings,
            sessions=self.sessions,
            registry=self.registry,
            intake=self.intake,
            jobs=self.jobs,
            status=self.status,
            outputs=self.outputs,
            gallery=Gallery(self.registry),
            picks=StylePicks(self.sessions),
        )
        dispatcher.update.outer_middleware(UpdateContextMiddleware(self.sessions, self.settings))
        dispatcher.include_routers(*setup_routers())
        return dispatcher

    async def recover(self, *, every_running: bool = False) -> Recovered:
        """Put back the jobs whose lease lapsed (see ``bot.services.recovery``)."""
        return await recover(
            bot=self.bot,
            sessions=self.sessions,
            status=self.status,
            settings=self.settings,
            signals=self.signals,
            metrics=self.metrics,
            every_running=every_running,
        )

    async def start(self) -> None:
        """Everything but receiving updates; safe to call once."""
        if self._started:
            return
        self._started = True
        if self.settings.db.migrate_on_start:
            await upgrade_async(self.settings.database_url)
        async with self.sessions.begin() as session:
            repos = Repos(session)
            await repos.updates.prune(utcnow() - UPDATE_IDS_KEPT)
            if self.shared_db:
                await repos.pace.prune(utcnow() - PACE_KEPT)
        self.signals.start()
        if self.role.runs_jobs and not self.shared_db:
            # The only process of a SQLite database: whatever is running was left by a crash.
            await self.recover(every_running=True)
        if self.role.receives_updates:
            await self.set_commands()
        if self.positions is not None:
            self.positions.start()
        if self.worker is not None and self.options.start_worker:
            await self.worker.start()
        if self.pool is not None:
            # Last, and without waiting: the engine is built and warmed up in the pool's
            # threads while the process already answers; a job waits for its own style only.
            await self.pool.start()
        log.info(
            "app.started",
            extra={
                "role": self.role.value,
                "styles": len(self.registry),
                "pool": self.pool.state.value if self.pool is not None else None,
            },
        )

    async def forget_seen_updates(self) -> None:
        """Forget every update id handled so far: for a new Bot API server whose update ids
        start again from 1 (the playground's emulator, started afresh by each ``artisto run``),
        where the old ids would make new updates look like repeats."""
        async with self.sessions.begin() as session:
            forgotten = await Repos(session).updates.prune(utcnow() + timedelta(seconds=1))
        log.info("updates.forgotten", extra={"count": forgotten})

    async def set_commands(self) -> None:
        """The command menus, per language (English is also the default for the rest)."""
        for language in LANGUAGES:
            texts = texts_for(language)
            private = [
                BotCommand(command="start", description=texts.cmd_start),
                BotCommand(command="help", description=texts.cmd_help),
                BotCommand(command="styles", description=texts.cmd_styles),
                BotCommand(command="lang", description=texts.cmd_lang),
                BotCommand(command="cancel", description=texts.cmd_cancel),
            ]
            group = [
                BotCommand(command="art", description=texts.cmd_art),
                BotCommand(command="styles", description=texts.cmd_styles),
                BotCommand(command="help", description=texts.cmd_help),
                BotCommand(command="cancel", description=texts.cmd_cancel),
            ]
            code = None if language == "en" else language
            await self.bot.set_my_commands(private, BotCommandScopeDefault(), code)
            await self.bot.set_my_commands(group, BotCommandScopeAllGroupChats(), code)

    async def run_polling(self, *, handle_signals: bool = True, polling_timeout: int = 30) -> None:
        """Receive updates by long polling until stopped (SIGINT, SIGTERM, or
        ``dispatcher.stop_polling()``)."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dispatcher.start_polling(
            self.bot,
            handle_signals=handle_signals,
            close_bot_session=False,
            polling_timeout=polling_timeout,
            tasks_concurrency_limit=POLLING_CONCURRENCY,
        )

    async def aclose(self) -> None:
        """Stop the worker (running jobs finish within the grace period or are re-queued),
        then the positions, the signals, the pool, Telegram's session and the database."""
        if self.worker is not None:
            await self.worker.stop()
        if self.positions is not None:
            await self.positions.aclose()
        await self.signals.aclose()
        await self.status.aclose()
        if self.pool is not None:
            await self.pool.aclose()
        await self.bot.session.close()
        if self.pace_engine is not None:
            await self.pace_engine.dispose()
        await self.db_engine.dispose()
        log.info("app.stopped")
