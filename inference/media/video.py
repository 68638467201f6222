"""Stylize a clip, streaming: decode thread -> batches through the generator -> encode thread.

Two bounded queues join the three stages, so decoding, the generator and x264 overlap and at
most ``queue_frames`` frames wait on either side of the batch in flight: a 30 s 720p clip is
never held whole. The probe runs first and refuses what it can before any of this starts.

The stylize function is synchronous on a (N, H, W, 3) uint8 batch. ``stylize_video_async``
runs the same pipeline in a worker thread for callers whose stylize is a coroutine (the bot's
inference pool).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artisto.errors import JobCancelled
from inference.media.probe import probe_video
from inference.media.video_audio import AudioPlan
from inference.media.video_decode import DecodedFrame, FrameReader, plan_geometry
from inference.media.video_encode import EncodeSettings, Mp4Writer
from inference.media.video_shrink import shrink_to_fit
from inference.media.video_temporal import TemporalFilter
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

Stylize = Callable[[np.ndarray], np.ndarray]
Progress = Callable[[int, int], None]

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
        pipeline = _Pipeline(reader, writer, stylize, options, progress, cancel)
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


@dataclass(frozen=True)
class _Failure:
    error: BaseException


_END = object()


class _Pipeline:
    """The three stages and their queues, for one clip."""

    def __init__(
        self,
        reader: FrameReader,
        writer: Mp4Writer,
        stylize: Stylize,
        options: VideoOptions,
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.stylize = stylize
        self.batch_size = options.batch_size
        self.temporal = (
            TemporalFilter(options.temporal_threshold) if options.temporal_pass else None
        )
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self.decoded: queue.Queue[Any] = queue.Queue(maxsize=options.queue_frames)
        self.styled: queue.Queue[Any] = queue.Queue(maxsize=options.queue_frames)
        self.stop = threading.Event()
        self.encode_error: BaseException | None = None
        self.decode_s = self.stylize_s = self.encode_s = 0.0
        self.done = 0

    def run(self, total: int) -> None:
        threads = [
            threading.Thread(target=self._decode_loop, name="video-decode", daemon=True),
            threading.Thread(target=self._encode_loop, name="video-encode", daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            self._stylize_loop(total)
            self._put(self.styled, _END)
        except _Stopped:
            pass  # the encoder failed: its error is raised below
        except BaseException:
            self.stop.set()
            raise
        finally:
            for thread in threads:
                thread.join()
        if self.encode_error is not None:
            raise self.encode_error

    def _stylize_loop(self, total: int) -> None:
        batch: list[DecodedFrame] = []
        while True:
            item = self._get(self.decoded)
            if isinstance(item, _Failure):
                raise item.error
            if item is not _END:
                batch.append(item)
            if batch and (item is _END or len(batch) == self.batch_size):
                self._stylize_batch(batch, total)
                batch = []
            if item is _END:
                return

    def _stylize_batch(self, batch: list[DecodedFrame], total: int) -> None:
        self._check_cancel()
        frames = np.stack([f.image for f in batch])
        started = time.perf_counter()
        styled = self.stylize(frames)
        self.stylize_s += time.perf_counter() - started
        if (
            not isinstance(styled, np.ndarray)
            or styled.shape != frames.shape
            or styled.dtype != np.uint8
        ):
            raise ValueError(
                f"stylize returned {getattr(styled, 'shape', type(styled))} "
                f"{getattr(styled, 'dtype', '')} for a {frames.shape} uint8 batch"
            )
        if self.temporal is not None:
            styled = self.temporal.apply(frames, styled)
        for frame, image in zip(batch, styled, strict=True):
            self._put(self.styled, (image, frame.time))
        self.done += len(batch)
        if self.progress is not None:
            self.progress(self.done, max(total, self.done))

    def _decode_loop(self) -> None:
        frames: Iterator[DecodedFrame] = iter(self.reader)
        try:
            while True:
                started = time.perf_counter()
                try:
                    item: object = next(frames, _END)
                except Exception as exc:
                    item = _Failure(exc)
                self.decode_s += time.perf_counter() - started
                self._put(self.decoded, item)
                if item is _END or isinstance(item, _Failure):
                    return
        except _Stopped:
            pass
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    def _encode_loop(self) -> None:
        try:
            while True:
                item = self._get(self.styled, watch_cancel=False)
                started = time.perf_counter()
                if item is _END:
                    self.writer.close()
                    self.encode_s += time.perf_counter() - started
                    return
                image, stamp = item
                self.writer.write(image, stamp)
                self.encode_s += time.perf_counter() - started
        except _Stopped:
            with contextlib.suppress(Exception):
                self.writer.abort()
        except BaseException as exc:
            self.encode_error = exc
            self.stop.set()
            with contextlib.suppress(Exception):
                self.writer.abort()

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise JobCancelled("The job was cancelled.")

    def _put(self, target: queue.Queue[Any], item: object) -> None:
        """Block until there is room; give up quietly once the pipeline is stopping."""
        while not self.stop.is_set():
            try:
                target.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _get(self, source: queue.Queue[Any], *, watch_cancel: bool = True) -> Any:
        while True:
            if watch_cancel:
                self._check_cancel()
            if self.stop.is_set():
                raise _Stopped
            try:
                return source.get(timeout=_POLL_S)
            except queue.Empty:
                continue


class _Stopped(Exception):
    """Another stage failed or the job was cancelled; this stage just ends."""
