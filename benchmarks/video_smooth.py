"""Does the temporal pass help? Flicker where nothing moved, and what it costs where things did.

On vtest.mp4 (a fixed camera over a square with people walking): background flicker is the
mean absolute frame-to-frame change of the output (0-255) over the pixels whose input luma
changed by less than 2 levels; the input's own figure there is the floor (sensor noise).
Ghosting is the mean gap between the filtered and the plain output where the input clearly
moved (luma change of 10 or more): a pass that kept old output over moving people would show
here. On a synthetic pan (2 px a frame, known motion) the warping error says whether moving
content still tracks. The generator runs once per frame; the pass is applied to its outputs,
so both columns see exactly the same stylization.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.video_clips import PAN_PHOTO, VTEST, Stylize, make_generator
from inference.media.probe import probe_video
from inference.media.video import VideoLimits, VideoOptions
from inference.media.video_decode import FrameReader, plan_geometry
from inference.media.video_temporal import TemporalFilter

STILL = 2.0
MOVING = 10.0
PAN_STEP = 2
BATCH = 4


def _luma(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


@dataclass
class _Flicker:
    """Running means over consecutive frame pairs."""

    sums: dict[str, float] = field(default_factory=dict)
    pairs: int = 0

    def add(self, name: str, value: float) -> None:
        self.sums[name] = self.sums.get(name, 0.0) + value

    def mean(self, name: str) -> float:
        return self.sums.get(name, 0.0) / max(1, self.pairs)


def _vtest_frames(side: int, frames: int) -> Iterator[np.ndarray]:
    limits = VideoLimits(max_seconds=1e6, max_input_bytes=1 << 31)
    info = probe_video(VTEST, limits)
    geometry = plan_geometry(info, "video", VideoOptions(max_side=side))
    reader = FrameReader(info, geometry, max_fps=limits.max_fps, max_duration=limits.max_seconds)
    for i, frame in enumerate(reader):
        if i == frames:
            return
        yield frame.image


def _pan_frames(side: int, frames: int) -> Iterator[np.ndarray]:
    photo = Image.open(PAN_PHOTO).convert("RGB")
    height = side * photo.height // photo.width
    width = side
    big = np.asarray(
        photo.resize(
            (width + PAN_STEP * frames, (width + PAN_STEP * frames) * photo.height // photo.width),
            Image.Resampling.LANCZOS,
        )
    )
    rng = np.random.default_rng(5)
    top = (big.shape[0] - height) // 2
    for t in range(frames):
        window = big[top : top + height, PAN_STEP * t : PAN_STEP * t + width].astype(np.float32)
        yield (window + rng.normal(0, 1.5, window.shape)).clip(0, 255).astype(np.uint8)


def _batches(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == BATCH:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)


def _measure(
    stylize: Stylize, frames: Iterator[np.ndarray], threshold: float, *, pan: bool
) -> _Flicker:
    stats = _Flicker()
    temporal = TemporalFilter(threshold)
    previous: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    for batch in _batches(frames):
        plain = stylize(batch)
        smooth = temporal.apply(batch, plain)
        for x, y, z in zip(batch, plain, smooth, strict=True):
            xf, yf, zf = x.astype(np.float32), y.astype(np.float32), z.astype(np.float32)
            if previous is not None:
                px, py, pz = previous
                stats.pairs += 1
                if pan:
                    s = PAN_STEP
                    stats.add("warp_off", float(np.abs(yf[:, :-s] - py[:, s:]).mean()))
                    stats.add("warp_on", float(np.abs(zf[:, :-s] - pz[:, s:]).mean()))
                    stats.add("warp_in", float(np.abs(xf[:, :-s] - px[:, s:]).mean()))
                else:
                    change = np.abs(_luma(x) - _luma(px.astype(np.uint8)))
                    still, moving = change < STILL, change >= MOVING
                    stats.add("still_share", float(still.mean()))
                    stats.add("bg_in", float(np.abs(xf - px)[still].mean()))
                    stats.add("bg_off", float(np.abs(yf - py)[still].mean()))
                    stats.add("bg_on", float(np.abs(zf - pz)[still].mean()))
                    if moving.any():
                        stats.add("ghost", float(np.abs(zf - yf)[moving].mean()))
                    stats.add("dev", float(np.abs(zf - yf).mean()))
            previous = (xf, yf, zf)
    return stats


def smoothness_report(
    scratch: Path, *, frames: int = 200, side: int = 512, style: str | None = None
) -> str:
    stylize, generator = make_generator(scratch / "gen-smooth", style)
    threshold = VideoOptions().temporal_threshold
    real = _measure(stylize, _vtest_frames(side, frames), threshold, pan=False)
    pan = _measure(stylize, _pan_frames(side, min(frames, 60)), threshold, pan=True)
    return "\n".join(
        [
            f"### Temporal pass (vtest.mp4, first {frames} frames at {side} px; "
            f"synthetic pan {min(frames, 60)} frames; threshold {threshold})\n",
            f"Generator: {generator}.\n",
            "| measure | input | pass off | pass on |",
            "| --- | ---: | ---: | ---: |",
            f"| vtest background flicker ({real.mean('still_share'):.0%} of pixels still) | "
            f"{real.mean('bg_in'):.2f} | {real.mean('bg_off'):.2f} | {real.mean('bg_on'):.2f} |",
            f"| vtest ghosting: on vs off where people move | | | {real.mean('ghost'):.2f} |",
            f"| vtest mean change on vs off, all pixels | | | {real.mean('dev'):.2f} |",
            f"| pan warping error ({PAN_STEP} px/frame) | {pan.mean('warp_in'):.2f} | "
            f"{pan.mean('warp_off'):.2f} | {pan.mean('warp_on'):.2f} |",
        ]
    )
