"""Training photos and the prepared painting."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from training.recipe import StylePrep

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The project's shared data folder (photos, paintings, clips) beside the checkout."""
TRAIN_PHOTO_SIDE = 384
"""Longest side the training photos are held at; random crops are taken from these."""

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


PREFERRED_VAL = (  # the validation photos shown first: faces, an animal, a building
    "gcompris_music-mexico.jpg",
    "gcompris_music-italy.jpg",
    "gcompris_erase-kitten.jpg",
    "gcompris_monuments-eiffel-tower.jpg",
)


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def pick_validation(val_dir: Path, count: int = 4) -> list[Path]:
    files = image_files(val_dir)
    by_name = {p.name: p for p in files}
    chosen = [by_name[n] for n in PREFERRED_VAL if n in by_name]
    chosen += [p for p in files if p not in chosen]
    return chosen[:count]


def crop_to_multiple_of_4(image: Image.Image) -> Image.Image:
    """Crop the right and bottom edges so the generator takes the image as it is."""
    return image.crop((0, 0, image.width // 4 * 4, image.height // 4 * 4))


def to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL RGB to a (3, H, W) float tensor in [0, 1]."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def to_image(tensor: torch.Tensor) -> Image.Image:
    """A (3, H, W) tensor in [0, 1] to PIL, clamped."""
    array = tensor.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)
    return Image.fromarray(array.cpu().numpy())


def load_photo(path: Path, max_side: int) -> Image.Image:
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


class PhotoCrops:
    """Random resized crops with flips, drawn from photos held in memory (small, decoded once).

    Without ``scale``, a crop is 45–100 % of the photo's shorter side, shrunk to ``size``: the
    photo's content is seen smaller than a generator working at ``keep_side`` sees it. With
    ``scale`` (low, high), a crop's side is ``size`` times a factor in that range, in pixels of
    the photo held at ``keep_side``: at about 1, content as large as at work.
    """

    def __init__(
        self,
        folder: Path,
        size: int,
        *,
        seed: int,
        keep_side: int = TRAIN_PHOTO_SIDE,
        scale: tuple[float, float] | None = None,
    ) -> None:
        files = image_files(folder)
        if not files:
            raise FileNotFoundError(f"no training photos in {folder}")
        self.size = size
        self.scale = scale
        self.photos = [load_photo(p, keep_side) for p in files]
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.photos)

    def crop(self, rng: random.Random | None = None) -> torch.Tensor:
        """A random crop; ``rng`` draws it instead of the run's own sequence."""
        rng = rng or self.rng
        (patch,) = self._crops([rng.choice(self.photos)], rng)
        return patch

    def pairs(
        self, painted: Sequence[Sequence[Image.Image]], ids: Sequence[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Crops of photos and the same crops of their painted versions: ``painted[s][i]`` is
        photo ``i`` as painting ``s`` paints it, at the photo's size; ``ids`` gives each
        sample's painting."""
        photos, targets = [], []
        for style in ids:
            index = self.rng.randrange(len(self.photos))
            photo, target = self._crops([self.photos[index], painted[style][index]], self.rng)
            photos.append(photo)
            targets.append(target)
        return torch.stack(photos), torch.stack(targets)

    def _crops(self, images: Sequence[Image.Image], rng: random.Random) -> list[torch.Tensor]:
        """The same random crop (and flip) of images of one size."""
        w, h = images[0].size
        short = min(w, h)
        if self.scale is None:
            side = int(short * rng.uniform(0.45, 1.0))
        else:
            side = min(short, round(self.size * rng.uniform(*self.scale)))
        side = max(side, min(short, self.size // 2))
        x = rng.randint(0, w - side)
        y = rng.randint(0, h - side)
        box = (x, y, x + side, y + side)
        flip = rng.random() < 0.5
        patches = []
        for image in images:
            patch = image.resize((self.size, self.size), Image.Resampling.BICUBIC, box)
            if flip:
                patch = patch.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            patches.append(to_tensor(patch))
        return patches

    def batch(self, n: int, rng: random.Random | None = None) -> torch.Tensor:
        return torch.stack([self.crop(rng) for _ in range(n)])

    def state(self) -> object:
        return self.rng.getstate()

    def set_state(self, state: object) -> None:
        self.rng.setstate(state)  # type: ignore[arg-type]


def prepare_style_image(path: Path, crop_size: int, prep: StylePrep) -> Image.Image:
    """The painting cropped, recoloured and scaled as the recipe says."""
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    if prep.crop is not None:
        x, y, w, h = prep.crop
        W, H = image.size
        image = image.crop((round(x * W), round(y * H), round((x + w) * W), round((y + h) * H)))
    if prep.colour == "gray":
        image = ImageOps.grayscale(image).convert("RGB")
    side = max(16, round(crop_size * prep.scale))
    scale = side / max(image.size)
    new_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(new_size, Image.Resampling.LANCZOS)
