"""The inference pool end to end: real worker threads, a real (tiny) generator, real timing.

``TinyEngine`` is a deterministic TransformerNet behind the ``BatchEngine`` contract. It
records every ``stylize_batch`` call (the first pixel of each frame carries a marker saying
which request it came from), can hold calls at a gate so that tests arrange the queue
while a worker is busy, and raises for frames marked corrupt.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from artisto.errors import (
    JobCancelled,
    JobTimeout,
    MediaDecodeError,
    PoolUnavailable,
    QueueFull,
    UnknownStyle,
)
from inference.frames import Frames
from inference.nets.transformer import TransformerNet
from inference.pool import InferencePool, PoolState, Priority
from inference.pool_engine import PoolConfig, batch_limit
from inference.pool_worker import EngineOutputError

CORRUPT = 255
SIZE = 8


@dataclass(frozen=True)
class Call:
    style: str
    markers: tuple[int, ...]
    thread: int


class TinyEngine:
    """A real generator (width 4, one residual block) per style, on the CPU."""

    def __init__(self, styles: Sequence[str] = ("ink", "oil"), *, warmup_error: str = "") -> None:
        self.nets: dict[str, TransformerNet] = {}
        for seed, name in enumerate(styles):
            torch.manual_seed(seed)
            self.nets[name] = TransformerNet(width=4, n_residual=1).eval()
        self.device = torch.device("cpu")
        self.warmup_error = warmup_error
        self.warmed: list[str] | None = None
        self.warmup_thread: int | None = None
        self.calls: list[Call] = []
        self.gate = threading.Event()
        self.gate.set()
        self.busy = threading.Event()
        """Set when a call has started (and is perhaps held at the gate)."""

    def begin_warmup(self, styles: Iterable[str] | None) -> list[str]:
        self.warmup_thread = threading.get_ident()
        self.warmed = []
        return list(self.nets if styles is None else styles)

    def warm(self, style: str) -> None:
        if self.warmup_error:
            raise RuntimeError(self.warmup_error)
        assert self.warmed is not None, "warm before begin_warmup"
        self.forward(style, frames(0))
        self.warmed.append(style)

    def stylize_batch(self, style: str, frames: Frames) -> Frames:
        self.calls.append(
            Call(style, tuple(int(m) for m in frames[:, 0, 0, 0]), threading.get_ident())
        )
        self.busy.set()
        if not self.gate.wait(10):
            raise RuntimeError("the test never opened the gate")
        if style not in self.nets:
            raise UnknownStyle(f"There is no style called {style!r}.")
        if (frames[:, 0, 0, 0] == CORRUPT).any():
            raise MediaDecodeError("A frame is corrupt.")
        if style == "broken":
            return frames[:, ::2]
        return self.forward(style, frames)

    def forward(self, style: str, frames: Frames) -> Frames:
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(255)
        with torch.inference_mode():
            y = self.nets[style](x)
        out = y.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1)
        result: Frames = out.contiguous().numpy()
        return result

    def markers(self) -> list[int]:
        return [m for call in self.calls for m in call.markers]


class HeldWarmUp(TinyEngine):
    """Each style's warm-up first waits at a gate of its own; ``warming`` says which one is
    being warmed."""

    def __init__(self, styles: Sequence[str], *, warmup_error: str = "") -> None:
        super().__init__(styles, warmup_error=warmup_error)
        self.warm_gates = {name: threading.Event() for name in styles}
        self.warming: dict[str, threading.Event] = {name: threading.Event() for name in styles}

    def warm(self, style: str) -> None:
        self.warming[style].set()
        if not self.warm_gates[style].wait(10):
            raise RuntimeError("the test never opened the gate")
        super().warm(style)

    def open_all(self) -> None:
        for gate in self.warm_gates.values():
            gate.set()


class BrokenEngine(TinyEngine):
    """Registers a style whose output has the wrong shape."""

    def __init__(self) -> None:
        super().__init__(("ink", "broken"))


def frames(marker: int, n: int = 1, size: int = SIZE) -> Frames:
    """``n`` frames of a fixed random picture whose first pixel is ``marker``."""
    rng = np.random.default_rng(marker)
    out = rng.integers(0, 255, size=(n, size, size, 3), dtype=np.uint8)
    out[:, 0, 0, 0] = marker
    return out


async def wait_until(condition: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.002)


async def engine_busy(engine: TinyEngine) -> None:
    assert await asyncio.to_thread(engine.busy.wait, 2.0), "the engine was never called"


def state(pool: InferencePool) -> PoolState:
    """Read afresh: mypy would otherwise keep the narrowing of an earlier assert."""
    return pool.state


def config(**overrides: Any) -> PoolConfig:
    base: dict[str, Any] = {"queue_size": 32, "max_wait_ms": 0.0, "job_timeout_s": 5.0}
    return PoolConfig(**(base | overrides))


def submit(
    pool: InferencePool,
    marker: int,
    user: int,
    *,
    priority: Priority = Priority.PHOTO,
    timeout: float | None = None,
    style: str = "ink",
) -> asyncio.Task[Frames]:
    """Start a request in its own task; it reaches the queue at the loop's next turn."""
    return asyncio.create_task(
        pool.stylize(style, frames(marker), user_id=user, priority=priority, timeout=timeout)
    )


