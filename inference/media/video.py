"""Stylize a clip, streaming: decode thread -> batches through the generator -> encode thread.

The stages and their bounded queues are ``video_pipeline``; this module probes first (refusing
what it can before any of that starts), plans the output, runs the pipeline and shrinks the
result when it is over the upload limit.

The stylize function is synchronous on a (N, H, W, 3) uint8 batch. For callers on an event
loop, ``stylize_video_pooled`` runs the same pipeline in a worker thread that hands each batch
to a thread-side submit (``InferencePool.submit``) and waits for its future there, so the loop
takes no part in a batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from artisto.errors import JobCancelled
from inference.media.probe import probe_video
from inference.media.video_audio import AudioPlan
from inference.media.video_decode import FrameReader, plan_geometry
from inference.media.video_encode import EncodeSettings, Mp4Writer
from inference.media.video_pipeline import Pipeline, Progress, Stylize
from inference.media.video_shrink import shrink_to_fit
from inference.media.video_types import (
    StageTimes,
    VideoInfo,
    VideoKind,
    VideoLimits,
    VideoOptions,
    VideoResult,
)

__all__ = [
    "StageTimes",
    "VideoInfo",
    "VideoKind",
    "VideoLimits",
    "VideoOptions",
    "VideoResult",
    "probe_video",
    "stylize_video",
    "stylize_video_pooled",
]

log = logging.getLogger(__name__)

Submit = Callable[[np.ndarray], concurrent.futures.Future[np.ndarray]]
"""Queues a batch with a stylizer that runs elsewhere (``InferencePool.submit``); called from
the pipeline's thread, its future is waited for there."""

_VBV_AUDIO_ALLOWANCE = 320_000
"""Bit/s kept for the sound when capping the video rate (a copied track may be rich)."""
_VBV_FLOOR = 200_000
_VBV_CEILING = 100_000_000


def stylize_video(
    src: Path,
    dst: Path,
    stylize: Stylize,
    *,
    kind: VideoKind = "video",
    options: VideoOptions | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> VideoResult:
    """Stylize ``src`` into the MP4 ``dst``; ``progress(done, total)`` after each batch.

    Raises the probe's typed errors, ``MediaTooLarge`` when the clip runs past its limit while
    decoding, ``JobCancelled`` once ``cancel`` is set, and whatever ``stylize`` raises. ``dst``
    appears only when everything succeeded.
    """
    options = options or VideoOptions()
    started = time.perf_counter()
    info = probe_video(src, options.limits, kind=kind)
    geometry = plan_geometry(info, kind, options)
    fps = min(info.fps, options.limits.max_fps)
    settings = EncodeSettings(
        geometry.width,
        geometry.height,
        fps,
        preset=options.preset,
        crf=options.crf,
        maxrate=_vbv_cap(options.max_output_bytes, info.duration),
    )
    keep_audio = info.has_audio and kind != "animation"
    audio = AudioPlan(src, info.start_time, options.audio_bitrate) if keep_audio else None
    reader = FrameReader(
        info,
        geometry,
        max_fps=options.limits.max_fps,
        max_duration=options.limits.max_duration(kind),
    )
    part = dst.with_name(dst.name + ".part")
    try:
        writer = Mp4Writer(part, settings, audio)
        pipeline = Pipeline(reader, writer, stylize, options, progress, cancel)
        pipeline.run(info.expected_frames(options.limits.max_fps))
        shrink_started = time.perf_counter()
        passes = 0
        if part.stat().st_size > options.max_output_bytes:
            passes = shrink_to_fit(part, options.max_output_bytes, preset=options.preset)
        shrink_s = time.perf_counter() - shrink_started
        part.replace(dst)
    finally:
        part.unlink(missing_ok=True)
    result = VideoResult(
        path=dst,
        kind=kind,
        width=geometry.width,
        height=geometry.height,
        frames=writer.frames,
        duration=writer.end,
        has_audio=writer.audio_mode is not None,
        audio_mode=writer.audio_mode,
        size_bytes=dst.stat().st_size,
        shrink_passes=passes,
        times=StageTimes(
            decode_s=pipeline.decode_s,
            stylize_s=pipeline.stylize_s,
            encode_s=pipeline.encode_s,
            shrink_s=shrink_s if passes else 0.0,
            wall_s=time.perf_counter() - started,
        ),
    )
    log.info(
        "video.done",
        extra={
            "kind": kind,
            "frames": result.frames,
            "size": f"{result.width}x{result.height}",
            "bytes": result.size_bytes,
            "audio": result.audio_mode,
            "wall_s": round(result.times.wall_s, 2),
            "stylize_s": round(result.times.stylize_s, 2),
        },
    )
    return result


async def stylize_video_pooled(
    src: Path,
    dst: Path,
    submit: Submit,
    *,
    kind: VideoKind = "video",
    options: VideoOptions | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> VideoResult:
    """``stylize_video`` in a worker thread that hands each batch to ``submit`` and waits for
    its future there: the event loop takes no part in a batch.

    ``progress`` is called on the event loop (so it may touch asyncio objects). Cancelling the
    awaiting task cancels the batch being waited for (one still queued never runs), stops the
    pipeline and removes the partial output; setting ``cancel`` stops it at the next batch.
    """
    loop = asyncio.get_running_loop()
    batches = _Batches(submit, cancel or threading.Event())

    def on_loop(done: int, total: int) -> None:
        if progress is not None:
            loop.call_soon_threadsafe(progress, done, total)

    worker = loop.run_in_executor(
        None,
        functools.partial(
            stylize_video,
            src,
            dst,
            batches,
            kind=kind,
            options=options,
            progress=on_loop,
            cancel=batches.cancelled,
        ),
    )
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        batches.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait([worker])
        raise


class _Batches:
    """The pipeline's stylize function over ``submit``: it waits for each batch's future in the
    pipeline's thread, and ``cancel()``, from any thread, ends that wait at once."""

    def __init__(self, submit: Submit, cancelled: threading.Event) -> None:
        self._submit = submit
        self.cancelled = cancelled
        self._lock = threading.Lock()
        self._waiting: concurrent.futures.Future[np.ndarray] | None = None

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        with self._lock:
            if self.cancelled.is_set():
                raise JobCancelled("The job was cancelled.")
            future = self._waiting = self._submit(frames)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise JobCancelled("The job was cancelled.") from None
        finally:
            with self._lock:
                self._waiting = None

    def cancel(self) -> None:
        """Stop the pipeline now; the batch waited for never runs if it has not started."""
        with self._lock:
            self.cancelled.set()
            if self._waiting is not None:
                self._waiting.cancel()


def _vbv_cap(max_output_bytes: int, duration: float) -> int | None:
    """A video bit-rate ceiling that keeps the whole clip under the upload limit, or None when
    no clip this size could reach it (x264 also refuses buffer sizes past 2**31 bits)."""
    if duration <= 0:
        return None
    rate = int(0.85 * max_output_bytes * 8 / duration) - _VBV_AUDIO_ALLOWANCE
    if rate > _VBV_CEILING:
        return None
    return max(_VBV_FLOOR, rate)
