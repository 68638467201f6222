"""A finished run becomes style packs: one per painting, each an ordinary generator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image

from inference.registry import NetSpec, StyleMeta, StylePack, write_pack
from inference.registry.pack import STYLE_IMAGE_MAX_SIDE
from training.data import to_image, to_tensor
from training.recipe import Recipe

if TYPE_CHECKING:
    from inference.nets import TransformerNet
    from training.train import Painting

SUMMARY_ONLY_KEYS = ("final_losses", "trained_with")
"""Keys a pack's ``[recipe]`` records beside the recipe itself: the losses it ended at, and
the other paintings a multi-style run shared its convolutions with."""


@dataclass(frozen=True)
class StyleInfo:
    """What the pack tells users about the painting."""

    title: str
    artist: str = ""
    year: str = ""
    emoji: str = "🎨"


def export_packs(
    paintings: Sequence[Painting],
    nets: Sequence[TransformerNet],
    style_images: Sequence[Image.Image],
    recipe: Recipe,
    history: dict[str, list[float]],
    *,
    preview: Image.Image,
) -> list[StylePack]:
    """Write each painting's pack: its generator, its prepared painting as trained (the style
    score's reference), a preview on ``preview`` and the recipe it was trained with."""
    packs = []
    for painting, net, image in zip(paintings, nets, style_images, strict=True):
        info = painting.info or StyleInfo(title=painting.name.replace("_", " ").title())
        own = recipe.model_copy(update={"style_prep": painting.prep or recipe.style_prep})
        summary = recipe_summary(own, history)
        if len(paintings) > 1:
            summary["trained_with"] = [p.name for p in paintings if p is not painting]
        meta = StyleMeta(
            name=painting.name,
            title=info.title,
            artist=info.artist,
            year=info.year,
            emoji=info.emoji,
            net=NetSpec.of(net),
            work_side=recipe.work_side,
            recipe=summary,
        )
        reference = image.copy()
        reference.thumbnail((STYLE_IMAGE_MAX_SIDE, STYLE_IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
        packs.append(write_pack(painting.pack_dir, net, meta, reference, _stylized(net, preview)))
    return packs


@torch.no_grad()
def _stylized(net: TransformerNet, photo: Image.Image) -> Image.Image:
    return to_image(net.eval()(to_tensor(photo).unsqueeze(0))[0])


def recipe_summary(recipe: Recipe, history: dict[str, list[float]]) -> dict[str, Any]:
    """The recipe, and the mean of each loss over the last twentieth of the run."""
    summary = recipe.to_dict()
    tail = max(1, len(history["iter"]) // 20)
    summary["final_losses"] = {
        k: round(sum(v[-tail:]) / tail, 6) for k, v in history.items() if k != "iter" and v
    }
    return summary