# -- batching -------------------------------------------------------------------------------


async def test_concurrent_same_style_requests_share_one_forward_pass() -> None:
    engine = TinyEngine()
    async with InferencePool(engine, config(batching=True, max_batch=5, max_wait_ms=1000)) as pool:
        a, b = await asyncio.gather(
            pool.stylize("ink", frames(1, n=3), user_id=1),
            pool.stylize("ink", frames(2, n=2), user_id=2),
        )
    assert [(c.style, c.markers) for c in engine.calls] == [("ink", (1, 1, 1, 2, 2))]
    # each caller gets its own frames back, as if stylized alone
    assert a.shape == (3, SIZE, SIZE, 3) and b.shape == (2, SIZE, SIZE, 3)
    for got, marker, n in ((a, 1, 3), (b, 2, 2)):
        alone = engine.forward("ink", frames(marker, n))
        assert np.abs(got.astype(int) - alone.astype(int)).max() <= 1


async def test_different_styles_or_sizes_are_not_batched() -> None:
    engine = TinyEngine()
    async with InferencePool(engine, config(batching=True, max_batch=8, max_wait_ms=30)) as pool:
        await asyncio.gather(
            pool.stylize("ink", frames(1), user_id=1),
            pool.stylize("oil", frames(2), user_id=1),
            pool.stylize("ink", frames(3, size=12), user_id=1),
        )
    assert sorted(c.markers for c in engine.calls) == [(1,), (2,), (3,)]


async def test_a_lone_request_waits_at_most_max_wait_for_mates() -> None:
    engine = TinyEngine()
    async with InferencePool(engine, config(batching=True, max_batch=8, max_wait_ms=60)) as pool:
        started = time.monotonic()
        await pool.stylize("ink", frames(1), user_id=1)
        elapsed = time.monotonic() - started
    assert 0.06 <= elapsed < 1.0
    assert [c.markers for c in engine.calls] == [(1,)]


async def test_cpu_engines_run_batches_of_one_by_default() -> None:
    engine = TinyEngine()
    async with InferencePool(engine, config(max_wait_ms=1000)) as pool:
        await asyncio.gather(*(pool.stylize("ink", frames(m), user_id=m) for m in (1, 2)))
    assert [c.markers for c in engine.calls] == [(1,), (2,)]


def test_batching_defaults_on_for_cuda_engines_only() -> None:
    class CudaLabelled:
        device = torch.device("cuda")

    assert batch_limit(PoolConfig(max_batch=8), CudaLabelled()) == 8
    assert batch_limit(PoolConfig(max_batch=8), TinyEngine()) == 1
    assert batch_limit(PoolConfig(max_batch=8, batching=True), TinyEngine()) == 8
    assert batch_limit(PoolConfig(max_batch=8, batching=False), CudaLabelled()) == 1


# -- order ----------------------------------------------------------------------------------


async def test_a_photo_and_a_second_video_overtake_a_long_video() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config(batching=False)) as pool:
        try:
            first = submit(pool, 1, user=1, priority=Priority.VIDEO)
            await engine_busy(engine)  # user 1's first frame batch is running
            rest = [submit(pool, m, user=1, priority=Priority.VIDEO) for m in range(2, 11)]
            photo = submit(pool, 50, user=2, priority=Priority.PHOTO)
            other_video = submit(pool, 60, user=3, priority=Priority.VIDEO)
            await wait_until(lambda: pool.queue_depth == 11)
            assert pool.queue_depths == {Priority.PHOTO: 1, Priority.VIDEO: 10}
        finally:
            engine.gate.set()
        await asyncio.gather(first, photo, other_video, *rest)
    assert engine.markers() == [1, 50, 60, *range(2, 11)]


