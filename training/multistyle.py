"""Many styles in one generator: conditional instance norm (Dumoulin et al. 2017).

Every convolution is shared between the styles; each style owns only the scales and shifts
(γ, β) of the instance norms. The convolutions learn to paint once, from every painting's
batches, which matters on a CPU budget. Since the single-style generator already has affine
instance norms, a style exports to an ordinary ``TransformerNet`` with its own γ/β in place:
the pack format, the registry and the inference pool need not know.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from inference.nets import TransformerNet

EPS = 1e-5
"""``nn.InstanceNorm2d``'s default, so that an exported style computes exactly the same."""


class ConditionalInstanceNorm(nn.Module):
    """Instance norm whose affine scale and shift are picked per sample: one row per style."""

    def __init__(self, channels: int, styles: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(styles, channels))
        self.beta = nn.Parameter(torch.zeros(styles, channels))
        self.style_ids: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.style_ids is None:
            raise RuntimeError("call MultiStyleNet, which sets the samples' styles")
        normalised = F.instance_norm(x, eps=EPS)
        gamma = self.gamma[self.style_ids][:, :, None, None]
        beta = self.beta[self.style_ids][:, :, None, None]
        return normalised * gamma.to(x.dtype) + beta.to(x.dtype)


class MultiStyleNet(nn.Module):
    """A ``TransformerNet`` whose instance norms are conditional on a style index per sample."""

    def __init__(self, net: TransformerNet, styles: int) -> None:
        super().__init__()
        if styles < 1:
            raise ValueError("a multi-style generator needs at least one style")
        self.styles = styles
        self.net = net
        self.norm_paths: list[str] = []
        for path, module in list(net.named_modules()):
            if isinstance(module, nn.InstanceNorm2d):
                parent_path, _, attribute = path.rpartition(".")
                parent = net.get_submodule(parent_path)
                setattr(parent, attribute, ConditionalInstanceNorm(module.num_features, styles))
                self.norm_paths.append(path)

    def forward(self, x: torch.Tensor, style_ids: torch.Tensor) -> torch.Tensor:
        if style_ids.shape != (x.shape[0],):
            raise ValueError(f"one style index per sample: {tuple(style_ids.shape)} for {x.shape}")
        for path in self.norm_paths:
            norm = self.net.get_submodule(path)
            assert isinstance(norm, ConditionalInstanceNorm)
            norm.style_ids = style_ids
        out: torch.Tensor = self.net(x)
        return out

    def export(self, style: int, blank: TransformerNet) -> TransformerNet:
        """``blank`` (a generator of the same architecture) loaded with the shared convolutions
        and this style's γ/β in its instance norms."""
        if not 0 <= style < self.styles:
            raise IndexError(f"style {style} of {self.styles}")
        state = {k: v for k, v in self.net.state_dict().items() if not _is_table(k)}
        for path in self.norm_paths:
            state[f"{path}.weight"] = self.net.state_dict()[f"{path}.gamma"][style].clone()
            state[f"{path}.bias"] = self.net.state_dict()[f"{path}.beta"][style].clone()
        blank.load_state_dict(state)
        return blank.eval()


def _is_table(key: str) -> bool:
    return key.endswith((".gamma", ".beta"))
