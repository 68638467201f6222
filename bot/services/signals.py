"""Wake-ups between processes: a job can be claimed, the queue moved, a job was cancelled.

With one process (SQLite) a signal is a call within it. On PostgreSQL it is also a NOTIFY on
one channel that every process of the fleet LISTENs to, so a worker on another host wakes as
a job is queued and stops a job cancelled from the bot within moments. Signals are hints,
never the truth: the truth is the jobs table, so whoever listens also polls it now and then
(slowly), and re-reads it when the listening connection comes back.

The process that holds the fleet's advisory lock on its listening connection is the one that
keeps queue positions current (``leading``): one writer for those edits, fleet-wide.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import is_sqlite
from bot.db.notify import PgListener

log = logging.getLogger(__name__)

CHANNEL = "artisto"
POSITIONS_LOCK_KEY = 0x61727469_706F73  # "artipos": the queue-position writer

Kind = Literal["queued", "moved", "cancel"]


@dataclass(frozen=True)
class Signal:
    """``queued``: a job can be claimed; ``moved``: jobs left the queue (claimed, cancelled),
    so the places of the others changed; ``cancel``: ``job_id`` was cancelled."""

    kind: Kind
    job_id: int | None = None

    def encode(self) -> str:
        return self.kind if self.job_id is None else f"{self.kind}:{self.job_id}"

    @classmethod
    def decode(cls, payload: str) -> Signal | None:
        """The signal a payload carries; None for one this version does not know."""
        name, _, job = payload.partition(":")
        kind = _KINDS.get(name)
        if kind is None or (job and not job.isdigit()):
            return None
        return cls(kind, int(job) if job else None)


_KINDS: dict[str, Kind] = {"queued": "queued", "moved": "moved", "cancel": "cancel"}


QUEUED = Signal("queued")
MOVED = Signal("moved")


def cancelled(job_id: int) -> Signal:
    return Signal("cancel", job_id)


Subscriber = Callable[[Signal], None]


class Signals:
    def __init__(
        self, engine: AsyncEngine, url: str, *, lead: bool = False, name: str = "artisto"
    ) -> None:
        """``lead``: compete for the queue-position writer's lock (bot processes); ``name``:
        the listening connection's application name in PostgreSQL."""
        self.engine = engine
        self.shared = not is_sqlite(url)
        self._subscribers: list[Subscriber] = []
        self._listener: PgListener | None = None
        if self.shared:
            self._listener = PgListener(
                url,
                CHANNEL,
                self._heard,
                on_connected=self._caught_up,
                lock_key=POSITIONS_LOCK_KEY if lead else None,
                application_name=name,
            )
        self._lead = lead

    def subscribe(self, subscriber: Subscriber) -> None:
        """``subscriber`` is called on the event loop, must be quick and must not raise."""
        self._subscribers.append(subscriber)

    @property
    def listening(self) -> bool:
        """Other processes' signals reach this one (always, with a single process)."""
        return self._listener is None or self._listener.connected

    @property
    def leading(self) -> bool:
        """This process writes the queue positions."""
        if self._listener is None:
            return self._lead
        return self._listener.holds_lock

    def start(self) -> None:
        if self._listener is not None:
            self._listener.start()

    async def aclose(self) -> None:
        if self._listener is not None:
            await self._listener.aclose()

    async def publish(self, *signals: Signal) -> None:
        """Tell this process at once and, on PostgreSQL, every other one. Call it after the
        change is committed; a lost signal costs only a poll's delay."""
        for signal in signals:
            self._deliver(signal)
        if not self.shared or not signals:
            return
        try:
            async with self.engine.connect() as connection:
                for signal in signals:
                    await connection.execute(
                        text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": signal.encode()},
                    )
                await connection.commit()
        except Exception:
            log.warning("signal.not_sent", extra={"signals": [s.encode() for s in signals]})

    def _heard(self, payload: str) -> None:
        signal = Signal.decode(payload)
        if signal is None:
            log.warning("signal.unknown", extra={"payload": payload[:100]})
            return
        self._deliver(signal)

    def _caught_up(self) -> None:
        """Connected again: whatever was missed meanwhile may have queued or moved jobs."""
        self._deliver(QUEUED)
        self._deliver(MOVED)

    def _deliver(self, signal: Signal) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(signal)
            except Exception:
                log.exception("signal.subscriber_failed", extra={"signal": signal.encode()})
