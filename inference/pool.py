"""The inference pool: a bounded, fair queue over one worker thread per device.

Requests go into a bounded queue (``inference.scheduling``: priorities, fairness between users,
same-shape batching); each worker thread owns one engine (its device, its models) and takes
batches from that queue, so no caller ever runs a forward pass. Each request is answered
through a ``concurrent.futures.Future``: ``pool.submit(...)`` hands it to callers that wait in
a thread of their own (the video pipeline, batch after batch, without the event loop), and
``await pool.stylize(...)`` awaits the same future on the event loop.

The pool only executes: the jobs table is the durable queue, so a full queue is an honest
``QueueFull`` and shutting down may fail what is pending (``aclose(drain=False)``).

This module is the front and the life cycle; ``pool_queue`` holds the queue the threads share
(and the thread that enforces deadlines), ``pool_worker`` what a worker thread does with a batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Protocol, TypeAlias, cast, runtime_checkable

import numpy as np

from artisto.errors import JobCancelled, PoolUnavailable
from inference.frames import Frames
from inference.pool_queue import Job, WorkQueue, settle
from inference.pool_worker import serve
from inference.scheduling import Request

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """Lower runs first: a photo someone is waiting for goes before the frames of a video."""

    PHOTO = 0
    VIDEO = 1


class PoolState(StrEnum):
    STARTING = "starting"
    READY = "ready"
    ERROR = "error"
    CLOSED = "closed"


@runtime_checkable
class BatchEngine(Protocol):
    """What a worker needs from an engine; ``inference.engine.Engine`` is the real one.

    Called from a single worker thread only. An engine may expose ``device`` (a
    ``torch.device``); the pool reads it to decide whether batching pays.
    """

    def stylize_batch(self, style: str, frames: Frames, /) -> Frames: ...

    def warmup(self, styles: Iterable[str] | None, /) -> None: ...


EngineSource: TypeAlias = BatchEngine | Callable[[], BatchEngine]
"""An engine, or a factory called in the worker thread (so the engine is born where it runs)."""


@dataclass(frozen=True)
class PoolConfig:
    queue_size: int = 256
    """Requests waiting (not running) before ``stylize`` raises ``QueueFull``."""
    max_batch: int = 8
    """Most frames in one ``stylize_batch`` call when batching."""
    max_wait_ms: float = 5.0
    """How long a batch that could still grow waits for mates."""
    job_timeout_s: float = 600.0
    """Default per-request budget, waiting and running together."""
    warmup_styles: tuple[str, ...] | None = None
    """Passed to each engine's ``warmup``; None lets the engine choose (all styles)."""
    batching: bool | None = None
    """None: batch on CUDA engines only. On the CPU a batch takes as long as its frames one by
    one, so waiting for mates would only add latency."""

    def __post_init__(self) -> None:
        if self.queue_size < 1 or self.max_batch < 1:
            raise ValueError("queue_size and max_batch must be at least 1")
        if self.max_wait_ms < 0 or self.job_timeout_s <= 0:
            raise ValueError("max_wait_ms must be >= 0 and job_timeout_s > 0")


def batch_limit(config: PoolConfig, engine: object) -> int:
    """Frames per forward pass for a worker owning ``engine``."""
    batching = config.batching
    if batching is None:
        device = getattr(engine, "device", None)
        batching = getattr(device, "type", None) == "cuda"
    return config.max_batch if batching else 1


@dataclass(eq=False)
class _Worker:
    index: int
    source: EngineSource
    thread: threading.Thread | None = None
    max_batch: int = 1
    ready: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)
    exited: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)


def _make_engine(source: EngineSource) -> BatchEngine:
    # A class has the protocol's methods as attributes too, but it is a factory.
    if not isinstance(source, type) and isinstance(source, BatchEngine):
        return source
    return cast(Callable[[], BatchEngine], source)()


def _check_frames(frames: object) -> Frames:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        raise ValueError("frames must be a uint8 numpy array")
    if frames.ndim != 4 or frames.shape[3] != 3 or 0 in frames.shape:
        raise ValueError(
            f"frames must have shape (N, H, W, 3) with N, H, W >= 1, got {frames.shape}"
        )
    return frames


