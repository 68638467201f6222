"""Bring a finished MP4 under the upload limit: re-encode at a computed rate, smaller if need be.

Rarely needed (the first encode is already VBV-capped), but a result over Telegram's limit is a
failed upload, so this is the guarantee. It re-encodes the stylized file itself, never
re-stylizes; the sound, already AAC, is copied.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import av

from artisto.errors import MediaTooLarge
from inference.media.probe import human_size, probe_video
from inference.media.video_audio import AudioPlan
from inference.media.video_decode import FrameReader, plan_geometry
from inference.media.video_encode import EncodeSettings, Mp4Writer
from inference.media.video_types import VideoLimits, VideoOptions

log = logging.getLogger(__name__)

MAX_PASSES = 4
_HEADROOM = 0.9
_MIN_BITS_PER_PIXEL = 0.03
"""Below this (bits per pixel per frame) H.264 turns to mush: shrink the picture instead."""
_MIN_SIDE = 64
_OWN_OUTPUT = VideoLimits(max_seconds=1e6, max_video_note_seconds=1e6, max_input_bytes=2**62)


def shrink_to_fit(path: Path, limit: int, *, preset: str) -> int:
    """Re-encode ``path`` in place until it is at most ``limit`` bytes; return the passes made."""
    size = path.stat().st_size
    passes = 0
    scale = 1.0
    factor = 1.0
    while size > limit:
        if passes == MAX_PASSES:
            raise MediaTooLarge(
                f"The stylized video stays over {human_size(limit)} even at low quality; "
                "send a shorter clip."
            )
        passes += 1
        info = probe_video(path, _OWN_OUTPUT)
        duration = max(info.duration, 1 / info.fps)
        audio_bits = _audio_bits(path, info.has_audio, duration)
        video_rate = max(1000, int(factor * (_HEADROOM * limit * 8 - audio_bits) / duration))
        scale = min(
            scale,
            math.sqrt(video_rate / (_MIN_BITS_PER_PIXEL * info.width * info.height * info.fps)),
        )
        side = max(_MIN_SIDE, int(max(info.width, info.height) * min(1.0, scale)))
        trial = path.with_name(path.name + ".shrink")
        _reencode(path, trial, max_side=side, rate=video_rate, preset=preset)
        new_size = trial.stat().st_size
        log.info(
            "video.shrink",
            extra={"pass": passes, "from": size, "to": new_size, "rate": video_rate, "side": side},
        )
        trial.replace(path)
        factor *= min(0.9, limit / new_size) if new_size > limit else 1.0
        size = new_size
    return passes


def _audio_bits(path: Path, has_audio: bool, duration: float) -> float:
    if not has_audio:
        return 0.0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.bit_rate:
            return float(stream.bit_rate) * duration
        return float(sum(p.size for p in container.demux(stream)) * 8)


def _reencode(src: Path, dst: Path, *, max_side: int, rate: int, preset: str) -> None:
    info = probe_video(src, _OWN_OUTPUT)
    geometry = plan_geometry(info, "video", VideoOptions(max_side=max_side))
    reader = FrameReader(info, geometry, max_fps=1000.0, max_duration=_OWN_OUTPUT.max_seconds)
    settings = EncodeSettings(
        geometry.width,
        geometry.height,
        info.fps,
        preset=preset,
        crf=None,
        bitrate=rate,
        maxrate=rate,
    )
    audio = AudioPlan(src, info.start_time, bitrate=0) if info.has_audio else None
    writer = Mp4Writer(dst, settings, audio)
    try:
        for frame in reader:
            writer.write(frame.image, frame.time)
    except BaseException:
        writer.abort()
        dst.unlink(missing_ok=True)
        raise
    writer.close()
