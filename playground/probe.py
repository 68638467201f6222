"""What Telegram's servers make of an uploaded file, done with Pillow and PyAV.

Telegram does not store a photo as sent: it keeps a ladder of downscaled JPEG sizes, and the
bot sees all of them. Videos come with width, height, duration and a thumbnail; GIFs become
silent H.264 MP4 "animations". The bot under test must cope with exactly that, so the
playground does the same work. Everything here is pure (bytes in, description out) and can
run in a worker thread.
"""

from __future__ import annotations

import io
import mimetypes
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Literal

import av
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MediaKind = Literal["photo", "video", "animation", "video_note", "document"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("photo", "video", "animation", "video_note", "document")

PHOTO_SIDES = (90, 320, 800, 1280, 2560)
THUMBNAIL_SIDE = 320
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"})
_GIF_MAX_FRAMES = 600


class MediaError(ValueError):
    """The bytes are not the media they claim to be."""


@dataclass(frozen=True)
class Picture:
    """One stored image: a photo size or a thumbnail."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Prepared:
    """An upload as Telegram would store it, ready to be given file ids."""

    kind: MediaKind
    data: bytes
    file_name: str | None
    mime_type: str | None
    width: int = 0
    height: int = 0
    duration: int = 0
    sizes: tuple[Picture, ...] = ()
    thumbnail: Picture | None = None


def guess_kind(file_name: str, mime_type: str | None = None) -> MediaKind:
    """What a Telegram client sends a picked file as when the user does not say."""
    suffix = PurePath(file_name).suffix.lower()
    mime = mime_type or mimetypes.guess_type(file_name)[0] or ""
    if suffix == ".gif" or mime == "image/gif":
        return "animation"
    if suffix in IMAGE_SUFFIXES or mime.startswith("image/"):
        return "photo"
    if suffix in VIDEO_SUFFIXES or mime.startswith("video/"):
        return "video"
    return "document"


def prepare(kind: MediaKind, data: bytes, file_name: str | None) -> Prepared:
    """Describe ``data`` as a ``kind`` upload; only a photo must decode, like on Telegram."""
    name = file_name or _default_name(kind)
    if kind == "photo":
        return Prepared("photo", data, None, None, sizes=photo_sizes(data))
    if kind == "document":
        return Prepared(
            "document", data, name, _mime(name), thumbnail=_image_thumbnail_or_none(data)
        )
    if kind == "animation" and _is_gif(data):
        data = gif_to_mp4(data)
        name = str(PurePath(name).with_suffix(".mp4"))
    width, height, duration, thumbnail = _probe_video(data)
    if kind == "video_note":
        side = min(width, height)
        return Prepared(kind, data, None, None, side, side, duration, thumbnail=thumbnail)
    mime = "video/mp4" if kind == "animation" else _mime(name)
    return Prepared(kind, data, name, mime, width, height, duration, thumbnail=thumbnail)


def photo_sizes(data: bytes) -> tuple[Picture, ...]:
    """The size ladder of JPEGs, smallest first, as Telegram keeps a photo.

    A JPEG of at most 2560 px is kept byte for byte as the largest size, so a bot that
    downloads what it sent gets the same bytes; anything else is re-encoded, as Telegram does.
    """
    image, image_format = _open_image(data)
    width, height = image.size
    if width + height > 10000 or max(width, height) > 20 * min(width, height):
        raise MediaError("PHOTO_INVALID_DIMENSIONS")
    longest = max(width, height)
    sizes = [_scaled_jpeg(image, side) for side in PHOTO_SIDES if side < longest]
    if longest <= PHOTO_SIDES[-1] and image_format == "JPEG":
        sizes.append(Picture(data, width, height))
    else:
        sizes.append(_scaled_jpeg(image, PHOTO_SIDES[-1]))
    return tuple(sizes)


def gif_to_mp4(data: bytes) -> bytes:
    """Re-encode a GIF as silent H.264 MP4, as Telegram does with every GIF it receives."""
    try:
        with av.open(io.BytesIO(data), mode="r") as source:
            stream = source.streams.video[0]
            rate = stream.average_rate or Fraction(10)
            frames = [
                Image.fromarray(frame.to_ndarray(format="rgb24"))
                for _, frame in zip(range(_GIF_MAX_FRAMES), source.decode(stream), strict=False)
            ]
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"not a readable GIF: {exc}") from exc
    if not frames:
        raise MediaError("the GIF has no frames")
    width, height = (side - side % 2 or 2 for side in frames[0].size)
    # +faststart rewrites the file after encoding, which needs a real file, not a buffer.
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "animation.mp4"
        with av.open(str(target), "w", options={"movflags": "+faststart"}) as sink:
            video = sink.add_stream("libx264", rate=min(rate, Fraction(50)))
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            for picture in frames:
                pixels = np.asarray(picture.resize((width, height)))
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                sink.mux(video.encode(frame))
            sink.mux(video.encode(None))
        return target.read_bytes()


def _probe_video(data: bytes) -> tuple[int, int, int, Picture | None]:
    """Width, height, whole seconds and a first-frame thumbnail; zeros when unreadable.

    Telegram accepts an undecodable "video" and leaves the metadata empty; the bot under test
    must then fail politely when it tries to decode it.
    """
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            seconds = 0.0
            if container.duration is not None:
                seconds = container.duration / av.time_base
            elif stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            first = next(container.decode(stream), None)
            thumbnail = None
            if first is not None:
                picture = Image.fromarray(first.to_ndarray(format="rgb24"))
                thumbnail = _scaled_jpeg(picture, THUMBNAIL_SIDE)
    except (av.FFmpegError, IndexError, StopIteration, ValueError):
        return 0, 0, 0, None
    return width, height, round(seconds), thumbnail


def _open_image(data: bytes) -> tuple[Image.Image, str | None]:
    """The image upright (EXIF orientation applied) and its file format."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError("IMAGE_PROCESS_FAILED") from exc
    return ImageOps.exif_transpose(image), image.format


def _image_thumbnail_or_none(data: bytes) -> Picture | None:
    try:
        return _scaled_jpeg(_open_image(data)[0], THUMBNAIL_SIDE)
    except MediaError:
        return None


def _scaled_jpeg(image: Image.Image, side: int) -> Picture:
    copy = image.convert("RGB")
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=87)
    return Picture(out.getvalue(), copy.width, copy.height)


def _is_gif(data: bytes) -> bool:
    return data[:6] in (b"GIF87a", b"GIF89a")


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _default_name(kind: MediaKind) -> str:
    return {"video": "video.mp4", "animation": "animation.mp4", "video_note": "note.mp4"}.get(
        kind, "file"
    )
