"""What a run shows while it trains: every style on fixed validation photos, and where each
one's style and content errors come from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from PIL import Image
from torch.nn import functional as F

from training.data import to_tensor
from training.report import content_heatmap, grid, overlay, style_heatmap, tensors_to_row
from training.vgg import VGG16Features

Stylize = Callable[[Image.Image, int], torch.Tensor]
"""(photo, style index) to the generator's (3, H, W) output in [0, 1]."""


@torch.no_grad()
def write_samples(
    run_dir: Path,
    iteration: int,
    photos: Sequence[Image.Image],
    stylize: Stylize,
    vgg: VGG16Features,
    style_grams: dict[str, torch.Tensor],
    content_layer: str,
) -> None:
    """``samples/iter_N.jpg``: the photos, then one row per style; ``heatmaps/iter_N.jpg``:
    per style, a row of style-error and a row of content-error heatmaps over its outputs."""
    styles = len(next(iter(style_grams.values())))
    rows: list[list[Image.Image]] = [list(photos)]
    heat_rows: list[list[Image.Image]] = []
    for style in range(styles):
        outputs = [stylize(photo, style) for photo in photos]
        images = [tensors_to_row(o.unsqueeze(0))[0] for o in outputs]
        rows.append(images)
        grams = {name: g[style : style + 1] for name, g in style_grams.items()}
        style_row, content_row = [], []
        for photo, output, image in zip(photos, outputs, images, strict=True):
            size = (photo.height, photo.width)
            out_feats = vgg(output.unsqueeze(0).to(_device(vgg)))
            in_feats = vgg(to_tensor(photo).unsqueeze(0).to(_device(vgg)), until=content_layer)
            c_map = content_heatmap(out_feats[content_layer][0], in_feats[content_layer][0])
            c_map = F.interpolate(c_map[None, None], size=size, mode="bilinear")[0, 0]
            style_row.append(overlay(image, style_heatmap(out_feats, grams, size)))
            content_row.append(overlay(image, c_map.cpu()))
        heat_rows += [style_row, content_row]
    for folder, sheet in (("samples", rows), ("heatmaps", heat_rows)):
        (run_dir / folder).mkdir(parents=True, exist_ok=True)
        grid(sheet).save(run_dir / folder / f"iter_{iteration:06d}.jpg", quality=90)


def _device(module: torch.nn.Module) -> torch.device:
    return next(module.buffers()).device