async def test_two_engines_work_in_parallel_threads() -> None:
    engines = [TinyEngine(), TinyEngine()]
    for e in engines:
        e.gate.clear()
    async with InferencePool(engines, config()) as pool:
        try:
            tasks = [submit(pool, m, user=m) for m in (1, 2)]
            for e in engines:
                await engine_busy(e)  # both held at once: two workers
        finally:
            for e in engines:
                e.gate.set()
        await asyncio.gather(*tasks)
    threads = {c.thread for e in engines for c in e.calls}
    assert len(threads) == 2 and threading.get_ident() not in threads


# -- admission, deadlines, cancellation ------------------------------------------------------


async def test_a_full_queue_refuses_at_once() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config(queue_size=2)) as pool:
        try:
            running = submit(pool, 1, user=1)
            await engine_busy(engine)
            queued = [submit(pool, m, user=m) for m in (2, 3)]
            await wait_until(lambda: pool.queue_depth == 2)
            started = time.monotonic()
            with pytest.raises(QueueFull):
                await pool.stylize("ink", frames(4), user_id=4)
            assert time.monotonic() - started < 0.1
        finally:
            engine.gate.set()
        await asyncio.gather(running, *queued)
    assert engine.markers() == [1, 2, 3]


async def test_a_request_that_waits_past_its_timeout_never_runs() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config()) as pool:
        try:
            running = submit(pool, 1, user=1)
            await engine_busy(engine)
            started = time.monotonic()
            with pytest.raises(JobTimeout):
                await pool.stylize("ink", frames(2), user_id=2, timeout=0.15)
            assert 0.15 <= time.monotonic() - started < 1.0
            assert pool.queue_depth == 0
        finally:
            engine.gate.set()
        await running
        await pool.stylize("ink", frames(3), user_id=3)
    assert engine.markers() == [1, 3]


async def test_an_overdue_request_never_runs_even_while_the_event_loop_is_blocked() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config()) as pool:
        running = submit(pool, 1, user=1)
        await engine_busy(engine)
        late = submit(pool, 2, user=2, timeout=0.05)
        await wait_until(lambda: pool.queue_depth == 1)
        # Block the event loop: the deadline passes, then the worker comes free, and the pool
        # alone must keep the request from running.
        time.sleep(0.1)  # noqa: ASYNC251
        engine.gate.set()
        time.sleep(0.1)  # noqa: ASYNC251
        with pytest.raises(JobTimeout):
            await late
        await running
    assert engine.markers() == [1]


async def test_a_request_running_past_its_timeout_fails_and_the_worker_goes_on() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config()) as pool:
        try:
            with pytest.raises(JobTimeout):
                await pool.stylize("ink", frames(1), user_id=1, timeout=0.1)
        finally:
            engine.gate.set()
        out = await pool.stylize("ink", frames(2), user_id=1)
        assert out.shape == (1, SIZE, SIZE, 3)


async def test_cancelling_the_caller_withdraws_a_queued_request() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config()) as pool:
        try:
            running = submit(pool, 1, user=1)
            await engine_busy(engine)
            queued = submit(pool, 2, user=2)
            await wait_until(lambda: pool.queue_depth == 1)
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            assert pool.queue_depth == 0
        finally:
            engine.gate.set()
        await running
        await pool.stylize("ink", frames(3), user_id=3)
    assert engine.markers() == [1, 3]


# -- errors ---------------------------------------------------------------------------------


async def test_a_corrupt_frame_fails_alone_and_its_batch_mates_succeed() -> None:
    engine = TinyEngine()
    async with InferencePool(engine, config(batching=True, max_batch=3, max_wait_ms=200)) as pool:
        results = await asyncio.gather(
            *(pool.stylize("ink", frames(m), user_id=m) for m in (1, CORRUPT, 3)),
            return_exceptions=True,
        )
        assert isinstance(results[1], MediaDecodeError)
        for marker, got in ((1, results[0]), (3, results[2])):
            assert isinstance(got, np.ndarray)
            alone = engine.forward("ink", frames(marker))
            assert np.abs(got.astype(int) - alone.astype(int)).max() <= 1
        # one batched try, then each member alone; the worker keeps serving
        assert [c.markers for c in engine.calls] == [(1, CORRUPT, 3), (1,), (CORRUPT,), (3,)]
        assert (await pool.stylize("ink", frames(4), user_id=4)).shape == (1, SIZE, SIZE, 3)


