"""The inference pool: an asyncio front over one worker thread per device.

Callers ``await pool.stylize(...)`` from the event loop. Requests go into a bounded queue
(``inference.scheduling``: priorities, fairness between users, same-shape batching); each worker
thread owns one engine (its device, its models) and takes batches from that queue, so the event
loop never runs a forward pass. Results travel back to the right future through
``loop.call_soon_threadsafe``.

The pool only executes: the jobs table is the durable queue, so a full queue is an honest
``QueueFull`` and shutting down may fail what is pending (``aclose(drain=False)``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Protocol, TypeAlias, cast, runtime_checkable

import numpy as np
import numpy.typing as npt

from artisto.errors import ArtistoError, JobCancelled, JobTimeout, PoolUnavailable
from inference.scheduling import Request, Scheduler

log = logging.getLogger(__name__)

Frames: TypeAlias = npt.NDArray[np.uint8]
"""(N, H, W, 3) uint8 RGB."""


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


class EngineOutputError(RuntimeError):
    """The engine returned something other than one uint8 frame per input frame."""


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
class _Job:
    style: str
    frames: Frames
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Frames]
    abandoned: bool = False
    """The caller stopped waiting (cancelled or timed out): do not run, do not answer."""


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


def _resolve(future: asyncio.Future[Frames], result: Frames | None, exc: Exception | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        assert result is not None
        future.set_result(result)


def _check_frames(frames: object) -> Frames:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
        raise ValueError("frames must be a uint8 numpy array")
    if frames.ndim != 4 or frames.shape[3] != 3 or 0 in frames.shape:
        raise ValueError(
            f"frames must have shape (N, H, W, 3) with N, H, W >= 1, got {frames.shape}"
        )
    return frames


def _check_output(out: object, shape: tuple[int, ...]) -> Frames:
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != np.uint8:
        got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        raise EngineOutputError(f"engine returned {got} for uint8 input of shape {shape}")
    return out


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
        self._sched: Scheduler[_Job] = Scheduler(self.config.queue_size)
        self._cond = threading.Condition()
        self._state = PoolState.STARTING
        self._error: str | None = None
        self._accepting = True
        self._stopping = False
        self._drain = False
        self._started = False
        self._in_flight = 0

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
        with self._cond:
            return len(self._sched)

    @property
    def queue_depths(self) -> dict[Priority, int]:
        with self._cond:
            return {p: self._sched.depth(p) for p in Priority}

    @property
    def in_flight(self) -> int:
        """Requests handed to an engine and not yet answered."""
        with self._cond:
            return self._in_flight

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
        if self._stopping:
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
        if self._stopping:
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
        with self._cond:
            self._accepting, self._stopping = False, True
            dropped = self._sched.drain()
            self._cond.notify_all()
        for request in dropped:
            self._settle(request, exc=PoolUnavailable(self._unavailable_message()))

    async def aclose(self, *, drain: bool = False) -> None:
        """Stop accepting, then finish (``drain=True``) or fail with ``JobCancelled`` what is
        queued; batches already running always finish. Joins the worker threads."""
        if self._state is PoolState.CLOSED:
            return
        running = [w for w in self._workers if w.thread is not None]
        with self._cond:
            self._accepting, self._stopping = False, True
            self._drain = drain and self._state is not PoolState.ERROR and bool(running)
            dropped = [] if self._drain else self._sched.drain()
            self._cond.notify_all()
        for request in dropped:
            self._settle(request, exc=JobCancelled("The service is shutting down."))
        await asyncio.gather(*(asyncio.wrap_future(w.exited) for w in running))
        for worker in running:
            assert worker.thread is not None
            worker.thread.join()
        self._state = PoolState.CLOSED
        log.info("pool.closed", extra={"dropped": len(dropped)})

    async def __aenter__(self) -> InferencePool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the asyncio front ------------------------------------------------------------------

    async def stylize(
        self,
        style: str,
        frames: Frames,
        *,
        user_id: int,
        priority: Priority = Priority.PHOTO,
        # Not only a caller-side timeout: the worker also drops a request that is past it.
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Frames:
        """Stylize ``frames`` (N, H, W, 3 uint8) and return the same shape.

        Raises ``QueueFull`` at once when the queue is full, ``JobTimeout`` when the request
        is not answered within ``timeout`` seconds (default ``job_timeout_s``; a request still
        queued then never runs), ``PoolUnavailable`` when the pool is failed or closing, and
        whatever the engine raised for these frames (``UnknownStyle``...). Cancelling the
        awaiting task withdraws the request if it has not started.
        """
        frames = _check_frames(frames)
        budget = self.config.job_timeout_s if timeout is None else timeout
        if budget <= 0:
            raise ValueError(f"timeout must be positive, got {budget}")
        loop = asyncio.get_running_loop()
        job = _Job(style, frames, loop, loop.create_future())
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
        with self._cond:
            if not self._accepting:
                raise PoolUnavailable(self._unavailable_message())
            self._sched.push(request)
            self._cond.notify_all()
        timer = asyncio.timeout(budget)
        try:
            async with timer:
                return await job.future
        except TimeoutError:
            if not timer.expired():
                raise  # the engine's own TimeoutError
            self._withdraw(request)
            raise JobTimeout(f"The request was not done within {budget:g} s.") from None
        except asyncio.CancelledError:
            self._withdraw(request)
            raise

    def _withdraw(self, request: Request[_Job]) -> None:
        with self._cond:
            request.payload.abandoned = True
            self._sched.remove(request)

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
            self._serve(worker, engine)
        finally:
            worker.exited.set_result(None)

    def _serve(self, worker: _Worker, engine: BatchEngine) -> None:
        while True:
            with self._cond:
                batch = self._next_batch(worker)
            if batch is None:
                return
            try:
                self._execute(engine, batch)
            except Exception:  # a bug here must not take the worker down with it
                log.exception("pool.worker_error", extra={"worker": worker.index})
                for request in batch:
                    self._settle(request, exc=RuntimeError("internal error in the inference pool"))
            finally:
                with self._cond:
                    self._in_flight -= len(batch)

    def _next_batch(self, worker: _Worker) -> list[Request[_Job]] | None:
        """Called with the lock held; blocks until there is a batch or the pool stops."""
        max_wait = self.config.max_wait_ms / 1000
        while True:
            if self._stopping and not (self._drain and len(self._sched)):
                return None
            now = time.monotonic()
            for request in self._sched.expire(now):
                request.payload.abandoned = True
                self._settle(request, exc=JobTimeout("The request waited too long in the queue."))
            batch, wake_at = self._sched.take(now, max_batch=worker.max_batch, max_wait=max_wait)
            if batch:
                self._in_flight += len(batch)
                return batch
            self._cond.wait(None if wake_at is None else max(0.0, wake_at - now))

    def _execute(self, engine: BatchEngine, batch: list[Request[_Job]]) -> None:
        """Run a batch; when it fails, run each member alone so only the bad one fails."""
        live = [r for r in batch if not r.payload.abandoned]
        if not live:
            return
        style = live[0].payload.style
        inputs = [r.payload.frames for r in live]
        frames = inputs[0] if len(inputs) == 1 else np.concatenate(inputs)
        started = time.perf_counter()
        try:
            out = _check_output(engine.stylize_batch(style, frames), frames.shape)
        except Exception as exc:
            if len(live) > 1:
                log.warning(
                    "pool.batch_failed",
                    extra={"style": style, "requests": len(live), "error": repr(exc)},
                )
                for request in live:
                    self._execute(engine, [request])
                return
            if isinstance(exc, ArtistoError):
                log.info("pool.request_failed", extra={"style": style, "error": repr(exc)})
            else:
                log.warning("pool.request_failed", extra={"style": style}, exc_info=exc)
            self._settle(live[0], exc=exc)
            return
        log.debug(
            "pool.batch",
            extra={
                "style": style,
                "frames": len(frames),
                "requests": len(live),
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        offset = 0
        for request, part in zip(live, inputs, strict=True):
            self._settle(request, result=out[offset : offset + len(part)])
            offset += len(part)

    @staticmethod
    def _settle(
        request: Request[_Job], *, result: Frames | None = None, exc: Exception | None = None
    ) -> None:
        job = request.payload
        # A closed loop raises RuntimeError: nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            job.loop.call_soon_threadsafe(_resolve, job.future, result, exc)
