"""Stability metrics on synthetic inputs with known answers."""

from __future__ import annotations

import math

import torch

from training.evaluate import (
    as_shown,
    clip_outputs,
    identity_generator,
    noise_flicker,
    static_change,
    warping_error,
)


def _smooth_image(h: int = 64, w: int = 96) -> torch.Tensor:
    y = torch.linspace(0, 1, h).view(h, 1)
    x = torch.linspace(0, 1, w).view(1, w)
    channels = [0.2 + 0.6 * x * y, 0.5 + 0.3 * torch.sin(6 * x) * y, 0.3 + 0.4 * y * x.pow(0)]
    return torch.stack([c.expand(h, w) for c in channels])


def _constant(x: torch.Tensor) -> torch.Tensor:
    return torch.full_like(x, 0.5)


def test_identity_passes_sigma_2_noise_as_2_26() -> None:
    images = [_smooth_image() for _ in range(4)]
    flicker = noise_flicker(identity_generator, images)
    expected = 2 * math.sqrt(2) * math.sqrt(2 / math.pi)  # mean |n1 - n2|, n ~ N(0, 2)
    assert abs(flicker - expected) < 0.03


def test_a_generator_that_ignores_its_input_does_not_flicker() -> None:
    assert noise_flicker(_constant, [_smooth_image()]) == 0


def test_noise_flicker_scales_with_gain() -> None:
    image = [_smooth_image()]
    doubled = noise_flicker(lambda x: (x - 0.5) * 2 + 0.5, image)
    assert abs(doubled - 2 * noise_flicker(identity_generator, image)) < 0.05


def test_warping_error_is_small_for_the_identity_and_zero_for_a_constant() -> None:
    still = _smooth_image(96, 128)
    out_err, in_err = warping_error(identity_generator, still, frames=6)
    assert abs(out_err - in_err) < 1e-4, "identity output moves exactly like its input"
    assert in_err < 1.0, "a smooth still, warped exactly, leaves only interpolation error"
    assert warping_error(_constant, still, frames=6)[0] < 1e-4


def test_warping_error_catches_an_output_that_does_not_follow_the_motion() -> None:
    still = _smooth_image(96, 128)

    def frozen(x: torch.Tensor) -> torch.Tensor:
        return still.unsqueeze(0).expand_as(x).clone()

    frozen_err, _ = warping_error(frozen, still, frames=6)
    assert frozen_err > 5 * warping_error(identity_generator, still, frames=6)[0]


def _corner_clip(side: int) -> list[torch.Tensor]:
    """Five frames of a still scene with a moving object in one corner."""
    base = _smooth_image(side, side)
    frames = []
    for t in range(5):
        frame = base.clone()
        frame[:, :8, :8] = (t % 2) * 1.0
        frames.append(frame)
    return frames


def test_background_flicker_counts_only_static_pixels() -> None:
    frames = _corner_clip(32)
    out, inp = static_change(frames, clip_outputs(identity_generator, frames))
    assert out == inp == 0, "the corner changes a lot, so it is not background"

    def flickering(x: torch.Tensor) -> torch.Tensor:
        flickering.calls += 1  # type: ignore[attr-defined]
        return (x + 0.01 * (flickering.calls % 2)).clamp(0, 1)  # type: ignore[attr-defined]

    flickering.calls = 0  # type: ignore[attr-defined]
    out, inp = static_change(frames, clip_outputs(flickering, frames))
    assert inp == 0 and abs(out - 2.55) < 0.05


def test_the_shown_clip_keeps_still_areas_and_follows_the_moving_one() -> None:
    frames = _corner_clip(64)
    outputs = [(f + 0.01 * (t % 2)).clamp(0, 1) for t, f in enumerate(frames)]  # tone swings
    shown = as_shown(frames, outputs)
    plain, _ = static_change(frames, outputs)
    kept, _ = static_change(frames, shown)
    assert abs(plain - 2.55) < 0.05
    assert kept < 0.3 * plain, "far from the corner the first output is kept"
    for t in range(5):
        assert torch.allclose(shown[t][:, :8, :8], outputs[t][:, :8, :8], atol=1 / 255)
