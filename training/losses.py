"""Perceptual, smoothness and stability losses.

Content and style terms are relative errors (divided by the target's energy), so a recipe's
weights mean the same for every painting: a content loss of 1 means the output no longer
relates to the photo, 0 means it is the photo.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices (N, C, C) normalised by C·H·W, so they do not grow with the image size."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def content_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared feature error relative to the target's feature energy."""
    return F.mse_loss(output, target) / target.pow(2).mean().clamp_min(1e-8)


def style_loss(
    output_features: dict[str, torch.Tensor],
    style_grams: dict[str, torch.Tensor],
    style_ids: torch.Tensor | None = None,
    photo_distances: dict[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """The style term, averaged over layers. ``style_grams`` holds one Gram per painting,
    (S, C, C) for each layer; ``style_ids`` picks each sample's painting (the first for every
    sample when None).

    Without ``photo_distances``: each sample's Gram error relative to its painting's Gram
    energy. With them (per layer, (N,): each sample's photo's own squared Gram distance from
    its painting), the style score's own formula: log10 of each sample's distance over its
    photo's, averaged, so that every layer and every photo counts as the score counts it.
    """
    total = torch.zeros((), device=next(iter(style_grams.values())).device)
    for name, targets in style_grams.items():
        g = gram(output_features[name])
        ids = style_ids if style_ids is not None else torch.zeros(len(g), dtype=torch.long)
        target = targets[ids.to(targets.device)]
        error = gram_distance(g, target)
        if photo_distances is None:
            total = total + (error / target.pow(2).mean(dim=(1, 2)).clamp_min(1e-12)).mean()
        else:
            ratio = error / photo_distances[name].clamp_min(1e-20)
            total = total + ratio.clamp_min(1e-6).log10().mean()
    return total / len(style_grams)


def gram_distance(grams: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of each pair of Gram matrices, (N, C, C) each, as (N,)."""
    return (grams - targets).pow(2).mean(dim=(1, 2))


def mean_photo_distances(
    photo_grams: dict[str, torch.Tensor], style_grams: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Per layer and painting, the mean squared Gram distance of photos (N, C, C) from each
    painting (S, C, C), as (S,) per layer."""
    return {
        name: (photo_grams[name][None] - targets[:, None]).pow(2).mean(dim=(2, 3)).mean(dim=1)
        for name, targets in style_grams.items()
    }


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels."""
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return dx + dy


def noise_stability(clean_output: torch.Tensor, noisy_output: torch.Tensor) -> torch.Tensor:
    """‖G(x) − G(x + n)‖²: the output must not change when the input gets a little noise."""
    return F.mse_loss(noisy_output, clean_output)


def motion_stability(
    output_of_warped: torch.Tensor, warped_output: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """‖G(warp(x)) − warp(G(x))‖² over the pixels the warp keeps inside the frame."""
    squared = (output_of_warped - warped_output).pow(2) * valid
    return squared.sum() / (valid.sum() * output_of_warped.shape[1]).clamp_min(1.0)
