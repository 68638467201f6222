"""The feed-forward style generator of Johnson et al. (2016), with a width parameter.

conv 9×9 → two stride-2 convs → residual blocks → two (upsample, conv) → conv 9×9, with
instance norm and reflection padding throughout. Upsampling then convolving, rather than a
transposed convolution, avoids checkerboard artefacts.

With ``skip=True`` the network predicts a change to its input (``x + G(x)``): short training
runs then keep the photo's content from the first iterations instead of losing it. A plain skip
also passes the photo's sensor noise straight to the output, where no training can remove it;
``skip_blur`` (a Gaussian's σ in pixels) low-passes the skip path, so the photo's shapes and
colours come through and its grain does not: ``blur(x) + G(x)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """A normalised 1-D Gaussian of radius ⌈3σ⌉."""
    radius = math.ceil(3 * sigma)
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    return kernel / kernel.sum()


class ConvLayer(nn.Sequential):
    """Reflection pad, convolution, and optionally instance norm and ReLU."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int = 1, *, norm: bool = True
    ) -> None:
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(kernel // 2),
            nn.Conv2d(c_in, c_out, kernel, stride),
        ]
        if norm:
            layers += [nn.InstanceNorm2d(c_out, affine=True), nn.ReLU(inplace=True)]
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.conv2 = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual: torch.Tensor = self.conv2(self.conv1(x))
        return x + residual


class UpsampleConv(nn.Module):
    """Nearest-neighbour ×2 upsampling, then a conv layer."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = ConvLayer(c_in, c_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return out


class TransformerNet(nn.Module):
    """Image-to-image generator: RGB in [0, 1] of shape (N, 3, H, W) to RGB of the same shape.

    H and W must be multiples of ``TransformerNet.SIZE_MULTIPLE``; the output is not clamped.
    """

    SIZE_MULTIPLE = 4
    blur_rows: torch.Tensor
    blur_columns: torch.Tensor

    def __init__(
        self, width: int = 16, n_residual: int = 5, *, skip: bool = True, skip_blur: float = 0.0
    ) -> None:
        super().__init__()
        if skip_blur < 0 or (skip_blur and not skip):
            raise ValueError("skip_blur must be 0, or positive with skip=True")
        self.width = width
        self.skip = skip
        self.skip_blur = skip_blur
        if skip_blur:
            kernel = gaussian_kernel(skip_blur).repeat(3, 1, 1, 1)  # (3, 1, 1, K): depthwise
            # Not in the state dict: the kernel follows from skip_blur.
            self.register_buffer("blur_rows", kernel, persistent=False)
            self.register_buffer("blur_columns", kernel.transpose(2, 3), persistent=False)
        c1, c2, c3 = width, width * 2, width * 4
        self.encoder = nn.Sequential(
            ConvLayer(3, c1, 9),
            ConvLayer(c1, c2, 3, stride=2),
            ConvLayer(c2, c3, 3, stride=2),
        )
        self.residuals = nn.Sequential(*(ResidualBlock(c3) for _ in range(n_residual)))
        self.decoder = nn.Sequential(
            UpsampleConv(c3, c2),
            UpsampleConv(c2, c1),
            ConvLayer(c1, 3, 9, norm=False),
        )

    @property
    def output_conv(self) -> nn.Conv2d:
        """The last convolution, which maps features to RGB."""
        last = self.decoder[-1]
        assert isinstance(last, ConvLayer)
        conv = last[-1]
        assert isinstance(conv, nn.Conv2d)
        return conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.decoder(self.residuals(self.encoder(x - 0.5)))
        if not self.skip:
            return y + 0.5
        return (self.low_pass(x) if self.skip_blur else x) + y

    def low_pass(self, x: torch.Tensor) -> torch.Tensor:
        """The skip path's Gaussian blur, separable, with reflected borders."""
        radius = self.blur_rows.shape[-1] // 2
        x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
        x = F.conv2d(x, self.blur_rows, groups=3)
        return F.conv2d(x, self.blur_columns, groups=3)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
