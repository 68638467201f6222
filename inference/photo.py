"""The photo pipeline: decode -> cap to max_side -> to the pack's work size -> generator ->
Lanczos back to the output size -> encode.

The generator is any batch function ``(N, H, W, 3) uint8 -> same`` (``Engine.stylize_batch``
bound to a style, or the pool's ``stylize``), so the same two CPU stages serve the command
line (synchronously) and the bot (the stages in a thread, the generator awaited in between).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.media.image import (
    DEFAULT_MAX_SIDE,
    ImageFormat,
    decode_photo,
    encode_image,
    finish_photo,
    prepare_photo,
)

log = logging.getLogger(__name__)

BatchStylizer = Callable[[np.ndarray], np.ndarray]
AsyncBatchStylizer = Callable[[np.ndarray], Awaitable[np.ndarray]]


@dataclass(frozen=True)
class PhotoOptions:
    max_side: int = DEFAULT_MAX_SIDE
    work_side: int | None = None
    """The style pack's working size (``StyleMeta.work_side``)."""
    fmt: ImageFormat = "jpeg"
    quality: int = 92
    max_megapixels: float = 50.0


@dataclass(frozen=True)
class PhotoResult:
    data: bytes
    fmt: ImageFormat
    size: tuple[int, int]
    """Output width and height: the input's, capped to max_side."""
    work_size: tuple[int, int]
    """The size the generator ran at."""
    decode_ms: float
    stylize_ms: float
    encode_ms: float


@dataclass(frozen=True)
class _Prepared:
    frames: np.ndarray
    size: tuple[int, int]
    decode_ms: float


def _decode(data: bytes | Path, options: PhotoOptions) -> _Prepared:
    start = time.perf_counter()
    photo, size = decode_photo(
        data,
        max_side=options.max_side,
        work_side=options.work_side,
        max_megapixels=options.max_megapixels,
    )
    frame = prepare_photo(photo, options.work_side)
    return _Prepared(frame[np.newaxis], size, _ms_since(start))


def _encode(
    prepared: _Prepared, styled: np.ndarray, stylize_ms: float, options: PhotoOptions
) -> PhotoResult:
    if styled.shape != prepared.frames.shape or styled.dtype != np.uint8:
        raise ValueError(
            f"the generator returned {styled.shape} {styled.dtype} "
            f"for {prepared.frames.shape} uint8"
        )
    start = time.perf_counter()
    img = finish_photo(styled[0], prepared.size)
    data = encode_image(img, options.fmt, options.quality)
    height, width = prepared.frames.shape[1:3]
    result = PhotoResult(
        data=data,
        fmt=options.fmt,
        size=img.size,
        work_size=(width, height),
        decode_ms=prepared.decode_ms,
        stylize_ms=stylize_ms,
        encode_ms=_ms_since(start),
    )
    log.debug(
        "photo.stylized",
        extra={
            "size": f"{img.size[0]}x{img.size[1]}",
            "work_size": f"{width}x{height}",
            "decode_ms": round(result.decode_ms, 1),
            "stylize_ms": round(stylize_ms, 1),
            "encode_ms": round(result.encode_ms, 1),
        },
    )
    return result


def stylize_photo(
    data: bytes | Path, stylize: BatchStylizer, options: PhotoOptions | None = None
) -> PhotoResult:
    """Stylize one photo synchronously (command line, benchmarks)."""
    options = options or PhotoOptions()
    prepared = _decode(data, options)
    start = time.perf_counter()
    styled = stylize(prepared.frames)
    return _encode(prepared, styled, _ms_since(start), options)


async def stylize_photo_async(
    data: bytes | Path, stylize: AsyncBatchStylizer, options: PhotoOptions | None = None
) -> PhotoResult:
    """Stylize one photo from asyncio: decode and encode run in a thread, the generator is
    awaited (the inference pool), so the event loop never blocks on pixels."""
    options = options or PhotoOptions()
    prepared = await asyncio.to_thread(_decode, data, options)
    start = time.perf_counter()
    styled = await stylize(prepared.frames)
    return await asyncio.to_thread(_encode, prepared, styled, _ms_since(start), options)


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
