"""What a run leaves to look at: sample grids, loss heatmaps and loss curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image
from torch.nn import functional as F

from training.data import to_image
from training.losses import gram


def grid(rows: Sequence[Sequence[Image.Image]], gap: int = 4) -> Image.Image:
    """Images laid out row by row on white; each cell as large as the largest image."""
    cell_w = max(im.width for row in rows for im in row)
    cell_h = max(im.height for row in rows for im in row)
    n_cols = max(len(row) for row in rows)
    sheet = Image.new(
        "RGB", (n_cols * (cell_w + gap) + gap, len(rows) * (cell_h + gap) + gap), "white"
    )
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            x = gap + c * (cell_w + gap) + (cell_w - im.width) // 2
            y = gap + r * (cell_h + gap) + (cell_h - im.height) // 2
            sheet.paste(im, (x, y))
    return sheet


def content_heatmap(out_feat: torch.Tensor, in_feat: torch.Tensor) -> torch.Tensor:
    """(H, W) squared feature error per location, for one image (C, h, w) each."""
    return (out_feat - in_feat).pow(2).mean(dim=0)


def style_heatmap(out_feats: dict[str, torch.Tensor], style_grams: dict[str, torch.Tensor],
                  size: tuple[int, int]) -> torch.Tensor:  # fmt: skip
    """Where the Gram error comes from: |f_pᵀ (G_out − G_style) f_p| per location, summed
    over layers after normalising each layer to mean 1 and upsampling to ``size``."""
    total = torch.zeros(size)
    for name, target in style_grams.items():
        f = out_feats[name][0]
        c, h, w = f.shape
        diff = gram(f.unsqueeze(0))[0] - target[0]
        flat = f.reshape(c, h * w)
        score = (flat * (diff @ flat)).sum(dim=0).abs().reshape(1, 1, h, w)
        score = score / score.mean().clamp_min(1e-12)
        total += F.interpolate(score, size=size, mode="bilinear", align_corners=False)[0, 0].cpu()
    return total / len(style_grams)


def overlay(image: Image.Image, heat: torch.Tensor) -> Image.Image:
    """The heatmap in the inferno colormap, blended over a dimmed copy of the image."""
    values = heat.float().cpu().numpy()
    high = float(np.percentile(values, 99)) or 1.0
    coloured = colormaps["inferno"](np.clip(values / high, 0, 1))[..., :3]
    heat_img = Image.fromarray((coloured * 255).astype(np.uint8)).resize(image.size)
    return Image.blend(image.convert("RGB"), heat_img, 0.65)


def save_loss_curves(history: dict[str, list[float]], path: Path) -> None:
    names = [k for k in history if k != "iter" and any(history[k])]
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 1.8 * len(names)), sharex=True)
    axes_list = np.atleast_1d(axes)
    steps = history["iter"]
    for ax, name in zip(axes_list, names, strict=True):
        values = np.asarray(history[name])
        ax.plot(steps, values, lw=0.6, alpha=0.35, color="tab:blue")
        window = max(1, len(values) // 50)
        if window > 1:
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            ax.plot(steps[window - 1 :], smooth, lw=1.4, color="tab:blue")
        ax.set_ylabel(name)
        ax.set_yscale("log" if (values > 0).all() else "linear")
        ax.grid(alpha=0.3)
    axes_list[-1].set_xlabel("iteration")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def tensors_to_row(batch: torch.Tensor) -> list[Image.Image]:
    return [to_image(t) for t in batch]
