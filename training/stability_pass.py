"""One generator pass that also yields the two stability terms (Artisto's, trained in).

Noise goes on the first half of the batch, motion on the second: each term sees half the
batch, for two thirds of the generator's cost. Everything goes through the generator in one
pass (instance norm is per sample, so this is exact).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from training.losses import motion_stability, noise_stability
from training.motion import MotionRange, random_affine, warp

Generate = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(images, each one's style index) to the generator's outputs."""


def stable_pass(
    generate: Generate,
    x: torch.Tensor,
    ids: torch.Tensor,
    *,
    noise_sigma: float,
    motion: MotionRange,
    rng: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The outputs for ``x``, the noise term and the motion term."""
    n, _, height, width = x.shape
    half = max(1, n // 2)
    clean_a, clean_b = x[:half], x[half:] if n > 1 else x
    ids_b = ids[half:] if n > 1 else ids
    sigma = torch.rand(half, 1, 1, 1, generator=rng) * noise_sigma
    noise = torch.randn(clean_a.shape, generator=rng) * sigma
    theta = random_affine(len(clean_b), height, width, motion, rng)
    moved, inside = warp(clean_b, theta)
    inputs = torch.cat([x, clean_a + noise.to(x.device), moved])
    out = generate(inputs, torch.cat([ids, ids[:half], ids_b])).float()
    y, y_noisy, y_moved = torch.split(out, [n, half, len(clean_b)])
    y_then_moved, _ = warp(y[n - len(clean_b) :], theta)
    return y, noise_stability(y[:half], y_noisy), motion_stability(y_moved, y_then_moved, inside)
