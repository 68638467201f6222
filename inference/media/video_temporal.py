"""An optional cheap temporal pass: where the input did not change, keep the previous output.

A feed-forward generator sees each frame alone; its instance norms take statistics over the
whole frame, so a person walking through a still scene shifts the stylization of the still
background too, and sensor noise is amplified into shimmer. This pass compares each 8×8 block
of the input's luma with the input the block's shown output came from; blocks that did not
change keep their output, blocks that did take the new one, with a soft ramp in between and
bilinear mask edges so no block seams show. Comparing with the reference (not the previous
frame) means slow drifts, a fade or the sun going in, still refresh once they add up.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

BLOCK = 8
_LUMA = torch.tensor([0.299, 0.587, 0.114])


class TemporalFilter:
    """Stateful over one clip: feed it consecutive batches in order."""

    def __init__(self, threshold: float = 3.0) -> None:
        self.low = threshold
        self.high = threshold * 2
        self._ref_luma: torch.Tensor | None = None
        self._ref_out: torch.Tensor | None = None

    def apply(self, inputs: np.ndarray, outputs: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 inputs and their stylized outputs -> the outputs to show."""
        shown = np.empty_like(outputs)
        with torch.inference_mode():
            for i in range(len(inputs)):
                shown[i] = self._step(torch.from_numpy(inputs[i]), torch.from_numpy(outputs[i]))
        return shown

    def _step(self, image: torch.Tensor, styled: torch.Tensor) -> np.ndarray:
        luma = (image.float() @ _LUMA)[None, None]
        out = styled.float()
        if self._ref_luma is None or self._ref_out is None or self._ref_luma.shape != luma.shape:
            self._ref_luma, self._ref_out = luma, out
            return styled.numpy()
        change = F.avg_pool2d((luma - self._ref_luma).abs(), BLOCK, ceil_mode=True)
        take = ((change - self.low) / (self.high - self.low)).clamp(0, 1)
        take = F.interpolate(take, size=luma.shape[-2:], mode="bilinear", align_corners=False)
        self._ref_luma = torch.lerp(self._ref_luma, luma, take)
        self._ref_out = torch.lerp(self._ref_out, out, take[0, 0, :, :, None])
        return self._ref_out.round().clamp(0, 255).to(torch.uint8).numpy()