class InferencePool:
    """Bounded, fair, batching executor of ``stylize_batch`` calls; see the module docstring."""

    def __init__(
        self, engines: EngineSource | Sequence[EngineSource], config: PoolConfig | None = None
    ) -> None:
        sources: list[EngineSource] = list(engines) if isinstance(engines, Sequence) else [engines]
        if not sources:
            raise ValueError("the pool needs at least one engine")
        self.config = config or PoolConfig()
        self._workers = [_Worker(i, s) for i, s in enumerate(sources)]
        self._queue = WorkQueue(self.config.queue_size)
        self._state = PoolState.STARTING
        self._error: str | None = None
        self._started = False

    # -- observation ------------------------------------------------------------------------

    @property
    def state(self) -> PoolState:
        return self._state

    @property
    def error(self) -> str | None:
        """Why the pool is in ERROR, for health checks."""
        return self._error

    @property
    def queue_depth(self) -> int:
        """Requests waiting, not counting those running."""
        return len(self._queue)

    @property
    def queue_depths(self) -> dict[Priority, int]:
        return {p: self._queue.depth(p) for p in Priority}

    @property
    def in_flight(self) -> int:
        """Requests handed to an engine and not yet answered."""
        return self._queue.in_flight

    @property
    def workers(self) -> int:
        return len(self._workers)

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker threads and wait for their warm-up.

        A failed warm-up does not raise: the pool goes to ERROR, keeps the reason in
        ``error`` for the health check, and fails whatever was queued with ``PoolUnavailable``.
        Requests made before ``start`` wait in the queue.
        """
        if self._started:
            return
        if self._queue.stopping:
            raise RuntimeError("the pool was closed")
        self._started = True
        for worker in self._workers:
            worker.thread = threading.Thread(
                target=self._worker_main, args=(worker,), name=f"artisto-infer-{worker.index}"
            )
            worker.thread.daemon = True
            worker.thread.start()
        results = await asyncio.gather(
            *(asyncio.wrap_future(w.ready) for w in self._workers), return_exceptions=True
        )
        failures = [(w, r) for w, r in zip(self._workers, results, strict=True) if r is not None]
        if self._queue.stopping:
            return
        if failures:
            worker, exc = failures[0]
            self._fail_start(f"worker {worker.index}: {type(exc).__name__}: {exc}")
            return
        self._state = PoolState.READY
        log.info(
            "pool.ready",
            extra={
                "workers": len(self._workers),
                "max_batch": [w.max_batch for w in self._workers],
            },
        )

    def _fail_start(self, reason: str) -> None:
        self._state, self._error = PoolState.ERROR, reason
        log.error("pool.warmup_failed", extra={"reason": reason})
        for request in self._queue.close(drain=False):
            settle(request, exc=PoolUnavailable(self._unavailable_message()))

    async def aclose(self, *, drain: bool = False) -> None:
        """Stop accepting, then finish (``drain=True``) or fail with ``JobCancelled`` what is
        queued; batches already running always finish. Joins the worker threads."""
        if self._state is PoolState.CLOSED:
            return
        running = [w for w in self._workers if w.thread is not None]
        drain = drain and self._state is not PoolState.ERROR and bool(running)
        dropped = self._queue.close(drain=drain)
        for request in dropped:
            settle(request, exc=JobCancelled("The service is shutting down."))
        await asyncio.gather(*(asyncio.wrap_future(w.exited) for w in running))
        for worker in running:
            assert worker.thread is not None
            worker.thread.join()
        await asyncio.to_thread(self._queue.join)
        self._state = PoolState.CLOSED
        log.info("pool.closed", extra={"dropped": len(dropped)})

    async def __aenter__(self) -> InferencePool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the fronts --------------------------------------------------------------------------

    def submit(
        self,
        style: str,
        frames: Frames,
        *,
        user_id: int,
        priority: Priority = Priority.PHOTO,
        timeout: float | None = None,
    ) -> concurrent.futures.Future[Frames]:
        """Queue ``frames`` (N, H, W, 3 uint8) from any thread; the future answers with the
        same shape stylized. For callers that wait in a thread of their own: no event loop
        takes part.

        Raises ``QueueFull`` at once when the queue is full, ``PoolUnavailable`` when the pool
        is failed or closing, ``ValueError`` for malformed frames. The future fails with
        ``JobTimeout`` when ``timeout`` seconds (default ``job_timeout_s``) pass before the
        answer (a request still queued then never runs), or with whatever the engine raised
        for these frames (``UnknownStyle``...). ``future.cancel()`` ends the wait at once, as
        the deadline does: a request that has not started never runs, one already running
        finishes with its batch and its answer is dropped.
        """
        frames = _check_frames(frames)
        budget = self.config.job_timeout_s if timeout is None else timeout
        if budget <= 0:
            raise ValueError(f"timeout must be positive, got {budget}")
        job = Job(style, frames)
        n, height, width, _ = frames.shape
        now = time.monotonic()
        request = Request(
            payload=job,
            user_id=user_id,
            priority=int(priority),
            key=(style, height, width),
            size=n,
            cost=n * height * width / 1e6,
            enqueued=now,
            deadline=now + budget,
        )
        if not self._queue.push(request):
            raise PoolUnavailable(self._unavailable_message())
        return job.future

    async def stylize(
        self,
        style: str,
        frames: Frames,
        *,
        user_id: int,
        priority: Priority = Priority.PHOTO,
        # Not a caller-side wait: the pool's deadline for the request, as in ``submit``.
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Frames:
        """``submit``, awaited on the event loop, with the same errors. Cancelling the
        awaiting task cancels the request's future."""
        future = self.submit(style, frames, user_id=user_id, priority=priority, timeout=timeout)
        return await asyncio.wrap_future(future)

    def _unavailable_message(self) -> str:
        if self._state is PoolState.ERROR:
            return f"The stylizer failed to start ({self._error})."
        return "The service is shutting down."

    # -- worker threads ---------------------------------------------------------------------

    def _worker_main(self, worker: _Worker) -> None:
        try:
            try:
                engine = _make_engine(worker.source)
                engine.warmup(self.config.warmup_styles)
                worker.max_batch = batch_limit(self.config, engine)
            except Exception as exc:
                worker.ready.set_exception(exc)
                return
            worker.ready.set_result(None)
            serve(
                self._queue,
                engine,
                worker=worker.index,
                max_batch=worker.max_batch,
                max_wait=self.config.max_wait_ms / 1000,
            )
        finally:
            worker.exited.set_result(None)
