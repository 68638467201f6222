"""The inference pool's queue, shared by its callers and its threads.

Requests wait here under one lock (``inference.scheduling`` decides their order) until a worker
takes them as a batch. Each request's answer is a ``concurrent.futures.Future``, which any
thread may settle and wait on: a caller in a thread of its own (the video pipeline) waits on it
directly, the asyncio front awaits it wrapped. A deadline thread fails each request when its
time is up, queued or running, so that a timeout never waits for a worker to come free.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from artisto.errors import JobTimeout
from inference.scheduling import Request, Scheduler

if TYPE_CHECKING:
    from inference.frames import Frames


@dataclass(eq=False)
class Job:
    style: str
    frames: Frames
    future: concurrent.futures.Future[Frames] = field(default_factory=concurrent.futures.Future)


def settle(
    request: Request[Job], *, result: Frames | None = None, exc: Exception | None = None
) -> None:
    """Answer a request from any thread; the answer to one already cancelled or timed out is
    dropped."""
    future = request.payload.future
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if exc is not None:
            future.set_exception(exc)
        else:
            assert result is not None
            future.set_result(result)


class WorkQueue:
    """Bounded admission, then batches for whichever worker asks next."""

    def __init__(self, size: int) -> None:
        self._sched: Scheduler[Job] = Scheduler(size)
        self._lock = threading.Lock()
        """Never held while a future is settled: its callbacks may come back here."""
        self._work = threading.Condition(self._lock)
        """Workers wait on it for requests."""
        self._clock = threading.Condition(self._lock)
        """The deadline thread waits on it for the next deadline, or for a change."""
        self._accepting = True
        self._stopping = False
        self._drain = False
        self._running: set[Request[Job]] = set()
        self._deadlines: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping

    def __len__(self) -> int:
        with self._lock:
            return len(self._sched)

    def depth(self, priority: int) -> int:
        with self._lock:
            return self._sched.depth(priority)

    @property
    def in_flight(self) -> int:
        """Requests taken by a worker and not yet finished."""
        with self._lock:
            return len(self._running)

    def push(self, request: Request[Job]) -> bool:
        """Queue a request (``QueueFull`` when there is no room); False once closed.

        Cancelling its future ends the wait for it at once: a waiting request leaves the queue
        (and frees its place), a running one finishes with its batch, its answer dropped.
        """
        with self._lock:
            if not self._accepting:
                return False
            self._sched.push(request)
            if self._deadlines is None:
                self._deadlines = threading.Thread(
                    target=self._watch, name="artisto-infer-deadlines", daemon=True
                )
                self._deadlines.start()
            self._work.notify_all()
            self._clock.notify()
        request.payload.future.add_done_callback(functools.partial(self._forget, request))
        return True

    def _forget(self, request: Request[Job], future: concurrent.futures.Future[Frames]) -> None:
        if future.cancelled():
            with self._lock:
                self._sched.remove(request)
            future.set_running_or_notify_cancel()  # wakes concurrent.futures.wait() callers

    def close(self, *, drain: bool) -> list[Request[Job]]:
        """Stop accepting and wake the threads; the workers finish what waits if ``drain``,
        else the waiting requests are returned, for the caller to fail."""
        with self._lock:
            self._accepting, self._stopping, self._drain = False, True, drain
            dropped = [] if drain else self._sched.drain()
            self._work.notify_all()
            self._clock.notify()
        return dropped

    def wake(self) -> None:
        """Have every worker waiting in ``take`` look again (at its ``until``)."""
        with self._lock:
            self._work.notify_all()

    def join(self) -> None:
        """Wait for the deadline thread, which ends once closed with nothing left to watch."""
        if self._deadlines is not None:
            self._deadlines.join()

    def take(
        self, *, max_batch: int, max_wait: float, until: Callable[[], bool] | None = None
    ) -> list[Request[Job]] | None:
        """Block until there is a batch for a worker; None when the queue closes, or once
        ``until()`` is true (checked whenever ``wake()`` is called)."""
        while True:
            with self._lock:
                if self._stopping and not (self._drain and len(self._sched)):
                    return None
                if until is not None and until():
                    return None
                now = time.monotonic()
                overdue = self._overdue(now)
                if not overdue:
                    batch, wake_at = self._sched.take(now, max_batch=max_batch, max_wait=max_wait)
                    live = [r for r in batch if _live(r)]
                    if live:
                        self._running.update(live)
                        return live
                    if not batch:
                        self._work.wait(None if wake_at is None else max(0.0, wake_at - now))
                    continue
            _time_out(overdue)

    def finished(self, batch: list[Request[Job]]) -> None:
        with self._lock:
            self._running.difference_update(batch)
            self._clock.notify()

    def _watch(self) -> None:
        """The deadline thread's loop: sleep until the next deadline, fail what is due."""
        while True:
            with self._lock:
                if self._stopping and not len(self._sched) and not self._running:
                    return
                now = time.monotonic()
                overdue = self._overdue(now)
                if not overdue:
                    due = self._next_deadline()
                    self._clock.wait(None if due is None else due - now)
                    continue
            _time_out(overdue)

    def _overdue(self, now: float) -> list[tuple[Request[Job], JobTimeout]]:
        """The requests past their deadline, each with its error: a queued one leaves the
        queue and never runs; a running one is answered now (its batch finishes, and its
        result is dropped)."""
        overdue = [
            (r, JobTimeout("The request waited too long in the queue."))
            for r in self._sched.expire(now)
        ]
        for request in self._running:
            if _live(request) and request.deadline is not None and request.deadline <= now:
                budget = request.deadline - request.enqueued
                overdue.append(
                    (request, JobTimeout(f"The request was not done within {budget:g} s."))
                )
        return overdue

    def _next_deadline(self) -> float | None:
        running = [r.deadline for r in self._running if _live(r) and r.deadline is not None]
        queued = self._sched.next_deadline()
        return min([*running, *([] if queued is None else [queued])], default=None)


def _time_out(overdue: list[tuple[Request[Job], JobTimeout]]) -> None:
    for request, exc in overdue:
        settle(request, exc=exc)


def _live(request: Request[Job]) -> bool:
    return not request.payload.future.done()
