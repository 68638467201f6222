"""The vocabulary of the video pipeline: limits, options, what a probe finds, what a run made.

Defaults match ``bot/config.py`` (``limits`` and ``inference`` sections); the bot builds these
from its settings, the command line uses the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

VideoKind = Literal["video", "animation", "video_note"]
"""Telegram's three moving-picture kinds; each comes back as the same kind."""

MB = 1024 * 1024


@dataclass(frozen=True)
class VideoLimits:
    """What an input may be. Checked by the probe, and again while decoding (headers lie)."""

    max_seconds: float = 30.0
    max_video_note_seconds: float = 60.0
    max_input_bytes: int = 20 * MB
    max_fps: float = 30.0
    """Frames beyond this rate are dropped evenly."""
    max_input_side: int = 4096
    """Longest stored side accepted: 4K yes, 8K no (decoding it alone would take the slot)."""
    min_side: int = 16

    def max_duration(self, kind: VideoKind) -> float:
        return self.max_video_note_seconds if kind == "video_note" else self.max_seconds


@dataclass(frozen=True)
class VideoOptions:
    """How a clip is processed and encoded."""

    limits: VideoLimits = field(default_factory=VideoLimits)
    max_side: int = 720
    """Longest processed (and output) side; smaller inputs are never upscaled."""
    video_note_side: int = 640
    """Side of a square video note; Telegram shows at most 640."""
    crf: int = 23
    preset: str = "veryfast"
    max_output_bytes: int = 50 * MB
    """Telegram's upload limit; the result is re-encoded smaller rather than ever exceed it."""
    audio_bitrate: int = 128_000
    """Bit rate used when the sound has to be re-encoded to AAC."""
    batch_size: int = 4
    """Frames per call of the stylize function."""
    queue_frames: int = 8
    """Frames that may wait between stages; with the batch in flight this bounds memory."""
    temporal_pass: bool = True
    """Keep the previous output where the input did not change (see ``video_temporal``)."""
    temporal_threshold: float = 2.0
    """Mean luma change (0-255) of a 4×4 block under which the previous output is kept."""


@dataclass(frozen=True)
class VideoInfo:
    """What the probe learnt from the header and the first frame, before any heavy work."""

    path: Path
    size_bytes: int
    container: str
    video_codec: str
    width: int
    """Stored width, before rotation."""
    height: int
    rotation: int
    """Counter-clockwise degrees (0, 90, 180, 270) that turn the stored picture upright."""
    duration: float
    """Seconds, as declared (estimated from frames when the header has none)."""
    start_time: float
    """Source time of the first frame: the output's zero, for the sound as well."""
    fps: float
    """Average source frame rate."""
    frame_count: int
    """Source frames, as declared or estimated."""
    has_audio: bool
    audio_codec: str | None

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown, after rotation."""
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height

    def expected_frames(self, max_fps: float) -> int:
        """Frames left after the frame-rate cap: the progress bar's total."""
        if self.fps > max_fps:
            return max(1, round(self.duration * max_fps))
        return max(1, self.frame_count)


@dataclass(frozen=True)
class StageTimes:
    """Busy seconds per stage; they overlap, so they may add up to more than ``wall_s``."""

    decode_s: float
    stylize_s: float
    encode_s: float
    shrink_s: float
    wall_s: float


@dataclass(frozen=True)
class VideoResult:
    path: Path
    kind: VideoKind
    width: int
    height: int
    frames: int
    duration: float
    has_audio: bool
    audio_mode: Literal["copy", "aac"] | None
    """How the sound got there: copied as it was, or re-encoded to AAC."""
    size_bytes: int
    shrink_passes: int
    """Extra encodes needed to get under ``max_output_bytes`` (0 almost always)."""
    times: StageTimes
