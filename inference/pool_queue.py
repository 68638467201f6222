"""The inference pool's queue, shared by the event loop and the worker threads.

Requests wait here under one lock (``inference.scheduling`` decides their order) until a worker
takes them as a batch; each request's answer travels back to the loop that awaits it through
``loop.call_soon_threadsafe``, the only way another thread may touch an asyncio future.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artisto.errors import JobTimeout
from inference.scheduling import Request, Scheduler

if TYPE_CHECKING:
    from inference.frames import Frames


@dataclass(eq=False)
class Job:
    style: str
    frames: Frames
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Frames]
    abandoned: bool = False
    """The caller stopped waiting (cancelled or timed out): do not run, do not answer."""


def settle(
    request: Request[Job], *, result: Frames | None = None, exc: Exception | None = None
) -> None:
    """Answer a request from any thread."""
    job = request.payload
    # A closed loop raises RuntimeError: nobody is waiting any more.
    with contextlib.suppress(RuntimeError):
        job.loop.call_soon_threadsafe(_resolve, job.future, result, exc)


def _resolve(future: asyncio.Future[Frames], result: Frames | None, exc: Exception | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        assert result is not None
        future.set_result(result)


class WorkQueue:
    """Bounded admission, then batches for whichever worker asks next."""

    def __init__(self, size: int) -> None:
        self._sched: Scheduler[Job] = Scheduler(size)
        self._cond = threading.Condition()
        self._accepting = True
        self._stopping = False
        self._drain = False
        self._in_flight = 0

    @property
    def stopping(self) -> bool:
        return self._stopping

    def __len__(self) -> int:
        with self._cond:
            return len(self._sched)

    def depth(self, priority: int) -> int:
        with self._cond:
            return self._sched.depth(priority)

    @property
    def in_flight(self) -> int:
        """Requests taken by a worker and not yet finished."""
        with self._cond:
            return self._in_flight

    def push(self, request: Request[Job]) -> bool:
        """Queue a request (``QueueFull`` when there is no room); False once closed."""
        with self._cond:
            if not self._accepting:
                return False
            self._sched.push(request)
            self._cond.notify_all()
        return True

    def withdraw(self, request: Request[Job]) -> None:
        """The caller gave up: the request never runs (or its answer is dropped)."""
        with self._cond:
            request.payload.abandoned = True
            self._sched.remove(request)

    def close(self, *, drain: bool) -> list[Request[Job]]:
        """Stop accepting and wake the workers; they finish what waits if ``drain``, else the
        waiting requests are returned, for the caller to fail."""
        with self._cond:
            self._accepting, self._stopping, self._drain = False, True, drain
            dropped = [] if drain else self._sched.drain()
            self._cond.notify_all()
        return dropped

    def take(self, *, max_batch: int, max_wait: float) -> list[Request[Job]] | None:
        """Block until there is a batch for a worker; None when the queue closes."""
        with self._cond:
            while True:
                if self._stopping and not (self._drain and len(self._sched)):
                    return None
                now = time.monotonic()
                for request in self._sched.expire(now):
                    request.payload.abandoned = True
                    settle(request, exc=JobTimeout("The request waited too long in the queue."))
                batch, wake_at = self._sched.take(now, max_batch=max_batch, max_wait=max_wait)
                if batch:
                    self._in_flight += len(batch)
                    return batch
                self._cond.wait(None if wake_at is None else max(0.0, wake_at - now))

    def finished(self, batch: list[Request[Job]]) -> None:
        with self._cond:
            self._in_flight -= len(batch)
