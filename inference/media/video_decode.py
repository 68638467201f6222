"""Decode a clip into upright, processed-size RGB frames with their own timestamps.

The output geometry is planned once from the probe: downscale to the processed size (never
up), turn upright, crop to even sides (one pixel at most) or, for a video note, to a centred
square. Frames over the rate cap are dropped evenly; the rest keep their timestamps, so a
variable-rate clip stays variable. The header's duration is not trusted: frames are counted as
they come and decoding stops once the clip runs past the limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import av
import av.video
import numpy as np

from artisto.errors import MediaDecodeError, MediaTooLarge
from inference.media.probe import DURATION_SLACK_S, format_seconds, open_video_stream
from inference.media.video_types import VideoInfo, VideoKind, VideoOptions

MAX_SOURCE_FPS = 240.0
"""Decoded frames allowed per second of the limit, whatever the timestamps claim."""

_ERROR_BUDGET = 0.05
"""Share of packets that may fail to decode (a glitch a player would hide) before giving up."""


_SLOT_EARLY = 0.1
"""A frame up to a tenth of a slot early still takes the slot: timestamps rounded to
milliseconds put every other frame of a 60 fps clip just before its 30 fps slot."""


@dataclass(frozen=True)
class Geometry:
    """How a stored frame becomes a processed frame: scale, then rotate, then crop."""

    scaled_width: int
    """Stored-orientation size after scaling."""
    scaled_height: int
    rotation: int
    """Counter-clockwise degrees, a multiple of 90."""
    crop_x: int
    crop_y: int
    width: int
    """Processed (and output) size: even, upright."""
    height: int


def plan_geometry(info: VideoInfo, kind: VideoKind, options: VideoOptions) -> Geometry:
    display_w, display_h = info.display_size
    if kind == "video_note":
        side = min(options.video_note_side, options.max_side, display_w, display_h)
        side = max(2, side - side % 2)
        scale = side / min(display_w, display_h)
        up_w = max(side, round(display_w * scale))
        up_h = max(side, round(display_h * scale))
        crop_x, crop_y, width, height = (up_w - side) // 2, (up_h - side) // 2, side, side
    else:
        scale = min(1.0, options.max_side / max(display_w, display_h))
        up_w, up_h = max(2, round(display_w * scale)), max(2, round(display_h * scale))
        crop_x, crop_y, width, height = 0, 0, up_w - up_w % 2, up_h - up_h % 2
    turned = info.rotation in (90, 270)
    return Geometry(
        scaled_width=up_h if turned else up_w,
        scaled_height=up_w if turned else up_h,
        rotation=info.rotation,
        crop_x=crop_x,
        crop_y=crop_y,
        width=width,
        height=height,
    )


@dataclass(frozen=True)
class DecodedFrame:
    image: np.ndarray
    """(height, width, 3) uint8 RGB, upright, processed size."""
    time: float
    """Seconds since the clip's first frame."""


class FrameReader:
    """Iterate a clip's processed frames; counts what it decoded and what it kept."""

    def __init__(
        self, info: VideoInfo, geometry: Geometry, *, max_fps: float, max_duration: float
    ) -> None:
        self.info = info
        self.geometry = geometry
        self.max_fps = max_fps
        self.max_duration = max_duration
        self.decoded = 0
        self.kept = 0

    def __iter__(self) -> Iterator[DecodedFrame]:
        try:
            container = av.open(str(self.info.path), metadata_errors="ignore")
        except av.FFmpegError:
            raise MediaDecodeError(
                "The file is damaged or is not a video artisto can read."
            ) from None
        with container:
            stream = open_video_stream(container)
            stream.codec_context.thread_type = "AUTO"
            yield from self._keep(self._decode(container, stream))
        if self.kept == 0:
            raise MediaDecodeError("The video has no frames to stylize.")

    def _decode(
        self, container: av.container.InputContainer, stream: av.video.VideoStream
    ) -> Iterator[av.VideoFrame]:
        errors = 0
        for packets, packet in enumerate(container.demux(stream), start=1):
            try:
                yield from packet.decode()
            except av.FFmpegError:
                errors += 1
                if errors > max(5, _ERROR_BUDGET * packets):
                    raise MediaDecodeError(
                        "The video is damaged: too many of its frames cannot be decoded."
                    ) from None

    def _keep(self, frames: Iterator[av.VideoFrame]) -> Iterator[DecodedFrame]:
        """Drop frames over the rate cap evenly (one per time slot), convert the rest."""
        limit = self.max_duration + DURATION_SLACK_S
        max_decoded = math.ceil(limit * MAX_SOURCE_FPS)
        previous = -1.0
        last_slot = -1
        raw = self.info.start_time - 1 / self.info.fps
        for frame in frames:
            self.decoded += 1
            raw = frame.time if frame.time is not None else raw + 1 / self.info.fps
            elapsed = raw - self.info.start_time
            if elapsed > limit or self.decoded > max_decoded:
                raise MediaTooLarge(
                    "The video is longer than its header says; up to "
                    f"{format_seconds(self.max_duration)} is accepted."
                )
            slot = math.floor(elapsed * self.max_fps + _SLOT_EARLY)
            if slot <= last_slot or elapsed <= previous or elapsed < 0:
                continue
            last_slot, previous = slot, elapsed
            self.kept += 1
            yield DecodedFrame(self._convert(frame), elapsed)

    def _convert(self, frame: av.VideoFrame) -> np.ndarray:
        g = self.geometry
        resize = (frame.width, frame.height) != (g.scaled_width, g.scaled_height)
        rgb = frame.to_ndarray(
            format="rgb24",
            width=g.scaled_width,
            height=g.scaled_height,
            interpolation="AREA" if resize else None,
            src_color_range=frame.color_range or None,
        )
        if g.rotation:
            rgb = np.rot90(rgb, g.rotation // 90)
        rgb = rgb[g.crop_y : g.crop_y + g.height, g.crop_x : g.crop_x + g.width]
        return np.ascontiguousarray(rgb)
