"""The style-strength measure, its colour floor and the face check, on inputs with known answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training.faces import count_faces, face_check
from training.style_strength import (
    RATIO_FLOOR,
    STYLE_LAYERS,
    GatysSettings,
    StyleMeter,
    colour_transfer,
    gatys,
)
from training.vgg import VGG16Features
from training.vgg_weights import ensure_vgg16, load_vgg16_state

REPO = Path(__file__).resolve().parents[2]
PORTRAIT = REPO.parent / "shared" / "data" / "content" / "brad_pitt.jpg"


@pytest.fixture(scope="module")
def vgg() -> VGG16Features:
    cache = REPO / "data" / "cache"
    ensure_vgg16(cache)
    return VGG16Features(load_vgg16_state(cache), STYLE_LAYERS)


def _photo(seed: int, size: tuple[int, int] = (96, 64)) -> Image.Image:
    """Smooth colour gradients with a few shapes: photo-like statistics, nothing painted."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : size[1], 0 : size[0]] / max(size)
    channels = [np.sin(x * rng.uniform(2, 6) + y * rng.uniform(1, 4) + p) for p in range(3)]
    image = Image.fromarray(((np.stack(channels, -1) * 0.4 + 0.5) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 40, 40), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image


def _painting() -> Image.Image:
    """Thick diagonal strokes in two colours: a texture no photo above has."""
    image = Image.new("RGB", (96, 96), (30, 50, 140))
    draw = ImageDraw.Draw(image)
    for offset in range(-96, 96, 12):
        draw.line((offset, 0, offset + 96, 96), fill=(240, 200, 40), width=4)
    return image


def test_the_identity_scores_zero(vgg: VGG16Features) -> None:
    meter = StyleMeter(vgg, _painting())
    photos = [_photo(seed) for seed in range(3)]
    assert meter.score((p, p) for p in photos) == pytest.approx(0.0, abs=1e-9)


def test_an_output_equal_to_the_painting_scores_the_documented_clamp(vgg: VGG16Features) -> None:
    painting = _painting()
    meter = StyleMeter(vgg, painting)
    assert meter.score([(_photo(0), painting)]) == pytest.approx(math.log10(RATIO_FLOOR))


def test_the_score_does_not_depend_on_the_order_of_photos(vgg: VGG16Features) -> None:
    painting = _painting()
    meter = StyleMeter(vgg, painting)
    pairs = [(_photo(s), colour_transfer(_photo(s), painting)) for s in range(4)]
    assert meter.score(pairs) == meter.score(reversed(pairs))
    assert meter.score(pairs) < 0, "a colour transfer moves toward the painting"


def test_the_colour_floor_matches_the_paintings_means_and_spreads() -> None:
    # A painting of moderate spread, so that no transferred pixel is clipped to [0, 255].
    pattern = np.asarray(_photo(7), dtype=np.float64) / 255 - 0.5
    painting = Image.fromarray((pattern * [60, 40, 80] + [120, 100, 140]).astype(np.uint8))
    photo = _photo(1)
    moved = np.asarray(colour_transfer(photo, painting), dtype=np.float64)
    target = np.asarray(painting, dtype=np.float64)
    assert moved.mean(axis=(0, 1)) == pytest.approx(target.mean(axis=(0, 1)), abs=1.0)
    assert moved.std(axis=(0, 1)) == pytest.approx(target.std(axis=(0, 1)), rel=0.03)


@pytest.mark.slow
def test_gatys_optimisation_gets_closer_to_the_painting_than_the_colour_floor(
    vgg: VGG16Features,
) -> None:
    photo, painting = _photo(2), _painting()
    meter = StyleMeter(vgg, painting)
    optimised = gatys(vgg, photo, painting, GatysSettings(side=64, steps=40, lr=0.02))
    floor = meter.score([(photo, colour_transfer(photo, painting))])
    assert meter.score([(photo, optimised)]) < floor


def test_the_face_check_finds_a_portraits_face_and_none_in_a_blank_image() -> None:
    if not PORTRAIT.is_file():
        pytest.skip(f"the shared data's portrait is absent ({PORTRAIT})")
    portrait = Image.open(PORTRAIT).convert("RGB")
    assert count_faces(portrait) >= 1
    blank = Image.new("RGB", portrait.size, (128, 128, 128))
    assert count_faces(blank) == 0
    check = face_check([(portrait, portrait), (portrait, blank)])
    assert check.kept == pytest.approx(0.5)
    assert face_check([(blank, blank)]).kept is None