async def test_engine_errors_reach_the_caller_with_their_type() -> None:
    async with InferencePool(BrokenEngine(), config()) as pool:
        with pytest.raises(UnknownStyle, match="nope"):
            await pool.stylize("nope", frames(1), user_id=1)
        with pytest.raises(EngineOutputError, match="shape"):
            await pool.stylize("broken", frames(2), user_id=1)
        assert (await pool.stylize("ink", frames(3), user_id=1)).shape == (1, SIZE, SIZE, 3)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((SIZE, SIZE, 3), np.uint8),
        np.zeros((1, SIZE, SIZE, 4), np.uint8),
        np.zeros((0, SIZE, SIZE, 3), np.uint8),
        np.zeros((1, SIZE, SIZE, 3), np.float32),
    ],
)
async def test_malformed_frames_are_refused_before_queueing(bad: Frames) -> None:
    async with InferencePool(TinyEngine(), config()) as pool:
        with pytest.raises(ValueError, match="frames"):
            await pool.stylize("ink", bad, user_id=1)
        assert pool.queue_depth == 0


# -- life cycle -----------------------------------------------------------------------------


async def test_states_and_warm_up_in_the_worker_thread() -> None:
    engine = TinyEngine()
    made_in: list[int] = []

    def factory() -> TinyEngine:
        made_in.append(threading.get_ident())
        return engine

    pool = InferencePool([factory], config(warmup_styles=("oil",)))
    assert state(pool) is PoolState.STARTING
    early = submit(pool, 1, user=1)  # accepted before the start, run once the engine is up
    await wait_until(lambda: pool.queue_depth == 1)
    await pool.start()
    assert await pool.warmed() is PoolState.READY and pool.error is None
    assert engine.warmed == ["oil"] and pool.warm_progress == (1, 1)
    assert made_in == [engine.warmup_thread] and engine.warmup_thread != threading.get_ident()
    assert (await early).shape == (1, SIZE, SIZE, 3)
    await pool.aclose()
    assert state(pool) is PoolState.CLOSED
    with pytest.raises(PoolUnavailable):
        await pool.stylize("ink", frames(2), user_id=1)


async def test_an_engine_that_fails_to_build_means_error_with_its_reason() -> None:
    def factory() -> TinyEngine:
        raise RuntimeError("weights missing")

    pool = InferencePool([factory], config())
    early = submit(pool, 1, user=1)
    await wait_until(lambda: pool.queue_depth == 1)
    await pool.start()
    assert await pool.warmed() is PoolState.ERROR
    assert pool.error is not None and "weights missing" in pool.error
    with pytest.raises(PoolUnavailable, match="weights missing"):
        await early
    with pytest.raises(PoolUnavailable, match="weights missing"):
        await pool.stylize("ink", frames(2), user_id=1)
    await pool.aclose()
    assert state(pool) is PoolState.CLOSED


async def test_the_stand_in_serves_while_the_worker_warms_up_then_retires() -> None:
    """A request waits for its own style on the stand-in, not for the worker's warm-up."""
    styles = ("ink", "oil", "tar")
    worker, stand_in = HeldWarmUp(styles), TinyEngine(styles)
    pool = InferencePool(worker, config(), stand_in=stand_in)
    await pool.start()
    try:
        assert await asyncio.to_thread(worker.warming["ink"].wait, 10)
        await wait_until(lambda: state(pool) is PoolState.WARMING)
        assert (await submit(pool, 1, user=1, style="tar")).shape == (1, SIZE, SIZE, 3)
        assert [call.style for call in stand_in.calls] == ["tar"] and not worker.calls
        assert worker.warmed == [] and pool.warm_progress == (0, 3)  # still at "ink"
        assert state(pool) is PoolState.WARMING
    finally:
        worker.open_all()
    assert await pool.warmed() is PoolState.READY and pool.warm_progress == (3, 3)
    assert (await submit(pool, 2, user=1, style="oil")).shape == (1, SIZE, SIZE, 3)
    assert [call.style for call in worker.calls] == ["oil"] and len(stand_in.calls) == 1
    await wait_until(
        lambda: "artisto-infer-stand-in" not in {t.name for t in threading.enumerate()}
    )
    await pool.aclose()


