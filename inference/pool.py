"""The inference pool: a bounded, fair queue over one worker thread per device.

Requests go into a bounded queue (``inference.scheduling``: priorities, fairness between users,
same-shape batching); each worker thread owns one engine (its device, its models) and takes
batches from that queue, so no caller ever runs a forward pass. Each request is answered
through a ``concurrent.futures.Future``: ``pool.submit(...)`` hands it to callers that wait in
a thread of their own (the video pipeline, batch after batch, without the event loop), and
``await pool.stylize(...)`` awaits the same future on the event loop.

The pool only executes: the jobs table is the durable queue, so a full queue is an honest
``QueueFull`` and shutting down may fail what is pending (``aclose(drain=False)``).

Starting returns at once: the workers build their engines and warm their styles up (a compile
on the CPU) in the background, READY when done. Given a stand-in engine, the pool serves from
the start (WARMING): a request then waits for its own style, not for the warm-up.

This module is the front and the pool's state; ``pool_engine`` what it asks of an engine and
its settings, ``pool_threads`` what its threads do, ``pool_queue`` the queue they share (and
the thread that enforces deadlines), ``pool_worker`` how a thread warms up and runs a batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from enum import IntEnum, StrEnum

import numpy as np

from artisto.errors import JobCancelled, PoolUnavailable
from inference.frames import Frames
from inference.pool_engine import EngineSource, PoolConfig
from inference.pool_queue import Job, WorkQueue, settle
from inference.pool_threads import PoolThread, Reports, run_stand_in, run_worker
from inference.scheduling import Request

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """Lower runs first: a photo someone is waiting for goes before the frames of a video."""

    PHOTO = 0
    VIDEO = 1


class PoolState(StrEnum):
    STARTING = "starting"
    """The engines are being built and warmed up; requests wait in the queue."""
    WARMING = "warming"
    """The stand-in serves while the workers warm up."""
    READY = "ready"
    """Every worker warm and serving."""
    ERROR = "error"
    CLOSED = "closed"


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
        self,
        engines: EngineSource | Sequence[EngineSource],
        config: PoolConfig | None = None,
        *,
        stand_in: EngineSource | None = None,
    ) -> None:
        """``stand_in``: an engine (or factory) that serves while the workers warm up; it is
        never warmed, so it should need no warm-up to serve (an ``Engine`` then runs as a
        one-shot command does). Without one, requests wait for the warm-up."""
        sources: list[EngineSource] = list(engines) if isinstance(engines, Sequence) else [engines]
        if not sources:
            raise ValueError("the pool needs at least one engine")
        self.config = config or PoolConfig()
        self._workers = [PoolThread(i, s) for i, s in enumerate(sources)]
        self._stand_in = None if stand_in is None else PoolThread(len(sources), stand_in, True)
        self._queue = WorkQueue(self.config.queue_size)
        self._state = PoolState.STARTING
        self._error: str | None = None
        self._started_at: float | None = None
        self._lock = threading.Lock()
        """Held while the threads move the pool's state."""
        self._settled: concurrent.futures.Future[None] = concurrent.futures.Future()
        """Done once the pool is READY, ERROR or CLOSED: what ``warmed()`` waits for."""

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

    @property
    def warm_progress(self) -> tuple[int, int]:
        """Styles warmed so far and styles to warm, over all the workers (one engine each)."""
        return sum(w.warmed for w in self._workers), sum(w.to_warm for w in self._workers)

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the threads and return; ``warmed()`` waits for the warm-up.

        A failed engine or warm-up does not raise: the pool goes to ERROR, keeps the reason in
        ``error`` for the health check, and fails whatever was queued with ``PoolUnavailable``.
        Requests made before ``start`` wait in the queue.
        """
        if self._started_at is not None:
            return
        if self._queue.stopping:
            raise RuntimeError("the pool was closed")
        self._started_at = time.monotonic()
        reports = Reports(serving=self._serving, failed=self._failed)
        for worker in self._workers:
            worker.start(lambda me: run_worker(me, self._queue, self.config, reports))
        if self._stand_in is not None:
            self._stand_in.start(
                lambda me: run_stand_in(me, self._queue, self.config, reports, self._retired)
            )

    async def warmed(self) -> PoolState:
        """Wait, once started, until every worker is warm (READY) or the pool failed or
        closed; the state then."""
        await asyncio.shield(asyncio.wrap_future(self._settled))
        return self._state

    def _threads(self) -> list[PoolThread]:
        return self._workers + ([] if self._stand_in is None else [self._stand_in])

    def _retired(self) -> bool:
        """The stand-in's end: the workers are warm (or the pool is done for)."""
        return self._state in (PoolState.READY, PoolState.ERROR, PoolState.CLOSED)

    def _serving(self, thread: PoolThread, serving: bool) -> None:
        with self._lock:
            thread.serving = serving
            if self._state in (PoolState.ERROR, PoolState.CLOSED) or self._queue.stopping:
                return
            if all(w.serving for w in self._workers):
                state = PoolState.READY
            elif self._stand_in is not None and self._stand_in.serving:
                state = PoolState.WARMING
            else:
                state = PoolState.STARTING
            changed, self._state = state is not self._state, state
        if changed and state is PoolState.READY:
            assert self._started_at is not None
            log.info(
                "pool.ready",
                extra={
                    "workers": len(self._workers),
                    "max_batch": [w.max_batch for w in self._workers],
                    "styles": self.warm_progress[1],
                    "warm_s": round(time.monotonic() - self._started_at, 1),
                },
            )
            self._queue.wake()  # the stand-in retires
            self._settle()

    def _failed(self, worker: PoolThread, exc: Exception) -> None:
        reason = f"worker {worker.index}: {type(exc).__name__}: {exc}"
        with self._lock:
            if self._state in (PoolState.ERROR, PoolState.CLOSED) or self._queue.stopping:
                return
            self._state, self._error = PoolState.ERROR, reason
        log.error("pool.warmup_failed", extra={"reason": reason})
        for request in self._queue.close(drain=False):
            settle(request, exc=PoolUnavailable(self._unavailable_message()))
        self._settle()

    def _settle(self) -> None:
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            self._settled.set_result(None)

    async def aclose(self, *, drain: bool = False) -> None:
        """Stop accepting, then finish (``drain=True``) or fail with ``JobCancelled`` what is
        queued; batches already running always finish, and a warm-up its current style.
        Joins the threads."""
        if self._state is PoolState.CLOSED:
            return
        running = [t for t in self._threads() if t.thread is not None]
        drain = drain and self._state is not PoolState.ERROR and bool(running)
        dropped = self._queue.close(drain=drain)
        for request in dropped:
            settle(request, exc=JobCancelled("The service is shutting down."))
        await asyncio.gather(*(asyncio.wrap_future(t.exited) for t in running))
        for thread in running:
            assert thread.thread is not None
            thread.thread.join()
        await asyncio.to_thread(self._queue.join)
        self._state = PoolState.CLOSED
        self._settle()
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
