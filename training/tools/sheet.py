"""``docs/styles.jpg``: every installed style on the same validation photos, faces among them,
each painting labelled with its title and its figures (``artisto eval``).

python -m training.tools.sheet [--out docs/styles.jpg] [--cell 256]
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Mapping
from functools import cache, partial
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from inference.engine import Engine
from inference.photo import PhotoOptions, stylize_photo
from inference.registry import StyleRegistry
from training.data import SHARED_DATA, pick_validation
from training.report import grid

LINE_HEIGHT = 20


def fit_cell(image: Image.Image, cell: int) -> Image.Image:
    """An RGB copy of ``image`` that fits a ``cell``-pixel square."""
    image = image.convert("RGB")
    image.thumbnail((cell, cell), Image.Resampling.LANCZOS)
    return image


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans where the system has it: Pillow's own font lacks accents (Café)."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", 14)
    except OSError:
        return ImageFont.load_default(14)


def shorten(text: str, width: float, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> str:
    """``text`` if it fits in ``width`` pixels, else its first whole words and an ellipsis."""
    words = text.split()
    while words and font.getlength(text) > width:
        words.pop()
        text = " ".join(words) + "…"
    return text


def figures_lines(metrics: Mapping[str, float]) -> tuple[str, str]:
    """The style score and the noise flicker; the clip flicker over the input's, from the
    generator and as shown after the video path's temporal pass. Each part as known."""
    first = []
    if "style_score" in metrics:
        first.append(f"style {metrics['style_score']:.2f}".replace("-", "−"))
    if "noise_flicker" in metrics:
        first.append(f"noise {metrics['noise_flicker']:.2f}")
    second = ""
    if clip_input := metrics.get("clip_flicker_input"):
        second = f"clip {metrics['clip_flicker'] / clip_input:.1f}×"
        if "clip_flicker_shown" in metrics:
            second += f", shown {metrics['clip_flicker_shown'] / clip_input:.1f}×"
    return " · ".join(first), second


def _label(image: Image.Image, *lines: str, width: int = 0) -> Image.Image:
    """``image`` under its lines of text, on a canvas at least ``width`` wide (a portrait
    painting's label may use its whole cell)."""
    top = LINE_HEIGHT * len(lines)
    labelled = Image.new("RGB", (max(image.width, width), image.height + top), "white")
    labelled.paste(image, (0, top))
    font, draw = _font(), ImageDraw.Draw(labelled)
    for index, text in enumerate(lines):
        line = shorten(text, labelled.width - 8, font)
        draw.text((4, 4 + index * LINE_HEIGHT), line, "black", font)
    return labelled


def build_sheet(registry: StyleRegistry, photos: list[Path], cell: int) -> Image.Image:
    engine = Engine(registry)
    blank = ("", "", "")
    rows = [[_label(fit_cell(Image.new("RGB", (cell, cell), "white"), cell), *blank)]]
    rows[0] += [
        _label(fit_cell(Image.open(p), cell), p.stem.split("_", 1)[-1], "", "") for p in photos
    ]
    for name in registry.names():
        pack = registry.get(name)
        painting = fit_cell(Image.open(pack.style_image_path), cell)
        row = [_label(painting, pack.meta.title, *figures_lines(pack.meta.metrics), width=cell)]
        for photo in photos:
            options = PhotoOptions(max_side=2 * cell, work_side=pack.meta.work_side)
            result = stylize_photo(photo, partial(engine.stylize_batch, name), options)
            row.append(_label(fit_cell(Image.open(io.BytesIO(result.data)), cell), *blank))
        rows.append(row)
    return grid(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.tools.sheet", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/styles.jpg"))
    parser.add_argument("--cell", type=int, default=256)
    parser.add_argument("--val", type=Path, default=SHARED_DATA / "photos" / "val")
    args = parser.parse_args(argv)
    sheet = build_sheet(StyleRegistry.discover(), pick_validation(args.val, 4), args.cell)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=88, optimize=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
