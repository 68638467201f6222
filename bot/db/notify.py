"""PostgreSQL's LISTEN/NOTIFY, kept alive: one dedicated connection that hears a channel and,
when asked, holds a session advisory lock (a fleet-wide "only one of us does this").

The connection can die at any moment (the server restarts, an operator ends the backend):
it is noticed at once (asyncpg's termination callback) or at the next keep-alive, and
opened again with a growing pause. While it is down nothing is heard and the lock is not
held; whoever relies on it falls back to polling, and is told when it is back so that it
can catch up on what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

KEEPALIVE_S = 5.0
"""How often the connection is checked, and a lock not yet held is tried again."""
RECONNECT_S = (0.5, 1.0, 2.0, 5.0)


def asyncpg_dsn(url: str) -> str:
    """An asyncpg DSN for a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgListener:
    def __init__(
        self,
        url: str,
        channel: str,
        on_message: Callable[[str], None],
        *,
        on_connected: Callable[[], None] = lambda: None,
        lock_key: int | None = None,
        application_name: str = "artisto",
    ) -> None:
        """Hear ``channel`` (each payload to ``on_message``); ``on_connected`` runs after
        each (re)connection. With ``lock_key``, also try to hold that advisory lock."""
        self.dsn = asyncpg_dsn(url)
        self.application_name = application_name
        self.channel = channel
        self.on_message = on_message
        self.on_connected = on_connected
        self.lock_key = lock_key
        self.connected = False
        self.holds_lock = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"listen-{self.channel}")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._session()
                failures = 0
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("listen.lost", extra={"channel": self.channel, "error": repr(exc)})
            finally:
                self.connected = self.holds_lock = False
            await asyncio.sleep(RECONNECT_S[min(failures, len(RECONNECT_S) - 1)])
            failures += 1

    async def _session(self) -> None:
        """One connection's life: listen, try the lock, keep alive until it dies."""
        connection = await asyncpg.connect(
            self.dsn, timeout=10, server_settings={"application_name": self.application_name}
        )
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _: closed.set())
        try:
            await connection.add_listener(self.channel, self._heard)
            self.connected = True
            log.info("listen.connected", extra={"channel": self.channel})
            self.on_connected()
            while not closed.is_set():
                await self._try_lock(connection)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closed.wait(), KEEPALIVE_S)
                if not closed.is_set():
                    await connection.execute("SELECT 1", timeout=KEEPALIVE_S)
            log.warning("listen.lost", extra={"channel": self.channel, "error": "closed"})
        finally:
            connection.terminate()

    async def _try_lock(self, connection: asyncpg.Connection) -> None:
        if self.lock_key is None or self.holds_lock:
            return
        held = await connection.fetchval(
            "SELECT pg_try_advisory_lock($1)", self.lock_key, timeout=KEEPALIVE_S
        )
        self.holds_lock = bool(held)
        if self.holds_lock:
            log.info("listen.lock_taken", extra={"channel": self.channel, "key": self.lock_key})

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self.on_message(payload)
