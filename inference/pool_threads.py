"""The inference pool's threads. A worker builds its engine, warms its styles one after the
other, then serves the queue. While the workers warm up, a stand-in serves it with an engine
that is never warmed (a one-shot command's: ONNX Runtime or eager, nothing to compile), so a
request waits for its own style to load, not for the workers' warm-up; it retires once they
are warm.

Each thread reports how far it got through callbacks; the pool turns that into its state.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from inference.pool_engine import EngineSource, PoolConfig, batch_limit, make_engine
from inference.pool_queue import WorkQueue
from inference.pool_worker import serve, warm_up

log = logging.getLogger(__name__)


@dataclass(eq=False)
class PoolThread:
    index: int
    source: EngineSource
    stand_in: bool = False
    thread: threading.Thread | None = None
    max_batch: int = 1
    serving: bool = False
    """A worker: warmed up and serving. The stand-in: serving, not yet retired."""
    to_warm: int = 0
    warmed: int = 0
    exited: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)

    def start(self, target: Callable[[PoolThread], None]) -> None:
        name = "artisto-infer-stand-in" if self.stand_in else f"artisto-infer-{self.index}"
        self.thread = threading.Thread(target=target, args=(self,), name=name, daemon=True)
        self.thread.start()

    def count_warmed(self) -> None:
        self.warmed += 1


@dataclass(frozen=True)
class Reports:
    """How a thread tells the pool how far it got."""

    serving: Callable[[PoolThread, bool], None]
    """The thread serves (True) or no longer does (False)."""
    failed: Callable[[PoolThread, Exception], None]
    """A worker's engine or warm-up failed: the pool cannot serve as configured."""


def run_worker(me: PoolThread, queue: WorkQueue, config: PoolConfig, reports: Reports) -> None:
    max_wait = config.max_wait_ms / 1000
    try:
        try:
            engine = make_engine(me.source)
            styles = engine.begin_warmup(config.warmup_styles)
            me.max_batch = batch_limit(config, engine)
            me.to_warm = len(styles)
            warm = warm_up(queue, engine, styles, me.count_warmed)
        except Exception as exc:
            reports.failed(me, exc)
            return
        if warm:
            reports.serving(me, True)
        # Also after a shutdown in the middle of the warm-up: a draining close is served.
        serve(queue, engine, worker=me.index, max_batch=me.max_batch, max_wait=max_wait)
    finally:
        me.exited.set_result(None)


def run_stand_in(
    me: PoolThread,
    queue: WorkQueue,
    config: PoolConfig,
    reports: Reports,
    retired: Callable[[], bool],
) -> None:
    """Serve until ``retired()`` (checked at each ``queue.wake()``); an engine that fails to
    build only leaves the requests to the workers."""
    try:
        if retired():
            return
        try:
            engine = make_engine(me.source)
            me.max_batch = batch_limit(config, engine)
        except Exception as exc:
            log.warning("pool.stand_in_failed", extra={"error": repr(exc)[:500]})
            return
        reports.serving(me, True)
        serve(
            queue,
            engine,
            worker=me.index,
            max_batch=me.max_batch,
            max_wait=config.max_wait_ms / 1000,
            until=retired,
        )
        reports.serving(me, False)
    finally:
        me.exited.set_result(None)
