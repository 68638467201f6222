"""One generator pass that also yields the stability terms (Artisto's, trained in).

Noise goes on the first half of the batch, motion on the second: each term sees half the
batch, for two thirds of the generator's cost. The locality term, when weighted, adds the
first half once more with a patch of another photo pasted in (someone walking into a still
scene): outside the patch and a margin around it, the output must not change. Everything
goes through the generator in one pass (instance norm is per sample, so this is exact).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

from training.losses import motion_stability, noise_stability
from training.motion import MotionRange, random_affine, warp

Generate = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(images, each one's style index) to the generator's outputs."""


class StableOutputs(NamedTuple):
    y: torch.Tensor
    noise: torch.Tensor
    motion: torch.Tensor
    local: torch.Tensor


def pasted_patch(
    x: torch.Tensor, rng: torch.Generator, *, margin: int, side: tuple[float, float] = (0.1, 0.4)
) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` with a rectangle of the next image in the batch pasted in at the same place, and
    the mask (N, 1, H, W) of the pixels farther than ``margin`` from the rectangle."""
    n, _, height, width = x.shape
    changed = torch.zeros(n, 1, height, width, device=x.device)
    for i in range(n):
        frac_h, frac_w = (side[0] + (side[1] - side[0]) * torch.rand(2, generator=rng)).tolist()
        h, w = max(1, round(frac_h * height)), max(1, round(frac_w * width))
        top = int(torch.randint(0, height - h + 1, (1,), generator=rng))
        left = int(torch.randint(0, width - w + 1, (1,), generator=rng))
        changed[i, :, top : top + h, left : left + w] = 1.0
    other = x.roll(1, dims=0) if n > 1 else x.flip(-1)
    patched = x * (1 - changed) + other * changed
    near = F.max_pool2d(changed, 2 * margin + 1, stride=1, padding=margin)
    return patched, 1.0 - near


def stable_pass(
    generate: Generate,
    x: torch.Tensor,
    ids: torch.Tensor,
    *,
    noise_sigma: float,
    motion: MotionRange,
    rng: torch.Generator,
    local_margin: int | None = None,
) -> StableOutputs:
    """The outputs for ``x`` and the stability terms (locality only with ``local_margin``)."""
    n, _, height, width = x.shape
    half = max(1, n // 2)
    clean_a, clean_b = x[:half], x[half:] if n > 1 else x
    ids_b = ids[half:] if n > 1 else ids
    sigma = torch.rand(half, 1, 1, 1, generator=rng) * noise_sigma
    noise = torch.randn(clean_a.shape, generator=rng) * sigma
    theta = random_affine(len(clean_b), height, width, motion, rng)
    moved, inside = warp(clean_b, theta)
    inputs, input_ids = [x, clean_a + noise.to(x.device), moved], [ids, ids[:half], ids_b]
    if local_margin is not None:
        patched, far = pasted_patch(x, rng, margin=local_margin)
        inputs.append(patched[:half])
        input_ids.append(ids[:half])
    out = generate(torch.cat(inputs), torch.cat(input_ids)).float()
    y, y_noisy, y_moved, *rest = torch.split(out, [len(t) for t in inputs])
    y_then_moved, _ = warp(y[n - len(clean_b) :], theta)
    local = torch.zeros((), device=x.device)
    if rest:
        local = motion_stability(rest[0], y[:half], far[:half])
    noisy = noise_stability(y[:half], y_noisy)
    return StableOutputs(y, noisy, motion_stability(y_moved, y_then_moved, inside), local)
