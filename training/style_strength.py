"""Style strength: how much closer an output's VGG16 style statistics are to the painting's
than the photo's were.

For each photo, with photo, output and painting resized so that their longest side is
``MEASURE_SIDE`` (bicubic), and Gram matrices of VGG16 relu1_2, relu2_2, relu3_3 and relu4_3
normalised by C·H·W::

    score = mean over layers of log10(‖G(out) − G(ref)‖² / ‖G(photo) − G(ref)‖²)

averaged over the photos. 0: the output is as far from the painting as the photo was; −1: ten
times closer. An output whose Grams equal the painting's would score −∞: each layer's ratio is
clamped at ``RATIO_FLOOR``, so the lowest possible score is ``log10(RATIO_FLOOR)`` = −6.

Two calibration figures sit beside it: the *colour floor* (a per-channel mean/std colour
transfer of the painting onto the photo: a filter, not a style) and the *Gatys ceiling* (pixel
optimisation from the photo toward the painting's Grams, Gatys et al. 2016).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from training.data import to_image, to_tensor
from training.losses import gram
from training.vgg import VGG16Features

MEASURE_SIDE = 384
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
RATIO_FLOOR = 1e-6
"""Smallest per-layer distance ratio counted: an output with the painting's very Grams."""

GATYS_SIDE = 256
GATYS_STEPS = 150
GATYS_LR = 0.01
GATYS_STYLE_WEIGHT = 1e4
GATYS_CONTENT_LAYER = "relu4_3"


def resize_longest(image: Image.Image, side: int = MEASURE_SIDE) -> Image.Image:
    """Bicubic resize so the longest side is ``side`` (up or down)."""
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.convert("RGB").resize(size, Image.Resampling.BICUBIC)


class StyleMeter:
    """Scores outputs against one painting; the painting's Grams are computed once."""

    def __init__(self, vgg: VGG16Features, reference: Image.Image) -> None:
        missing = set(STYLE_LAYERS) - set(vgg.layers)
        if missing:
            raise ValueError(f"the VGG16 needs the layers {sorted(missing)} for the style score")
        self.vgg = vgg
        self.reference = self.grams(reference)

    @torch.no_grad()
    def grams(self, image: Image.Image) -> dict[str, torch.Tensor]:
        x = to_tensor(resize_longest(image)).unsqueeze(0)
        feats = self.vgg(x)
        return {name: gram(feats[name])[0] for name in STYLE_LAYERS}

    def layer_ratios(self, photo: Image.Image, output: Image.Image) -> dict[str, float]:
        """Per layer: the output's squared Gram distance to the painting over the photo's."""
        g_photo, g_out = self.grams(photo), self.grams(output)
        ratios = {}
        for name in STYLE_LAYERS:
            ref = self.reference[name]
            before = float((g_photo[name] - ref).pow(2).sum())
            after = float((g_out[name] - ref).pow(2).sum())
            ratios[name] = max(after / before, RATIO_FLOOR) if before > 0 else 1.0
        return ratios

    def score_one(self, photo: Image.Image, output: Image.Image) -> float:
        ratios = self.layer_ratios(photo, output)
        return sum(math.log10(r) for r in ratios.values()) / len(ratios)

    def score(self, pairs: Iterable[tuple[Image.Image, Image.Image]]) -> float:
        """The mean score over (photo, output) pairs; independent of their order."""
        scores = sorted(self.score_one(photo, output) for photo, output in pairs)
        if not scores:
            raise ValueError("the style score needs at least one photo")
        return math.fsum(scores) / len(scores)


def colour_transfer(photo: Image.Image, painting: Image.Image) -> Image.Image:
    """The photo with each RGB channel shifted and scaled to the painting's mean and spread."""
    src = np.asarray(photo.convert("RGB"), dtype=np.float64)
    ref = np.asarray(painting.convert("RGB"), dtype=np.float64)
    src_mean, src_std = src.mean(axis=(0, 1)), src.std(axis=(0, 1))
    ref_mean, ref_std = ref.mean(axis=(0, 1)), ref.std(axis=(0, 1))
    out = (src - src_mean) / np.maximum(src_std, 1e-6) * ref_std + ref_mean
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))


@dataclass(frozen=True)
class GatysSettings:
    side: int = GATYS_SIDE
    steps: int = GATYS_STEPS
    lr: float = GATYS_LR
    style_weight: float = GATYS_STYLE_WEIGHT


def gatys(
    vgg: VGG16Features,
    photo: Image.Image,
    painting: Image.Image,
    settings: GatysSettings | None = None,
) -> Image.Image:
    """Pixel optimisation from the photo (Gatys et al. 2016): Adam on [0, 1] pixels, content
    the mean squared relu4_3 error, style the Grams' squared error summed over entries ×10⁴."""
    s = settings or GatysSettings()
    x0 = to_tensor(resize_longest(photo, s.side)).unsqueeze(0)
    ref = to_tensor(resize_longest(painting, s.side)).unsqueeze(0)
    with torch.no_grad():
        content = vgg(x0)[GATYS_CONTENT_LAYER]
        style = {name: gram(f) for name, f in vgg(ref).items() if name in STYLE_LAYERS}
    pixels = x0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([pixels], lr=s.lr)
    for _ in range(s.steps):
        feats = vgg(pixels)
        loss = F.mse_loss(feats[GATYS_CONTENT_LAYER], content)
        for name in STYLE_LAYERS:
            loss = loss + s.style_weight * (gram(feats[name]) - style[name]).pow(2).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        with torch.no_grad():
            pixels.clamp_(0, 1)
    return to_image(pixels.detach()[0])
