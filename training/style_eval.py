"""A style's strength as users get it: the product's photo path, scored on fixed photos.

The outputs are what ``artisto stylize IN OUT.jpg --style NAME`` writes with default settings
(decode, cap to the default size, the pack's work size, the generator, Lanczos back up, JPEG).
The reference is the pack's ``style.jpg``: the painting as it was trained. Beside the score
sit the colour floor, the Gatys ceiling (cached by the painting's hash: it costs about two
minutes a photo on a CPU) and the face check on portraits.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inference.media.image import DEFAULT_MAX_SIDE, decode_image
from inference.photo import BatchStylizer, PhotoOptions, stylize_photo
from training.faces import face_check
from training.style_strength import (
    STYLE_LAYERS,
    GatysSettings,
    StyleMeter,
    colour_transfer,
    gatys,
)
from training.vgg import VGG16Features

log = logging.getLogger(__name__)

CONTENT_PHOTOS = ("tubingen.jpg", "golden_gate.jpg", "hoovertowernight.jpg", "brad_pitt.jpg")
"""The classic content photos (``content/``): with the eight below, the report set."""
REPORT_VAL_PHOTOS = (
    "gcompris_music-mexico.jpg",
    "gcompris_music-italy.jpg",
    "gcompris_music-australia.jpg",
    "gcompris_erase-kitten.jpg",
    "gcompris_monuments-eiffel-tower.jpg",
    "gcompris_monuments-taj-mahal.jpg",
    "gcompris_clickgame-sea3.jpg",
    "palapeli_citrus-fruits.jpg",
)
"""Eight validation photos (``photos/val/``) of the report set: faces, an animal, buildings,
water, still life. Recipes are chosen on all of ``photos/val``; figures are reported here."""
GATYS_PHOTOS = ("content/tubingen.jpg", "content/brad_pitt.jpg",
                "photos/val/gcompris_music-mexico.jpg",
                "photos/val/gcompris_erase-kitten.jpg")  # fmt: skip
"""The fixed subset the Gatys ceiling is computed on, once per painting."""
GATYS_CACHE = "gatys"


def report_photos(data: Path) -> list[Path]:
    """The report set under the shared data folder; a missing photo is an error, not a
    smaller set that would make figures incomparable."""
    paths = [data / "content" / name for name in CONTENT_PHOTOS]
    paths += [data / "photos" / "val" / name for name in REPORT_VAL_PHOTOS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"report photos missing: {', '.join(missing)}")
    return paths


def product_pairs(
    photos: Sequence[Path], stylize: BatchStylizer, work_side: int | None
) -> list[tuple[Image.Image, Image.Image]]:
    """(photo, output) per photo, the output decoded from the product's own JPEG."""
    options = PhotoOptions(max_side=DEFAULT_MAX_SIDE, work_side=work_side)
    pairs = []
    for path in photos:
        result = stylize_photo(path, stylize, options)
        output = Image.open(io.BytesIO(result.data)).convert("RGB")
        pairs.append((decode_image(path), output))
    return pairs


def torch_stylizer(net: torch.nn.Module) -> BatchStylizer:
    """A generator in torch as the photo path's batch function (uint8 NHWC in and out)."""
    net = net.eval()

    @torch.no_grad()
    def stylize(frames: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
        h, w = x.shape[2:]
        padded = torch.nn.functional.pad(x, (0, -w % 4, 0, -h % 4), mode="reflect")
        y = net(padded)[:, :, :h, :w].clamp(0, 1)
        out: np.ndarray = (y * 255).round().byte().permute(0, 2, 3, 1).numpy()
        return out

    return stylize


@dataclass(frozen=True)
class StyleReport:
    style_score: float
    style_floor: float
    style_ceiling: float | None
    faces_kept: float | None

    @property
    def share_of_ceiling(self) -> float | None:
        """Where the score sits from the colour floor (0) to the Gatys ceiling (1)."""
        if self.style_ceiling is None or self.style_ceiling >= self.style_floor:
            return None
        return (self.style_score - self.style_floor) / (self.style_ceiling - self.style_floor)

    def as_metrics(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items() if v is not None}


def style_report(
    vgg: VGG16Features,
    reference: Image.Image,
    pairs: Sequence[tuple[Image.Image, Image.Image]],
    ceiling: float | None,
) -> StyleReport:
    meter = StyleMeter(vgg, reference)
    floor = meter.score((photo, colour_transfer(photo, reference)) for photo, _ in pairs)
    return StyleReport(meter.score(pairs), floor, ceiling, face_check(pairs).kept)


def gatys_ceiling(
    vgg: VGG16Features,
    reference: Image.Image,
    data: Path,
    cache_dir: Path,
    settings: GatysSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> float:
    """The Gatys score on ``GATYS_PHOTOS``, computed once per painting and settings."""
    s = settings or GatysSettings()
    key = _ceiling_key(reference, s)
    cached = cache_dir / GATYS_CACHE / f"{key}.json"
    if cached.is_file():
        return float(json.loads(cached.read_text(encoding="utf-8"))["score"])
    meter = StyleMeter(vgg, reference)
    pairs = []
    for name in GATYS_PHOTOS:
        if progress is not None:
            progress(f"Gatys optimisation on {name} ({s.steps} steps at {s.side} px)")
        photo = decode_image(data / name)
        pairs.append((photo, gatys(vgg, photo, reference, s)))
    score = meter.score(pairs)
    cached.parent.mkdir(parents=True, exist_ok=True)
    record = {"score": score, "photos": list(GATYS_PHOTOS), "settings": asdict(s)}
    cached.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return score


def _ceiling_key(reference: Image.Image, settings: GatysSettings) -> str:
    digest = hashlib.sha256(np.asarray(reference.convert("RGB")).tobytes())
    digest.update(json.dumps([asdict(settings), GATYS_PHOTOS, STYLE_LAYERS]).encode())
    return digest.hexdigest()[:24]
