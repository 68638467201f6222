"""An optional cheap temporal pass: where the input did not change, keep the previous output.

A feed-forward generator sees each frame alone; its instance norms take statistics over the
whole frame, so a person walking through a still scene shifts the stylization of the still
background too, and sensor noise is amplified into shimmer. This pass compares the mean luma
of each 4×4 block of the input with that of the input the block's shown output came from.
Blocks that did not change keep their output; blocks that did, and their neighbours (motion
bleeds past block edges), take the new one, with bilinear mask edges so no block seams show.
Comparing with the reference rather than the previous frame means slow drifts (a fade, the
sun going in) still refresh once they add up. Block means average sensor noise away (σ/8),
so the threshold can be low without noise refreshing everything. Blocks of 4 rather than 8
hold still pixels closer to a moving person, where a strong style's output changes most
(benchmarks/README.md, "Temporal pass").

When a large share of the blocks changes at once, the camera moved (or the scene cut): the
whole frame takes the new output. Without that, a pan left the blocks whose mean luma happened
to stay put showing stale strokes while the picture moved under them. On vtest.mp4 (a fixed
camera, people walking) 3–9 % of the blocks change from frame to frame; in a slow synthetic
pan (2 px a frame) 32–40 %.

Plain numpy and Pillow, single-threaded on purpose: it runs beside the generator, and torch's
intra-op threads fighting the generator's for two cores made it ten times slower.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

BLOCK = 4
_LUMA = np.array([0.299, 0.587, 0.114], np.float32) / (BLOCK * BLOCK)
_ALPHA_SHIFT = 7
"""Blend weights in 1/128: (new - old) * weight stays inside int16."""
REFRESH_SHARE = 0.2
"""Share of changed blocks from which the whole frame is refreshed (a moving camera)."""


class TemporalFilter:
    """Stateful over one clip: feed it consecutive batches in order."""

    def __init__(self, threshold: float = 2.0, refresh_share: float = REFRESH_SHARE) -> None:
        self.threshold = threshold
        self.refresh_share = refresh_share
        self._ref_blocks: np.ndarray | None = None
        self._ref_out: np.ndarray | None = None

    def apply(self, inputs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 inputs and their stylized outputs -> the outputs to show."""
        shown = np.empty_like(outputs)
        for i in range(len(inputs)):
            shown[i] = self._step(inputs[i], outputs[i])
        return shown

    def _step(self, image: np.ndarray, styled: np.ndarray) -> np.ndarray:
        blocks = _block_luma(image)
        ref_blocks, ref_out = self._ref_blocks, self._ref_out
        if ref_blocks is None or ref_out is None or ref_blocks.shape != blocks.shape:
            self._ref_blocks, self._ref_out = blocks, styled.copy()
            return styled
        moved = np.abs(blocks - ref_blocks) > self.threshold
        changed = _dilate(moved)
        ref_blocks[changed] = blocks[changed]
        if not changed.any():
            return ref_out
        if changed.all() or moved.mean() >= self.refresh_share:
            ref_blocks[...] = blocks
            ref_out[...] = styled
            return ref_out
        alpha = _upsample(changed, image.shape[1], image.shape[0])
        rows = np.flatnonzero(alpha.any(axis=1))
        cols = np.flatnonzero(alpha.any(axis=0))
        box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        old = ref_out[box].astype(np.int16)
        delta = styled[box].astype(np.int16) - old
        delta *= alpha[box][:, :, None]
        delta >>= _ALPHA_SHIFT
        ref_out[box] = (old + delta).astype(np.uint8)
        return ref_out


def _block_luma(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (ceil(H/4), ceil(W/4)) mean luma per block (edges repeated)."""
    height, width = image.shape[:2]
    rows, cols = -(-height // BLOCK), -(-width // BLOCK)
    if (rows * BLOCK, cols * BLOCK) != (height, width):
        pad = ((0, rows * BLOCK - height), (0, cols * BLOCK - width), (0, 0))
        image = np.pad(image, pad, mode="edge")
    # Two contiguous reductions (rows, then columns) run ten times faster than one over a
    # strided 5-D view; uint16 holds 16 × 255.
    strips = image.reshape(rows, BLOCK, cols * BLOCK * 3).sum(axis=1, dtype=np.uint16)
    sums = strips.reshape(rows, cols, BLOCK, 3).sum(axis=2, dtype=np.uint16)
    result: np.ndarray = sums.astype(np.float32) @ _LUMA
    return result


def _dilate(mask: np.ndarray) -> np.ndarray:
    """3×3 binary dilation."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    wide = grown.copy()
    wide[:, 1:] |= grown[:, :-1]
    wide[:, :-1] |= grown[:, 1:]
    return wide


def _upsample(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """Block mask -> per-pixel weights 0..128 with bilinear ramps at block edges."""
    small = Image.fromarray(mask.astype(np.uint8) << _ALPHA_SHIFT)
    big = small.resize((mask.shape[1] * BLOCK, mask.shape[0] * BLOCK), Image.Resampling.BILINEAR)
    return np.asarray(big, dtype=np.int16)[:height, :width]
