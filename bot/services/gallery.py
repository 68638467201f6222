"""The /styles gallery: every style's preview in one collage, so it is one photo, not a
stream of them. Built once per process (the styles do not change while it runs); after the
first upload Telegram's file_id is sent instead of the bytes."""

from __future__ import annotations

import asyncio
import io
import math

from PIL import Image, ImageDraw, ImageFont

from inference.registry import StyleRegistry

TILE = 256
LABEL = 28
COLUMNS = 3


def build_collage(registry: StyleRegistry) -> bytes:
    """A JPEG grid of previews, each labelled with its title."""
    packs = list(registry)
    columns = min(COLUMNS, len(packs))
    rows = math.ceil(len(packs) / columns)
    sheet = Image.new("RGB", (columns * TILE, rows * (TILE + LABEL)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=18)
    for index, pack in enumerate(packs):
        x, y = (index % columns) * TILE, (index // columns) * (TILE + LABEL)
        with Image.open(pack.preview_path) as preview:
            tile = preview.convert("RGB")
        tile.thumbnail((TILE, TILE), Image.Resampling.LANCZOS)
        sheet.paste(tile, (x + (TILE - tile.width) // 2, y + (TILE - tile.height) // 2))
        draw.text(
            (x + TILE // 2, y + TILE + LABEL // 2),
            pack.meta.title,
            fill="black",
            font=font,
            anchor="mm",
        )
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=88)
    return out.getvalue()


class Gallery:
    def __init__(self, registry: StyleRegistry) -> None:
        self.registry = registry
        self.file_id: str | None = None
        self._data: bytes | None = None
        self._lock = asyncio.Lock()

    async def collage(self) -> bytes:
        async with self._lock:
            if self._data is None:
                self._data = await asyncio.to_thread(build_collage, self.registry)
            return self._data
