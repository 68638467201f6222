"""Frames of any size through a generator that takes only some sizes, without torch.

The generator needs sides that are multiples of its stride product and at least 8 pixels:
frames are reflection-padded up to such a size and the result cropped back, never resized.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Frames: TypeAlias = npt.NDArray[np.uint8]
"""(N, H, W, 3) uint8 RGB."""

SIZE_MULTIPLE = 4
"""``TransformerNet.SIZE_MULTIPLE``: two stride-2 convolutions."""
MIN_SIDE = 8
"""Smallest side the generator accepts: its deepest 3x3 reflection pad needs 2 pixels at 1/4."""


def padded_side(side: int) -> int:
    """The side the generator runs at: the next multiple of its stride product, at least 8."""
    return max(MIN_SIDE, -(-side // SIZE_MULTIPLE) * SIZE_MULTIPLE)


def check_frames(frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray):
        raise TypeError(f"frames must be a numpy array, not {type(frames).__name__}")
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(
            f"frames must be uint8 of shape (N, H, W, 3), not {frames.dtype} {frames.shape}"
        )
    if min(frames.shape[:3]) < 1:
        raise ValueError(f"frames must not be empty: shape {frames.shape}")


def run_padded(run: Callable[[np.ndarray], np.ndarray], frames: np.ndarray) -> np.ndarray:
    """``run`` (uint8 (N, H, W, 3) of sizes the generator takes) on frames of any size."""
    _, height, width, _ = frames.shape
    ph, pw = padded_side(height), padded_side(width)
    if (ph, pw) != (height, width):
        frames = np.pad(frames, ((0, 0), (0, ph - height), (0, pw - width), (0, 0)), "reflect")
    out = run(np.ascontiguousarray(frames))
    return out if (ph, pw) == (height, width) else out[:, :height, :width]
