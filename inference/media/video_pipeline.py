"""The three stages of a clip and the two bounded queues between them.

A decode thread fills one queue, the caller's thread takes batches from it through the
generator and fills the other, an encode thread empties that into x264: the three overlap, and
at most ``queue_frames`` frames wait on either side of the batch in flight, so a 30 s 720p clip
is never held whole. A failing stage stops the other two; cancellation is checked between
batches.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from artisto.errors import JobCancelled
from inference.media.video_decode import DecodedFrame, FrameReader
from inference.media.video_encode import Mp4Writer
from inference.media.video_temporal import TemporalFilter
from inference.media.video_types import VideoOptions

Stylize = Callable[[np.ndarray], np.ndarray]
Progress = Callable[[int, int], None]

_POLL_S = 0.1
"""How often a stage waiting on a queue looks whether the pipeline is stopping."""


@dataclass(frozen=True)
class _Failure:
    error: BaseException


_END = object()


class Pipeline:
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
