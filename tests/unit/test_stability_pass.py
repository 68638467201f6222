"""The stability pass's locality term: a pasted patch may change only its own surroundings."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from training.motion import MotionRange
from training.stability_pass import pasted_patch, stable_pass

STILL = MotionRange(max_shift_px=0.0, max_rotate_deg=0.0, max_zoom=0.0)


def test_the_patch_comes_from_the_next_photo_and_the_mask_keeps_clear_of_it() -> None:
    x = torch.stack([torch.full((3, 32, 32), float(v)) for v in (0.0, 1.0, 2.0)])
    patched, far = pasted_patch(x, torch.Generator().manual_seed(0), margin=3)
    for i in range(3):
        changed = patched[i, 0] != x[i, 0]
        assert changed.any()
        assert (patched[i, 0][changed] == x[i - 1, 0, 0, 0]).all()
        near = F.max_pool2d(changed[None, None].float(), 7, stride=1, padding=3)[0, 0]
        assert torch.equal(far[i, 0], 1.0 - near)
        assert 0 < far[i].mean() < 1


def local_term(generate: torch.nn.Module) -> float:
    brightness = torch.arange(4.0).view(4, 1, 1, 1)
    x = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1)) + brightness
    outputs = stable_pass(
        lambda images, _ids: generate(images), x, torch.zeros(4, dtype=torch.long),
        noise_sigma=0.0, motion=STILL, rng=torch.Generator().manual_seed(2), local_margin=2,
    )  # fmt: skip
    return float(outputs.local)


def test_a_pixelwise_generator_passes_and_a_global_one_fails() -> None:
    pixelwise = torch.nn.Conv2d(3, 3, 1)
    global_mean = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Upsample(32))
    assert local_term(pixelwise) < 1e-12
    assert local_term(global_mean) > 1e-3


def test_without_a_margin_there_is_no_locality_term() -> None:
    x = torch.rand(2, 3, 16, 16)
    outputs = stable_pass(
        lambda images, _ids: images.mean(dim=(2, 3), keepdim=True).expand_as(images),
        x, torch.zeros(2, dtype=torch.long),
        noise_sigma=0.0, motion=STILL, rng=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert outputs.local == 0
    assert outputs.y.shape == x.shape
