"""``artisto styles`` and ``artisto stylize``: the work behind two subcommands of artisto/cli.py.

A photo runs without torch (importing it alone takes longer than the whole photo): ONNX Runtime
on the CPU, with the style's model built once into the cache folder. Only a video, or a photo
on ``device = cuda``, starts the engine.

Errors are raised as ArtistoError subclasses; the caller prints them on one line and exits 2.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from artisto.errors import ArtistoError
from inference.frames import run_padded
from inference.media.image import DEFAULT_MAX_SIDE, ImageFormat
from inference.onnx_generator import OnnxGenerator, generator_model
from inference.photo import BatchStylizer, PhotoOptions, stylize_photo
from inference.registry import StylePack, StyleRegistry, load_pack

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".gif", ".webm", ".mkv", ".avi"})
OUTPUT_FORMATS: dict[str, ImageFormat] = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}


def styles_command(styles_dir: Path | None) -> int:
    """Print the installed styles as a table; with none, say where discovery looked."""
    registry = StyleRegistry.discover(styles_dir)
    if not len(registry):
        where = " and ".join(str(p) for p in registry.searched)
        hint = "" if styles_dir else " (set ARTISTO_INFERENCE__STYLES_DIR to add a folder)"
        _out(f"no styles installed; looked in {where}{hint}\n")
        return 0
    metric_keys = sorted({key for pack in registry for key in pack.meta.metrics})
    header = ["name", "title", "artist", "width", "size", *metric_keys]
    rows = [
        [
            pack.name,
            pack.meta.title,
            pack.meta.artist,
            str(pack.meta.net.width),
            _human_size(pack.size_bytes),
            *(_figure(pack.meta.metrics.get(key)) for key in metric_keys),
        ]
        for pack in registry
    ]
    _out(_table(header, rows))
    return 0


def stylize_command(
    input: Path,
    output: Path,
    *,
    style: str,
    max_side: int | None,
    styles_dir: Path | None,
    device: str,
    jpeg_quality: int,
    video_max_side: int,
    cache_dir: Path | None = None,
) -> int:
    """Stylize a photo file into ``output`` (.jpg, .jpeg or .png), or a video into an .mp4.

    ``cache_dir`` keeps the styles' ONNX models, so later runs skip building them."""
    if input.suffix.lower() in VIDEO_SUFFIXES:
        side = min(max_side, video_max_side) if max_side else video_max_side
        return _stylize_video_file(input, output, style, side, styles_dir, device, cache_dir)
    fmt = OUTPUT_FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise ArtistoError(f"{output}: the output must end in .jpg, .jpeg or .png")
    pack = _chosen_pack(style, styles_dir)
    start = time.perf_counter()
    options = PhotoOptions(
        max_side=max_side or DEFAULT_MAX_SIDE,
        work_side=pack.meta.work_side,
        fmt=fmt,
        quality=jpeg_quality,
    )
    result = stylize_photo(input, photo_generator(pack, device, cache_dir), options)
    try:
        output.write_bytes(result.data)
    except OSError as exc:
        raise ArtistoError(f"cannot write {output}: {exc.strerror}") from None
    width, height = result.size
    _out(
        f"{output}: {width}x{height} in {style!r}, {_human_size(len(result.data))}, "
        f"{time.perf_counter() - start:.2f} s (decode {result.decode_ms:.0f} ms, "
        f"stylize {result.stylize_ms:.0f} ms at {result.work_size[0]}x{result.work_size[1]}, "
        f"encode {result.encode_ms:.0f} ms)\n"
    )
    return 0


def _chosen_pack(style: str, styles_dir: Path | None) -> StylePack:
    """The style's pack, verified; the other packs' style.toml is all that is read of them."""
    registry = StyleRegistry.discover(styles_dir, verify=False)
    return load_pack(registry.get(style).path)


def photo_generator(pack: StylePack, device: str, cache_dir: Path | None) -> BatchStylizer:
    """ONNX Runtime on the CPU, unless CUDA is asked for by name: on a CUDA host, starting
    torch and the device costs more than a photo's pass on the CPU."""
    if device == "cuda":
        from inference.engine import Engine

        engine = Engine(StyleRegistry([pack]), device="cuda", cache_dir=cache_dir)
        return lambda frames: engine.stylize_batch(pack.name, frames)
    if device not in ("auto", "cpu"):
        raise ArtistoError(f"unknown device {device!r}: use auto, cpu or cuda")
    generator = OnnxGenerator(generator_model(pack, cache_dir), threads=0)
    return lambda frames: run_padded(generator.run, frames)


def _stylize_video_file(
    input: Path,
    output: Path,
    style: str,
    max_side: int,
    styles_dir: Path | None,
    device: str,
    cache_dir: Path | None,
) -> int:
    """The video branch: a GIF comes out as a silent MP4, anything else keeps its sound.

    The bot's limits guard a shared service against Telegram-sized files; on the command line
    the user's own clip may be long or large (up to 10 minutes and 2 GB).
    """
    from tqdm import tqdm

    from inference.media.video import VideoKind, VideoLimits, VideoOptions, stylize_video

    if output.suffix.lower() != ".mp4":
        raise ArtistoError(f"{output}: the output of a video must end in .mp4")
    pack = _chosen_pack(style, styles_dir)

    from inference.engine import DevicePreference, Engine

    # the device name is checked by Engine
    engine = Engine(
        StyleRegistry([pack]), device=cast("DevicePreference", device), cache_dir=cache_dir
    )
    big = 2 * 1024**3
    options = VideoOptions(
        max_side=max_side,
        max_output_bytes=big,
        limits=VideoLimits(max_seconds=600.0, max_input_bytes=big),
    )
    kind: VideoKind = "animation" if input.suffix.lower() == ".gif" else "video"
    with tqdm(desc=input.name, unit="frame", file=sys.stderr, dynamic_ncols=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = stylize_video(
            input,
            output,
            lambda frames: engine.stylize_batch(style, frames),
            kind=kind,
            options=options,
            progress=progress,
        )
    t = result.times
    _out(
        f"{output}: {result.width}x{result.height}, {result.frames} frames, "
        f"{result.duration:.1f} s, sound {result.audio_mode or 'none'}, "
        f"{_human_size(result.size_bytes)} in {style!r}, {t.wall_s:.1f} s "
        f"({result.frames / t.wall_s:.1f} frames/s; decode {t.decode_s:.1f} s, "
        f"stylize {t.stylize_s:.1f} s, encode {t.encode_s:.1f} s)\n"
    )
    return 0


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines) + "\n"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _out(text: str) -> None:
    sys.stdout.write(text)
