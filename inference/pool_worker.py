"""What a thread of the inference pool does: warm its engine up, take a batch, run it, answer
each request.

A batch that fails is run again request by request, so that one bad input fails alone; and
an engine's wrong answer (a shape or dtype it should not return) fails the request instead of
reaching the caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from artisto.errors import ArtistoError
from inference.pool_queue import Job, WorkQueue, settle
from inference.scheduling import Request

if TYPE_CHECKING:
    from inference.frames import Frames
    from inference.pool_engine import BatchEngine

log = logging.getLogger(__name__)


class EngineOutputError(RuntimeError):
    """The engine returned something other than one uint8 frame per input frame."""


def warm_up(
    queue: WorkQueue, engine: BatchEngine, styles: Sequence[str], warmed: Callable[[], None]
) -> bool:
    """Warm ``styles`` one after the other, ``warmed()`` after each; False when the queue
    closed first (a shutdown waits for one style, not for the rest)."""
    for style in styles:
        if queue.stopping:
            return False
        engine.warm(style)
        warmed()
    return True


def serve(
    queue: WorkQueue,
    engine: BatchEngine,
    *,
    worker: int,
    max_batch: int,
    max_wait: float,
    until: Callable[[], bool] | None = None,
) -> None:
    """Run batches until the queue closes (and, when draining, empties), or ``until()``."""
    while True:
        batch = queue.take(max_batch=max_batch, max_wait=max_wait, until=until)
        if batch is None:
            return
        try:
            execute(engine, batch)
        except Exception:  # a bug here must not take the worker down with it
            log.exception("pool.worker_error", extra={"worker": worker})
            for request in batch:
                settle(request, exc=RuntimeError("internal error in the inference pool"))
        finally:
            queue.finished(batch)


def execute(engine: BatchEngine, batch: list[Request[Job]]) -> None:
    """Run a batch; when it fails, run each member alone so only the bad one fails."""
    live = [r for r in batch if not r.payload.future.done()]  # not timed out meanwhile
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
                execute(engine, [request])
            return
        if isinstance(exc, ArtistoError):
            log.info("pool.request_failed", extra={"style": style, "error": repr(exc)})
        else:
            log.warning("pool.request_failed", extra={"style": style}, exc_info=exc)
        settle(live[0], exc=exc)
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
        settle(request, result=out[offset : offset + len(part)])
        offset += len(part)


def _check_output(out: object, shape: tuple[int, ...]) -> Frames:
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != np.uint8:
        got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        raise EngineOutputError(f"engine returned {got} for uint8 input of shape {shape}")
    return out
