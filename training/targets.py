"""What the style term aims at: each painting's Gram matrices and, for the score-shaped term,
how far the photos themselves are from each painting."""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch
from PIL import Image

from training.data import PhotoCrops, to_tensor
from training.losses import gram, gram_distance, mean_photo_distances
from training.vgg import VGG16Features

FLOOR_SHARE = 0.1
"""Of the photos' mean distance from a painting, added to each crop's own: a crop that is
already close to the painting does not ask for an unbounded ratio."""
FLOOR_CROPS = 32


class StyleTargets:
    def __init__(
        self,
        vgg: VGG16Features,
        paintings: Sequence[Image.Image],
        layers: Sequence[str],
        device: torch.device,
    ) -> None:
        self.vgg = vgg
        with torch.no_grad():
            per_painting = [vgg(to_tensor(p).unsqueeze(0).to(device)) for p in paintings]
        self.grams: dict[str, torch.Tensor] = {
            name: torch.cat([gram(feats[name]) for feats in per_painting]) for name in layers
        }
        """Per layer, one Gram per painting: (S, C, C)."""
        self.floor: dict[str, torch.Tensor] | None = None
        """Per layer, (S,): what ``own_distances`` adds; None for the relative term."""

    @torch.no_grad()
    def measured_against(self, photos: PhotoCrops, seed: int) -> StyleTargets:
        """Set the floor from fixed crops drawn with a generator of their own (the run's own
        crop sequence stays as it was)."""
        device = next(iter(self.grams.values())).device
        feats = self.vgg(photos.batch(FLOOR_CROPS, random.Random(seed + 7)).to(device))
        photo_grams = {name: gram(feats[name]) for name in self.grams}
        means = mean_photo_distances(photo_grams, self.grams)
        self.floor = {name: FLOOR_SHARE * mean for name, mean in means.items()}
        return self

    def own_distances(
        self, feats: dict[str, torch.Tensor], ids: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Each photo's own Gram distance from its painting, plus the floor: (N,) per layer."""
        if self.floor is None:
            raise RuntimeError("own distances need the floor: call measured_against first")
        return {
            name: gram_distance(gram(feats[name].float()), targets[ids]) + self.floor[name][ids]
            for name, targets in self.grams.items()
        }
