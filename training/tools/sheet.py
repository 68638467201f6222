"""``docs/styles.jpg``: every installed style on the same validation photos, faces among them.

python -m training.tools.sheet [--out docs/styles.jpg] [--cell 240]
"""

from __future__ import annotations

import argparse
import io
from functools import cache, partial
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from inference.engine import Engine
from inference.photo import PhotoOptions, stylize_photo
from inference.registry import StyleRegistry
from training.data import SHARED_DATA, pick_validation
from training.report import grid


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


def _label(image: Image.Image, text: str) -> Image.Image:
    labelled = Image.new("RGB", (image.width, image.height + 22), "white")
    labelled.paste(image, (0, 22))
    font = _font()
    ImageDraw.Draw(labelled).text((4, 4), shorten(text, image.width - 8, font), "black", font)
    return labelled


def build_sheet(registry: StyleRegistry, photos: list[Path], cell: int) -> Image.Image:
    engine = Engine(registry)
    rows = [[_label(fit_cell(Image.new("RGB", (cell, cell), "white"), cell), "")]]
    rows[0] += [_label(fit_cell(Image.open(p), cell), p.stem.split("_", 1)[-1]) for p in photos]
    for name in registry.names():
        pack = registry.get(name)
        row = [_label(fit_cell(Image.open(pack.style_image_path), cell), pack.meta.title)]
        for photo in photos:
            options = PhotoOptions(max_side=2 * cell, work_side=pack.meta.work_side)
            result = stylize_photo(photo, partial(engine.stylize_batch, name), options)
            row.append(_label(fit_cell(Image.open(io.BytesIO(result.data)), cell), ""))
        rows.append(row)
    return grid(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.tools.sheet", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/styles.jpg"))
    parser.add_argument("--cell", type=int, default=240)
    parser.add_argument("--val", type=Path, default=SHARED_DATA / "photos" / "val")
    args = parser.parse_args(argv)
    sheet = build_sheet(StyleRegistry.discover(), pick_validation(args.val, 4), args.cell)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=88, optimize=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