async def test_a_failed_warm_up_means_error_after_what_the_stand_in_served() -> None:
    worker = HeldWarmUp(("ink",), warmup_error="a pack is corrupt")
    stand_in = TinyEngine()
    pool = InferencePool(worker, config(), stand_in=stand_in)
    await pool.start()
    try:
        await wait_until(lambda: state(pool) is PoolState.WARMING)
        assert (await submit(pool, 1, user=1)).shape == (1, SIZE, SIZE, 3)
    finally:
        worker.open_all()
    assert await pool.warmed() is PoolState.ERROR
    assert pool.error is not None and "a pack is corrupt" in pool.error
    with pytest.raises(PoolUnavailable, match="a pack is corrupt"):
        await pool.stylize("ink", frames(2), user_id=1)
    await pool.aclose()
    assert state(pool) is PoolState.CLOSED and len(stand_in.calls) == 1


async def test_closing_during_the_warm_up_waits_for_one_style_only() -> None:
    engine = HeldWarmUp(("ink", "oil", "tar"))
    pool = InferencePool(engine, config())
    await pool.start()
    try:
        assert await asyncio.to_thread(engine.warming["ink"].wait, 10)
        assert state(pool) is PoolState.STARTING  # no stand-in: nothing serves yet
        assert pool.warm_progress == (0, 3)
        closing = asyncio.ensure_future(pool.aclose())
        waiting = asyncio.ensure_future(pool.warmed())
        await asyncio.sleep(0.05)
        assert not closing.done() and not waiting.done()  # "ink" is still warming
        engine.warm_gates["ink"].set()
        await closing
    finally:
        engine.open_all()
    assert await waiting is PoolState.CLOSED
    assert engine.warmed == ["ink"]
    assert not any(t.name.startswith("artisto-infer") for t in threading.enumerate())


async def test_aclose_fails_what_is_queued_and_finishes_what_runs() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    pool = InferencePool(engine, config())
    await pool.start()
    running = submit(pool, 1, user=1)
    await engine_busy(engine)
    queued = [submit(pool, m, user=m) for m in (2, 3)]
    await wait_until(lambda: pool.queue_depth == 2)
    closing = asyncio.ensure_future(pool.aclose())
    for task in queued:
        with pytest.raises(JobCancelled):
            await task
    assert not closing.done()  # waits for the running batch
    engine.gate.set()
    assert (await running).shape == (1, SIZE, SIZE, 3)
    await closing
    assert state(pool) is PoolState.CLOSED
    assert engine.markers() == [1]
    assert not any(t.name.startswith("artisto-infer") for t in threading.enumerate())


async def test_aclose_with_drain_finishes_what_is_queued() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    pool = InferencePool(engine, config())
    await pool.start()
    tasks = [submit(pool, m, user=m) for m in (1, 2, 3)]
    await wait_until(lambda: pool.queue_depth == 2)
    closing = asyncio.ensure_future(pool.aclose(drain=True))
    await asyncio.sleep(0.01)
    with pytest.raises(PoolUnavailable):
        await pool.stylize("ink", frames(4), user_id=4)
    engine.gate.set()
    await closing
    assert all(t.result().shape == (1, SIZE, SIZE, 3) for t in tasks)
    assert engine.markers() == [1, 2, 3]


# -- the thread-side front ------------------------------------------------------------------
# These tests block the event loop while they wait on a future: the answers must arrive
# without it, as they do for the video pipeline's thread.


def answer(future: Future[Frames], within: float = 5.0) -> Frames:
    return future.result(timeout=within)


async def test_submit_answers_through_its_future_without_the_event_loop() -> None:
    engine = TinyEngine()
    async with InferencePool(engine, config()) as pool:
        submitted_from: list[int] = []

        def from_a_thread() -> Future[Frames]:
            submitted_from.append(threading.get_ident())
            return pool.submit("ink", frames(1, n=2), user_id=1, priority=Priority.VIDEO)

        future = await asyncio.to_thread(from_a_thread)
        got = answer(future)
        assert got.shape == (2, SIZE, SIZE, 3)
        assert (
            np.abs(got.astype(int) - engine.forward("ink", frames(1, n=2)).astype(int)).max() <= 1
        )
        (call,) = engine.calls
        assert call.thread not in {threading.get_ident(), *submitted_from}


