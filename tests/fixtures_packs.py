"""Tiny real style packs for tests: a randomly initialised (seeded) generator written with
``write_pack``, so every test that needs a style gets a genuine pack that loads, validates and
runs, in milliseconds on a CPU.

    from tests.fixtures_packs import make_tiny_pack
    pack = make_tiny_pack(tmp_path)               # tmp_path/tiny, width 4, one residual block
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inference.nets.transformer import TransformerNet
from inference.registry import NetSpec, StyleMeta, StylePack, write_pack


def tiny_generator(
    width: int = 4, residual_blocks: int = 1, seed: int = 0, *, skip_blur: float = 0.0
) -> TransformerNet:
    """The same weights for the same arguments, without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = TransformerNet(width, residual_blocks, skip=True, skip_blur=skip_blur)
        # Random affine norms, so the net visibly changes its input (defaults are identity).
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d) and module.affine:
                torch.nn.init.uniform_(module.weight, 0.5, 1.5)
                torch.nn.init.uniform_(module.bias, -0.2, 0.2)
    return net.eval()


def painting(size: int = 96, seed: int = 0) -> Image.Image:
    """A deterministic stand-in for a painting: colour bands and noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    rgb = np.stack([xs, ys, (xs + ys) / 2], axis=-1) * 200
    rgb += rng.normal(0, 20, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def make_tiny_pack(
    dest_dir: Path,
    name: str = "tiny",
    width: int = 4,
    *,
    residual_blocks: int = 1,
    seed: int = 0,
    title: str | None = None,
    artist: str = "Test Painter",
    work_side: int | None = None,
    metrics: dict[str, float] | None = None,
    skip_blur: float = 0.0,
) -> StylePack:
    """Write a valid pack to ``dest_dir / name`` and return it."""
    net = tiny_generator(width, residual_blocks, seed, skip_blur=skip_blur)
    meta = StyleMeta(
        name=name,
        title=title or name.replace("_", " ").title(),
        artist=artist,
        year="1900",
        net=NetSpec.of(net),
        work_side=work_side,
        recipe={"iters": 0, "note": "random init for tests"},
        metrics=dict(metrics or {}),
    )
    return write_pack(dest_dir / name, net, meta, painting(seed=seed))
