"""Small real media files for the video tests, written with PyAV.

Every clip is generated, never checked in: a gradient background with a bright square that moves
one step per frame, so a dropped, duplicated or reordered frame shows up in the pixels. The broken
files are made the way broken files are made in the wild: cut short, with a lying header, with a
codec tag nobody knows.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

AudioCodec = Literal["aac", "mp3", "opus"]

_AUDIO_RATE = {"aac": 44100, "mp3": 44100, "opus": 48000}
_AUDIO_FORMAT = {"aac": "fltp", "mp3": "fltp", "opus": "flt"}


def frame_image(index: int, width: int, height: int) -> np.ndarray:
    """Frame ``index`` of the test pattern: (height, width, 3) uint8 RGB."""
    ys = np.linspace(0, 200, height, dtype=np.float32)[:, None]
    xs = np.linspace(0, 120, width, dtype=np.float32)[None, :]
    img = np.empty((height, width, 3), np.uint8)
    img[..., 0] = (ys + 0 * xs).astype(np.uint8)
    img[..., 1] = (xs + 0 * ys).astype(np.uint8)
    img[..., 2] = 60
    side = max(1, min(width, height) // 4)
    x = (index * max(1, width // 16)) % max(1, width - side)
    y = max(0, height // 2 - side // 2)
    img[y : y + side, x : x + side] = 250
    return img


def make_clip(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    fps: int = 10,
    seconds: float = 1.0,
    audio: AudioCodec | None = None,
    rotation: int = 0,
    pts_ms: Sequence[int] | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
) -> Path:
    """Write a clip; ``pts_ms`` gives variable frame times, ``rotation`` a display matrix.

    ``rotation`` is counter-clockwise degrees, the way FFmpeg reports it: a phone held upright
    stores its picture sideways with rotation -90 and players turn it back.
    """
    times = (
        list(pts_ms)
        if pts_ms is not None
        else [round(i * 1000 / fps) for i in range(round(seconds * fps))]
    )
    with av.open(str(path), "w", options=options or {}) as out:
        video = out.add_stream(codec, rate=fps)
        assert isinstance(video, av.video.stream.VideoStream)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.codec_context.time_base = Fraction(1, 1000)
        video.time_base = Fraction(1, 1000)
        if codec == "libx264":
            video.codec_context.options = {"preset": "ultrafast"}
        if rotation:
            video.set_display_rotation(rotation)
        sound = _add_audio(out, audio) if audio else None
        end_s = (times[-1] + 1000 / fps) / 1000 if times else seconds
        audio_frames = _audio_frames(sound, audio, end_s) if sound and audio else []
        pending = list(audio_frames)
        for i, t in enumerate(times):
            while sound and pending and pending[0].time is not None and pending[0].time <= t / 1000:
                out.mux(sound.encode(pending.pop(0)))
            frame = av.VideoFrame.from_ndarray(frame_image(i, width, height), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if sound:
            for aframe in pending:
                out.mux(sound.encode(aframe))
            out.mux(sound.encode())
    return path


def _add_audio(out: av.container.OutputContainer, codec: AudioCodec) -> av.audio.AudioStream:
    stream = out.add_stream(codec, rate=_AUDIO_RATE[codec])
    stream.layout = "mono"
    return stream


def _audio_frames(
    stream: av.audio.AudioStream, codec: AudioCodec, seconds: float
) -> list[av.AudioFrame]:
    """A 440 Hz tone cut in 1024-sample frames (mono: planar and packed arrays look alike)."""
    rate = stream.codec_context.sample_rate
    total = int(seconds * rate)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(total) / rate)).astype(np.float32)
    frames = []
    for start in range(0, total, 1024):
        chunk = tone[None, start : start + 1024]
        frame = av.AudioFrame.from_ndarray(chunk, format=_AUDIO_FORMAT[codec], layout="mono")
        frame.sample_rate = rate
        frame.pts, frame.time_base = start, Fraction(1, rate)
        frames.append(frame)
    return frames


def make_gif(
    path: Path, *, width: int = 64, height: int = 48, frames: int = 12, fps: int = 10
) -> Path:
    with av.open(str(path), "w", format="gif") as out:
        stream = out.add_stream("gif", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb8"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_image(i, width, height), format="rgb24")
            frame = frame.reformat(format="rgb8")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def make_audio_only(path: Path, *, seconds: float = 1.0) -> Path:
    """An .m4a: AAC and no picture."""
    with av.open(str(path), "w", format="mp4") as out:
        sound = _add_audio(out, "aac")
        for frame in _audio_frames(sound, "aac", seconds):
            out.mux(sound.encode(frame))
        out.mux(sound.encode())
    return path


def make_truncated(path: Path, *, keep: float = 0.6) -> Path:
    """A clip with its index first (+faststart) cut off mid-way, like a broken download."""
    make_clip(path, seconds=2.0, audio="aac", options={"movflags": "+faststart"})
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_headless(path: Path) -> Path:
    """A clip cut before its index (moov at the end): nothing to read at all."""
    make_clip(path, seconds=2.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_garbage(path: Path, size: int = 20_000) -> Path:
    path.write_bytes(np.random.default_rng(7).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


def make_no_frames(path: Path) -> Path:
    """A Matroska file whose header declares a video track but which holds no frames."""
    mkv = make_clip(path.with_suffix(".full.mkv"), seconds=1.0)
    data = mkv.read_bytes()
    mkv.unlink()
    # The first Cluster's Timecode (0) followed by its first SimpleBlock: cut just before the block.
    block = data.find(b"\xe7\x81\x00\xa3", data.find(b"\x1f\x43\xb6\x75"))
    assert block > 0
    path.write_bytes(data[: block + 3])
    return path


def make_unknown_codec(path: Path) -> Path:
    """A Matroska file whose video track names a codec no decoder knows."""
    mkv = make_clip(path, seconds=1.0)
    data = bytearray(mkv.read_bytes())
    at = data.find(b"V_MPEG4/ISO/AVC")
    assert at > 0
    data[at : at + 15] = b"V_ZZZZZ/ISO/AVC"
    path.write_bytes(bytes(data))
    return path


def make_lying_duration(path: Path, *, seconds: float = 4.0, claimed: float = 1.0) -> Path:
    """A Matroska clip whose header claims ``claimed`` seconds but which holds ``seconds``."""
    make_clip(path, seconds=seconds, fps=10)
    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89")  # Segment Info / Duration, in milliseconds (TimecodeScale 1 ms)
    assert at > 0
    width = data[at + 2] & 0x0F
    fmt = ">d" if width == 8 else ">f"
    data[at + 3 : at + 3 + width] = struct.pack(fmt, claimed * 1000)
    path.write_bytes(bytes(data))
    return path


def make_damaged(path: Path, *, share: float, seconds: float = 3.0) -> Path:
    """A clip whose media data has ``share`` of its middle overwritten with noise."""
    make_clip(path, width=128, height=96, seconds=seconds, audio="aac")
    data = bytearray(path.read_bytes())
    start, end = data.find(b"mdat") + 4, data.find(b"moov")
    assert 0 < start < end
    size = int((end - start) * share)
    at = start + (end - start - size) // 2
    data[at : at + size] = np.random.default_rng(0).integers(0, 256, size, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path
