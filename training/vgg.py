"""VGG16 feature extractor for the perceptual losses, frozen, up to the deepest layer asked for."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# torchvision's vgg16().features, up to relu4_3: ints are conv output channels, "M" max-pools.
_CONFIG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512)
# Index of each named ReLU in that Sequential.
LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def weights_up_to(state: dict[str, torch.Tensor], layer: str) -> dict[str, torch.Tensor]:
    """The ``features.N.*`` tensors of the convolutions up to the named ReLU."""
    last = LAYERS[layer]
    return {k: v for k, v in state.items() if int(k.split(".")[1]) <= last}


class VGG16Features(nn.Module):
    """Maps RGB in [0, 1] to the named ReLU activations of ImageNet VGG16."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, state: dict[str, torch.Tensor], layers: Sequence[str]) -> None:
        super().__init__()
        unknown = set(layers) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown VGG16 layers {sorted(unknown)}; known: {sorted(LAYERS)}")
        self.layers = tuple(sorted(layers, key=LAYERS.__getitem__))
        last = LAYERS[self.layers[-1]]
        modules: list[nn.Module] = []
        channels = 3
        for item in _CONFIG:
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                assert isinstance(item, int)
                modules += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=False)]
                channels = item
        self.features = nn.Sequential(*modules[: last + 1])
        self.load_state_dict(weights_up_to(state, self.layers[-1]))
        self.requires_grad_(False)
        self.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self._taps = {LAYERS[name]: name for name in self.layers}

    def forward(self, x: torch.Tensor, until: str | None = None) -> dict[str, torch.Tensor]:
        """The activations of every tapped layer, or only up to ``until`` (cheaper)."""
        last = LAYERS[until] if until is not None else len(self.features) - 1
        h = (x - self.mean) / self.std
        out: dict[str, torch.Tensor] = {}
        for index, module in enumerate(self.features[: last + 1]):
            h = module(h)
            name = self._taps.get(index)
            if name is not None:
                out[name] = h
        return out
