"""Synthetic motion: small random shifts, rotations and zooms with an exactly known flow."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class MotionRange:
    """Largest motion drawn: shift in pixels, rotation in degrees, zoom as a fraction."""

    max_shift_px: float = 6.0
    max_rotate_deg: float = 2.0
    max_zoom: float = 0.04


def affine_matrices(
    shift_px: torch.Tensor, rotate_deg: torch.Tensor, zoom: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """(N, 2, 3) matrices for ``F.affine_grid``: output pixel p samples input pixel A·p.

    Shifts are in pixels (x, y); a positive shift moves the content right and down.
    """
    angle = torch.deg2rad(rotate_deg)
    scale = 1.0 / (1.0 + zoom)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    tx = -shift_px[:, 0] * 2.0 / width
    ty = -shift_px[:, 1] * 2.0 / height
    aspect = height / width
    row1 = torch.stack([cos, -sin * aspect, tx], dim=1)
    row2 = torch.stack([sin / aspect, cos, ty], dim=1)
    return torch.stack([row1, row2], dim=1)


def random_affine(
    n: int, height: int, width: int, motion: MotionRange, generator: torch.Generator | None = None
) -> torch.Tensor:
    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator) * 2.0 - 1.0

    shift = uniform(n, 2) * motion.max_shift_px
    rotate = uniform(n) * motion.max_rotate_deg
    zoom = uniform(n) * motion.max_zoom
    return affine_matrices(shift, rotate, zoom, height, width)


def warp(images: torch.Tensor, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The images moved by ``theta``, and a (N, 1, H, W) mask of pixels that came from inside."""
    theta = theta.to(images.device, images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    warped = F.grid_sample(
        images, grid, mode="bilinear", padding_mode="border", align_corners=False
    )
    inside = (grid.abs() <= 1.0).all(dim=-1, keepdim=True).permute(0, 3, 1, 2)
    return warped, inside.to(images.dtype)


def pan_zoom_thetas(frames: int, height: int, width: int, total_shift_px: float = 48.0,
                    total_zoom: float = 0.12) -> torch.Tensor:  # fmt: skip
    """Cumulative transforms of a smooth pan-and-zoom clip made from one still (frame 0 = id)."""
    t = torch.linspace(0.0, 1.0, frames)
    shift = torch.stack([t * total_shift_px, t * total_shift_px * 0.5], dim=1)
    zoom = t * total_zoom
    rotate = torch.zeros(frames)
    return affine_matrices(shift, rotate, zoom, height, width)
