"""Stability metrics of a generator, in 0–255 units.

* noise flicker: mean |G(x + n₁) − G(x + n₂)| over photos, n Gaussian with σ = 2. An identity
  map scores 2.26; a generator that ignores its input scores 0, so read it beside the output.
* warping error: a pan-and-zoom clip made from a still photo, where the motion between frames
  is known exactly; mean |G(f₊₁) − warp(G(f))| over the pixels that stay in view.
* background flicker on a real clip: mean frame-to-frame change of the output where the input
  barely changed (static background), beside the same figure for the input, and for what a
  video's viewer is shown: the output after the product's temporal pass
  (``inference/media/video_temporal.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from inference.media.video_temporal import TemporalFilter
from inference.media.video_types import VideoOptions
from training.data import crop_to_multiple_of_4, load_photo, to_tensor
from training.motion import pan_zoom_thetas, warp

Generator = Callable[[torch.Tensor], torch.Tensor]
"""(N, 3, H, W) in [0, 1] to the same shape, clamped to [0, 1]."""

NOISE_SIGMA = 2.0
STATIC_THRESHOLD = 2.0


@torch.no_grad()
def noise_flicker(generate: Generator, images: Sequence[torch.Tensor], *, seed: int = 0,
                  sigma: float = NOISE_SIGMA) -> float:  # fmt: skip
    """Mean |G(x + n₁) − G(x + n₂)|·255 over the images, n ~ N(0, σ/255)."""
    rng = torch.Generator().manual_seed(seed)
    total, count = 0.0, 0
    for x in images:
        x = x.unsqueeze(0)
        n1 = torch.randn(x.shape, generator=rng) * sigma / 255.0
        n2 = torch.randn(x.shape, generator=rng) * sigma / 255.0
        pair = generate(torch.cat([x + n1, x + n2]))
        total += float((pair[0] - pair[1]).abs().mean()) * 255.0
        count += 1
    return total / count


def _relative(theta_from: torch.Tensor, theta_to: torch.Tensor) -> torch.Tensor:
    """θ with frame_to(p) = frame_from(θ·p), for frames made by sampling one still with each."""

    def homogeneous(t: torch.Tensor) -> torch.Tensor:
        return torch.cat([t, torch.tensor([[0.0, 0.0, 1.0]])])

    relative: torch.Tensor = torch.linalg.inv(homogeneous(theta_from)) @ homogeneous(theta_to)
    return relative[:2]


@torch.no_grad()
def warping_error(
    generate: Generator, still: torch.Tensor, *, frames: int = 12
) -> tuple[float, float]:
    """(output, input) mean warping error over a synthetic pan-and-zoom clip of ``still``."""
    _, h, w = still.shape
    thetas = pan_zoom_thetas(frames, h, w)
    clip, _ = warp(still.unsqueeze(0).expand(frames, -1, -1, -1), thetas)
    outputs = torch.cat([generate(clip[i : i + 1]) for i in range(frames)])
    out_err = in_err = 0.0
    for t in range(frames - 1):
        rel = _relative(thetas[t], thetas[t + 1]).unsqueeze(0)
        pair = torch.stack([outputs[t], clip[t]])
        moved, inside = warp(pair, rel.expand(2, -1, -1))
        mask = inside[0]
        denom = float(mask.sum()) * 3
        out_err += float(((moved[0] - outputs[t + 1]).abs() * mask).sum()) / denom
        in_err += float(((moved[1] - clip[t + 1]).abs() * mask).sum()) / denom
    n = frames - 1
    return out_err / n * 255.0, in_err / n * 255.0


def read_clip(path: Path, *, max_side: int, max_frames: int) -> list[torch.Tensor]:
    """The first frames of a video, scaled so the longest side is ``max_side`` (multiple of 4)."""
    frames: list[torch.Tensor] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            frames.append(to_tensor(crop_to_multiple_of_4(image)))
            if len(frames) >= max_frames:
                break
    return frames


@torch.no_grad()
def clip_outputs(generate: Generator, frames: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """The generator's output for each frame of a clip, one frame at a time, in order."""
    return [generate(f.unsqueeze(0))[0] for f in frames]


def static_change(frames: Sequence[torch.Tensor], outputs: Sequence[torch.Tensor],
                  threshold: float = STATIC_THRESHOLD) -> tuple[float, float]:  # fmt: skip
    """(output, input) mean frame-to-frame change where the input changed < threshold/255."""
    out_sum = in_sum = 0.0
    pixels = 0.0
    for t in range(len(frames) - 1):
        in_change = (frames[t + 1] - frames[t]).abs().mean(dim=0) * 255.0
        static = (in_change < threshold).float()
        out_change = (outputs[t + 1] - outputs[t]).abs().mean(dim=0) * 255.0
        out_sum += float((out_change * static).sum())
        in_sum += float((in_change * static).sum())
        pixels += float(static.sum())
    pixels = max(pixels, 1.0)
    return out_sum / pixels, in_sum / pixels


def as_shown(frames: Sequence[torch.Tensor], outputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """The outputs as a video's viewer sees them: in 8 bits, through the temporal pass."""

    def to_bytes(images: Sequence[torch.Tensor]) -> np.ndarray:
        stacked = torch.stack(list(images)).permute(0, 2, 3, 1) * 255.0
        return stacked.round().clamp(0, 255).to(torch.uint8).numpy()

    temporal = TemporalFilter(VideoOptions().temporal_threshold)
    shown = temporal.apply(to_bytes(frames), to_bytes(outputs))
    return list(torch.from_numpy(shown).permute(0, 3, 1, 2).float() / 255.0)


@dataclass(frozen=True)
class StabilityReport:
    noise_flicker: float
    warp_error: float
    warp_error_input: float
    clip_flicker: float | None = None
    clip_flicker_input: float | None = None
    clip_flicker_shown: float | None = None
    """The clip flicker after the product's temporal pass: what a video's viewer sees."""

    def as_metrics(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in vars(self).items() if v is not None}


def evaluate(generate: Generator, photos: Sequence[Path], *, size: int = 384,
             clip: Path | None = None, clip_frames: int = 40) -> StabilityReport:  # fmt: skip
    images = [to_tensor(crop_to_multiple_of_4(load_photo(p, size))) for p in photos]
    flicker = noise_flicker(generate, images)
    warp_out, warp_in = warping_error(generate, images[0])
    clip_out = clip_in = clip_shown = None
    if clip is not None:
        frames = read_clip(clip, max_side=size, max_frames=clip_frames)
        outputs = clip_outputs(generate, frames)
        clip_out, clip_in = static_change(frames, outputs)
        clip_shown, _ = static_change(frames, as_shown(frames, outputs))
    return StabilityReport(flicker, warp_out, warp_in, clip_out, clip_in, clip_shown)


def torch_generator(net: torch.nn.Module) -> Generator:
    net = net.eval()

    @torch.no_grad()
    def generate(x: torch.Tensor) -> torch.Tensor:
        return net(x).clamp(0, 1)  # type: ignore[no-any-return]

    return generate


def identity_generator(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(0, 1)
