"""Stylize a clip, streaming: decode thread -> batches through the generator -> encode thread.

The stages and their bounded queues are ``video_pipeline``; this module probes first (refusing
what it can before any of that starts), plans the output, runs the pipeline and shrinks the
result when it is over the upload limit.

The stylize function is synchronous on a (N, H, W, 3) uint8 batch. ``stylize_video_async``
runs the same pipeline in a worker thread for callers whose stylize is a coroutine (the bot's
inference pool).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
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
    "stylize_video_async",
]

log = logging.getLogger(__name__)

_POLL_S = 0.1
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


async def stylize_video_async(
    src: Path,
    dst: Path,
    stylize: Callable[[np.ndarray], Awaitable[np.ndarray]],
    *,
    kind: VideoKind = "video",
    options: VideoOptions | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> VideoResult:
    """``stylize_video`` for a coroutine ``stylize``, run in a worker thread.

    Each batch is submitted to this event loop and awaited from the worker; ``progress`` is
    called on the event loop (so it may touch asyncio objects). Cancelling the awaiting task
    stops the worker at the next batch and removes the partial output.
    """
    loop = asyncio.get_running_loop()
    cancel = cancel or threading.Event()

    def bridged(frames: np.ndarray) -> np.ndarray:
        future = asyncio.run_coroutine_threadsafe(_awaited(stylize, frames), loop)
        while True:
            try:
                return future.result(timeout=_POLL_S)
            except concurrent.futures.TimeoutError:
                if cancel.is_set():
                    future.cancel()
                    raise JobCancelled("The job was cancelled.") from None

    def on_loop(done: int, total: int) -> None:
        if progress is not None:
            loop.call_soon_threadsafe(progress, done, total)

    worker = loop.run_in_executor(
        None,
        lambda: stylize_video(
            src, dst, bridged, kind=kind, options=options, progress=on_loop, cancel=cancel
        ),
    )
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        cancel.set()
        with contextlib.suppress(Exception):
            await asyncio.wait([worker])
        raise


async def _awaited(
    stylize: Callable[[np.ndarray], Awaitable[np.ndarray]], frames: np.ndarray
) -> np.ndarray:
    """Call ``stylize`` on the event loop's own thread, where its awaitable belongs."""
    return await stylize(frames)


def _vbv_cap(max_output_bytes: int, duration: float) -> int | None:
    """A video bit-rate ceiling that keeps the whole clip under the upload limit, or None when
    no clip this size could reach it (x264 also refuses buffer sizes past 2**31 bits)."""
    if duration <= 0:
        return None
    rate = int(0.85 * max_output_bytes * 8 / duration) - _VBV_AUDIO_ALLOWANCE
    if rate > _VBV_CEILING:
        return None
    return max(_VBV_FLOOR, rate)
