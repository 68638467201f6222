"""The naive baseline of ``benchmarks.oneshot``: what a first script does with a style pack.

    python -m benchmarks.naive_stylize PACK_DIR IN.jpg OUT.jpg [MAX_SIDE]

A full decode, Lanczos down to MAX_SIDE, the pack's weights loaded into TransformerNet, one
eager fp32 forward pass (autograd on) at that size, save. No draft decoding, no work size.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from safetensors.torch import load_file

from inference.nets.transformer import TransformerNet


def stylize(pack: Path, source: Path, target: Path, max_side: int) -> None:
    spec = tomllib.loads((pack / "style.toml").read_text(encoding="utf-8"))["net"]
    net = TransformerNet(
        spec["width"],
        spec.get("residual_blocks", 5),
        skip=spec.get("skip", True),
        skip_blur=spec.get("skip_blur", 0.0),
    )
    net.load_state_dict({k: v.float() for k, v in load_file(pack / "weights.safetensors").items()})
    img = ImageOps.exif_transpose(Image.open(source)).convert("RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    img = img.crop((0, 0, img.width // 4 * 4, img.height // 4 * 4))  # the net's multiple
    x = torch.from_numpy(np.asarray(img)).permute(2, 0, 1)[None].float() / 255
    y = net.eval()(x)
    out = (y[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(out).save(target, quality=92)


if __name__ == "__main__":
    max_side = int(sys.argv[4]) if len(sys.argv) > 4 else 1024
    stylize(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), max_side)
