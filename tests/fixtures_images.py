"""Random images written where a test's data folder needs a photo or a painting."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image


def write_noise_image(path: Path, size: tuple[int, int], seed: int) -> None:
    """A uniform-noise RGB image of ``size`` (width, height), the same for the same seed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    pixels = (torch.rand(size[1], size[0], 3, generator=gen) * 255).byte().numpy()
    Image.fromarray(pixels).save(path)


def write_tiny_data(root: Path, paintings: tuple[str, ...]) -> Path:
    """The shared data folder's layout in small: three training photos, two validation photos
    and the named paintings under ``styles/``."""
    for i in range(3):
        write_noise_image(root / "photos" / "train" / f"photo{i}.png", (96, 80), i)
    for i in range(2):
        write_noise_image(root / "photos" / "val" / f"val{i}.jpg", (64, 48), 10 + i)
    for i, name in enumerate(paintings):
        write_noise_image(root / "styles" / name, (120, 90), 20 + i)
    return root
