"""Look at a clip before any heavy work: its header, its index and its first frame.

Everything a user can be told at once is decided here: too big, too long, too large in
pixels, sound only, an unknown codec, a file cut short. Decoding one frame proves the codec
works and reveals the rotation the way the decoder reports it.
"""

from __future__ import annotations

from pathlib import Path

import av
import av.container
import av.video

from artisto.errors import MediaDecodeError, MediaTooLarge, UnsupportedMedia
from inference.media.video_types import MB, VideoInfo, VideoKind, VideoLimits

DURATION_SLACK_S = 0.5
"""Containers round their durations; a 30.2 s clip is still a 30 s clip."""

_FIRST_FRAME_PACKETS = 500
"""Packets read while looking for the first picture before the file is called broken."""

_DEFAULT_FPS = 25.0


def probe_video(path: Path, limits: VideoLimits, *, kind: VideoKind = "video") -> VideoInfo:
    """Describe ``path`` or raise the typed error a user should see."""
    size = _file_size(path, limits)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError:
        raise MediaDecodeError("The file is damaged or is not a video artisto can read.") from None
    try:
        return _describe(container, path, size, limits, kind)
    finally:
        container.close()


def open_video_stream(container: av.container.InputContainer) -> av.video.VideoStream:
    """The clip's picture stream; cover art of a sound file does not count."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    if container.streams.audio:
        raise UnsupportedMedia("This file has sound but no picture; send a video.")
    raise UnsupportedMedia("This file has no video in it.")


def _file_size(path: Path, limits: VideoLimits) -> int:
    try:
        size = path.stat().st_size
    except OSError:
        raise MediaDecodeError("The video file could not be read.") from None
    if size == 0:
        raise MediaDecodeError("The video file is empty.")
    if size > limits.max_input_bytes:
        raise MediaTooLarge(
            f"The file is {human_size(size)}; videos up to "
            f"{human_size(limits.max_input_bytes)} are accepted."
        )
    return size


def _describe(
    container: av.container.InputContainer,
    path: Path,
    size: int,
    limits: VideoLimits,
    kind: VideoKind,
) -> VideoInfo:
    stream = open_video_stream(container)
    context = stream.codec_context
    if context is None:
        raise UnsupportedMedia(
            "The video is encoded in a format artisto cannot read; send it as an ordinary MP4."
        )
    width, height = context.width, context.height
    _check_dimensions(width, height, limits)
    fps = _frame_rate(stream)
    duration = _declared_duration(container, stream)
    frame_count = stream.frames
    if duration is None:
        duration = frame_count / fps if frame_count else 0.0
    if not frame_count:
        frame_count = round(duration * fps)
    _check_duration(duration, limits.max_duration(kind))
    _check_complete(container, size)
    rotation, start_time = _first_frame(container, stream)
    audio = next((s for s in container.streams.audio if s.codec_context is not None), None)
    return VideoInfo(
        path=path,
        size_bytes=size,
        container=container.format.name,
        video_codec=context.codec.canonical_name,
        width=width,
        height=height,
        rotation=rotation,
        duration=duration,
        start_time=start_time,
        fps=fps,
        frame_count=frame_count,
        has_audio=audio is not None,
        audio_codec=audio.codec_context.codec.canonical_name if audio is not None else None,
    )


def _check_dimensions(width: int, height: int, limits: VideoLimits) -> None:
    if width <= 0 or height <= 0:
        raise MediaDecodeError("The video does not say how large its picture is; it looks damaged.")
    if min(width, height) < limits.min_side:
        raise UnsupportedMedia(
            f"The video is only {width}×{height} pixels; at least {limits.min_side} px "
            "on each side is needed."
        )
    if max(width, height) > limits.max_input_side:
        raise MediaTooLarge(
            f"The video is {width}×{height} pixels; videos up to {limits.max_input_side} px "
            "on the longer side are accepted."
        )


def _frame_rate(stream: av.video.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < float(rate) <= 1000:
            return float(rate)
    return _DEFAULT_FPS


def _declared_duration(
    container: av.container.InputContainer, stream: av.video.VideoStream
) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _check_duration(duration: float, limit: float) -> None:
    if duration > limit + DURATION_SLACK_S:
        raise MediaTooLarge(
            f"The video is {format_seconds(duration)} long; up to {format_seconds(limit)} "
            "is accepted. Trim it and send it again."
        )


def _check_complete(container: av.container.InputContainer, size: int) -> None:
    """A file whose own index points past its end was cut short (an interrupted download)."""
    end = 0
    for stream in container.streams:
        entries = stream.index_entries
        if entries is not None:
            end = max([end, *(entry.pos + entry.size for entry in entries)])
    if end > size:
        raise MediaDecodeError(
            f"The video file is incomplete (it stops at {human_size(size)} of "
            f"{human_size(end)}); send it again."
        )


def _first_frame(
    container: av.container.InputContainer, stream: av.video.VideoStream
) -> tuple[int, float]:
    """Decode the first picture: the counter-clockwise turn that makes it upright, its time."""
    try:
        for count, packet in enumerate(container.demux(stream)):
            for frame in packet.decode():
                return _normalise_rotation(frame.rotation, stream), frame.time or 0.0
            if count >= _FIRST_FRAME_PACKETS:
                break
    except av.FFmpegError:
        raise MediaDecodeError("The video is damaged: its first frame cannot be decoded.") from None
    raise MediaDecodeError("The video has no frames to stylize.")


def _normalise_rotation(frame_rotation: float, stream: av.video.VideoStream) -> int:
    degrees = float(frame_rotation)
    if not degrees:
        # Old files carry a clockwise "rotate" tag instead of a display matrix.
        try:
            degrees = -float(stream.metadata.get("rotate", "0"))
        except ValueError:
            degrees = 0.0
    return (round(degrees / 90) * 90) % 360


def format_seconds(seconds: float) -> str:
    """``45 s`` or ``10:00``: how a person says a clip's length."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def human_size(size: int) -> str:
    if size < MB:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / MB:.1f} MB".replace(".0 MB", " MB")
