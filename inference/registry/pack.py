"""A style pack folder, read and checked before anything trusts it.

A pack is ``weights.safetensors`` (fp16), ``style.toml``, ``style.jpg`` (the painting, small)
and ``preview.jpg``. Reading one needs no torch; only building its generator does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from artisto.errors import StylePackError
from inference.registry.meta import StyleMeta, read_meta
from inference.registry.weights import Weights, read_weights

if TYPE_CHECKING:
    from inference.nets.transformer import TransformerNet

WEIGHTS_FILE = "weights.safetensors"
META_FILE = "style.toml"
STYLE_IMAGE_FILE = "style.jpg"
PREVIEW_FILE = "preview.jpg"
PACK_FILES = (WEIGHTS_FILE, META_FILE, STYLE_IMAGE_FILE, PREVIEW_FILE)

STYLE_IMAGE_MAX_SIDE = 512
PREVIEW_MAX_SIDE = 768


@dataclass(frozen=True)
class StylePack:
    """A pack folder whose files are present and whose style.toml is valid."""

    path: Path
    meta: StyleMeta
    size_bytes: int

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS_FILE

    @property
    def meta_path(self) -> Path:
        return self.path / META_FILE

    @property
    def style_image_path(self) -> Path:
        return self.path / STYLE_IMAGE_FILE

    @property
    def preview_path(self) -> Path:
        return self.path / PREVIEW_FILE

    def weights(self) -> Weights:
        """The weights as fp32 arrays, after checking names, shapes and values."""
        return read_weights(self.weights_path, self.meta.net)

    def build_generator(self) -> TransformerNet:
        """A fresh fp32 generator in eval mode with this pack's weights."""
        import torch

        net = self.meta.net.build()
        state = {key: torch.from_numpy(array) for key, array in self.weights().items()}
        net.load_state_dict(state, strict=True)
        net.eval().requires_grad_(False)
        return net


def load_pack(path: Path, *, verify: bool = True) -> StylePack:
    """Read a pack folder; a malformed one raises StylePackError naming the file.

    Every file must be present and style.toml valid. ``verify`` also reads the weights and
    the images' headers; without it nothing but style.toml is read, for a command that looks
    at every pack and then uses one (it verifies that one).
    """
    if not path.is_dir():
        raise StylePackError(f"{path}: not a style pack folder")
    for name in PACK_FILES:
        file = path / name
        if not file.is_file():
            raise StylePackError(f"{file}: missing")
        if file.stat().st_size == 0:
            raise StylePackError(f"{file}: empty file")
    meta = read_meta(path / META_FILE)
    if verify:
        read_weights(path / WEIGHTS_FILE, meta.net)
        _check_jpeg(path / STYLE_IMAGE_FILE, max_side=STYLE_IMAGE_MAX_SIDE)
        _check_jpeg(path / PREVIEW_FILE, max_side=None)
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return StylePack(path=path, meta=meta, size_bytes=size)


def _check_jpeg(file: Path, *, max_side: int | None) -> None:
    """Reads the header only: cheap enough to run for every pack at start-up."""
    try:
        with Image.open(file, formats=["JPEG"]) as img:
            size = img.size
    except (UnidentifiedImageError, OSError) as exc:
        raise StylePackError(f"{file}: not a JPEG image ({exc})") from None
    if max_side is not None and max(size) > max_side:
        raise StylePackError(
            f"{file}: {size[0]}x{size[1]} is larger than {max_side} px on its longest side"
        )