async def test_submit_carries_the_engines_error_and_the_worker_goes_on() -> None:
    engine = TinyEngine()
    async with InferencePool(engine, config()) as pool:
        corrupt = pool.submit("ink", frames(CORRUPT), user_id=1)
        unknown = pool.submit("nope", frames(2), user_id=1)
        fine = pool.submit("ink", frames(3), user_id=1)
        with pytest.raises(MediaDecodeError):
            answer(corrupt)
        with pytest.raises(UnknownStyle, match="nope"):
            answer(unknown)
        assert answer(fine).shape == (1, SIZE, SIZE, 3)


async def test_cancelling_a_queued_future_withdraws_it_and_frees_its_place() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config(queue_size=1)) as pool:
        try:
            running = pool.submit("ink", frames(1), user_id=1)
            await engine_busy(engine)
            queued = pool.submit("ink", frames(2), user_id=2)
            with pytest.raises(QueueFull):
                pool.submit("ink", frames(3), user_id=3)
            assert queued.cancel() and pool.queue_depth == 0
            replacement = pool.submit("ink", frames(4), user_id=3)
        finally:
            engine.gate.set()
        assert answer(running).shape == answer(replacement).shape == (1, SIZE, SIZE, 3)
    assert queued.cancelled()
    assert engine.markers() == [1, 4]


async def test_cancelling_a_running_future_ends_the_wait_and_the_batch_finishes() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config()) as pool:
        try:
            running = pool.submit("ink", frames(1), user_id=1)
            await engine_busy(engine)
            assert running.cancel()
            done, _ = wait([running], timeout=1)  # woken at once, the engine still held
            assert done == {running} and running.cancelled() and pool.in_flight == 1
        finally:
            engine.gate.set()
        assert answer(pool.submit("ink", frames(2), user_id=1)).shape == (1, SIZE, SIZE, 3)
    assert engine.markers() == [1, 2]


async def test_a_future_fails_at_its_deadline_while_the_worker_is_still_busy() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config()) as pool:
        try:
            started = time.monotonic()
            running = pool.submit("ink", frames(1), user_id=1, timeout=0.1)
            await engine_busy(engine)
            queued = pool.submit("ink", frames(2), user_id=2, timeout=0.2)
            with pytest.raises(JobTimeout, match=r"not done within 0\.1 s"):
                answer(running)
            with pytest.raises(JobTimeout, match="waited too long"):
                answer(queued)
            assert 0.2 <= time.monotonic() - started < 2.0
            assert engine.gate.is_set() is False and pool.queue_depth == 0
        finally:
            engine.gate.set()
        assert answer(pool.submit("ink", frames(3), user_id=3)).shape == (1, SIZE, SIZE, 3)
    assert engine.markers() == [1, 3]


async def test_thread_side_video_frames_yield_to_a_photo_and_share_with_other_users() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    async with InferencePool(engine, config()) as pool:
        try:
            first = pool.submit("ink", frames(1), user_id=1, priority=Priority.VIDEO)
            await engine_busy(engine)
            video = [
                pool.submit("ink", frames(m), user_id=1, priority=Priority.VIDEO) for m in (2, 3, 4)
            ]
            other = pool.submit("ink", frames(60), user_id=3, priority=Priority.VIDEO)
            photo = submit(pool, 50, user=2)
            await wait_until(lambda: pool.queue_depth == 5)
        finally:
            engine.gate.set()
        for future in (first, *video, other):
            answer(future)
        await photo
    assert engine.markers() == [1, 50, 60, 2, 3, 4]  # user 3 before user 1's second


async def test_aclose_fails_queued_futures_and_stops_the_deadline_thread() -> None:
    engine = TinyEngine()
    engine.gate.clear()
    pool = InferencePool(engine, config())
    await pool.start()
    running = pool.submit("ink", frames(1), user_id=1)
    await engine_busy(engine)
    queued = pool.submit("ink", frames(2), user_id=2)
    closing = asyncio.ensure_future(pool.aclose())
    await asyncio.sleep(0)  # aclose fails the queue at once, then waits for the running batch
    with pytest.raises(JobCancelled):
        answer(queued)
    engine.gate.set()
    await closing
    assert answer(running).shape == (1, SIZE, SIZE, 3)
    with pytest.raises(PoolUnavailable):
        pool.submit("ink", frames(3), user_id=3)
    assert "artisto-infer-deadlines" not in {t.name for t in threading.enumerate()}
