"""Synthetic motion: warps move pixels exactly where the flow says."""

from __future__ import annotations

import torch

from training.motion import MotionRange, affine_matrices, pan_zoom_thetas, random_affine, warp


def _shift(dx: float, dy: float, h: int, w: int) -> torch.Tensor:
    return affine_matrices(torch.tensor([[dx, dy]]), torch.zeros(1), torch.zeros(1), h, w)


def test_integer_shift_moves_content_right_and_down() -> None:
    image = torch.zeros(1, 1, 8, 10)
    image[0, 0, 2, 3] = 1.0
    moved, inside = warp(image, _shift(2, 1, 8, 10))
    assert moved[0, 0, 3, 5] == 1.0
    assert moved.sum() == 1.0
    # The two leftmost columns and the top row came from outside the frame.
    assert inside[0, 0, :, :2].sum() == 0 and inside[0, 0, 0, :].sum() == 0
    assert inside[0, 0, 1:, 2:].all()


def test_identity_warp_is_exact() -> None:
    image = torch.rand(2, 3, 12, 16)
    theta = affine_matrices(torch.zeros(2, 2), torch.zeros(2), torch.zeros(2), 12, 16)
    moved, inside = warp(image, theta)
    assert torch.allclose(moved, image, atol=1e-6)
    assert inside.all()


def test_positive_rotation_turns_content_counter_clockwise() -> None:
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    theta = affine_matrices(torch.zeros(1, 2), torch.tensor([90.0]), torch.zeros(1), 4, 4)
    moved, _ = warp(image, theta)
    assert torch.allclose(moved, torch.rot90(image, k=1, dims=(2, 3)), atol=1e-4)


def test_random_affine_stays_within_range_and_is_seeded() -> None:
    motion = MotionRange(max_shift_px=3, max_rotate_deg=0, max_zoom=0)
    a = random_affine(64, 32, 32, motion, torch.Generator().manual_seed(1))
    b = random_affine(64, 32, 32, motion, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    shift_px = a[:, :, 2].abs() * 32 / 2
    assert (shift_px <= 3 + 1e-5).all()


def test_pan_zoom_starts_at_identity() -> None:
    thetas = pan_zoom_thetas(5, 20, 30)
    assert torch.allclose(thetas[0], torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]))
    assert not torch.allclose(thetas[-1], thetas[0])
