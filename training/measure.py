"""Every figure ``artisto eval`` records for a style: strength (through the product's photo
path) and stability (the generator on validation photos and a real clip)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from inference.photo import BatchStylizer
from inference.registry import StylePack
from training.data import SHARED_DATA, image_files, pick_validation
from training.evaluate import evaluate, torch_generator
from training.style_eval import gatys_ceiling, product_pairs, report_photos, style_report
from training.style_strength import STYLE_LAYERS, StyleMeter
from training.vgg import VGG16Features
from training.vgg_weights import load_vgg16_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measurement:
    """Where the figures come from."""

    cache_dir: Path
    data: Path = SHARED_DATA
    photos: Path | None = None
    """A folder whose photos replace the report set (``report_photos``)."""
    val: Path | None = None
    video: Path | None = None
    size: int = 384
    """Side of the stability figures' photos and clip frames."""
    ceiling: bool = True

    def style(
        self,
        net: torch.nn.Module,
        reference: Image.Image,
        stylizer: BatchStylizer,
        work_side: int | None,
    ) -> dict[str, float]:
        """Strength and stability figures of one style's generator."""
        val = self.val or self.data / "photos" / "val"
        video = self.video or self.data / "videos" / "vtest.mp4"
        stability = evaluate(
            torch_generator(net),
            pick_validation(val, 8),
            size=self.size,
            clip=video if video.is_file() else None,
        )
        vgg = self._vgg()
        ceiling = None
        if self.ceiling:
            ceiling = gatys_ceiling(vgg, reference, self.data, self.cache_dir, progress=log.info)
        pairs = product_pairs(self._photos(), stylizer, work_side)
        return style_report(vgg, reference, pairs, ceiling).as_metrics() | stability.as_metrics()

    def score_against(self, pack: StylePack, reference: Image.Image) -> float:
        """The style score of a pack's photo path against another painting's preparation: two
        packs prepared from a painting differently compare only on one reference."""
        pairs = product_pairs(self._photos(), self._stylizer(pack), pack.meta.work_side)
        return StyleMeter(self._vgg(), reference).score(pairs)

    def pack(self, pack: StylePack) -> dict[str, float]:
        """A pack's figures, its photo path as ``artisto stylize`` runs it."""
        reference = Image.open(pack.style_image_path).convert("RGB")
        return self.style(
            pack.build_generator(), reference, self._stylizer(pack), pack.meta.work_side
        )

    def _stylizer(self, pack: StylePack) -> BatchStylizer:
        from inference.cli import photo_generator

        return photo_generator(pack, "cpu", self.cache_dir)

    def _vgg(self) -> VGG16Features:
        return VGG16Features(load_vgg16_state(self.cache_dir), STYLE_LAYERS)

    def _photos(self) -> list[Path]:
        return image_files(self.photos) if self.photos else report_photos(self.data)
