"""The catalog's styles in one shared network: trained, measured, installed only if stronger."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from PIL import Image

from artisto.errors import ArtistoError
from inference.registry import load_pack, update_metrics
from tests.fixtures_images import write_tiny_data
from training.catalog import CatalogEntry
from training.measure import Measurement
from training.recipe import Recipe
from training.tools.ship import installed_score
from training.tools.together import ship_together
from training.vgg_weights import ensure_vgg16

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "data" / "cache"
TINY = {
    "size": 32, "batch": 2, "iters": 2, "width": 4, "residual_blocks": 1, "work_side": 64,
    "sample_every": 2, "checkpoint_every": 2,
}  # fmt: skip


@pytest.fixture
def args(tmp_path: Path) -> argparse.Namespace:
    ensure_vgg16(CACHE)
    data = write_tiny_data(tmp_path / "data", ("waves.jpg", "stars.jpg"))
    recipe = tmp_path / "tiny.toml"
    recipe.write_text("".join(f"{k} = {v}\n" for k, v in TINY.items()), encoding="utf-8")
    return argparse.Namespace(
        run="shared", runs=tmp_path / "runs", cache=CACHE, data=data, recipe=recipe,
        iters=None, device="cpu", ablation=True, install=True,
    )  # fmt: skip


def _measurement(args: argparse.Namespace) -> Measurement:
    val = args.data / "photos" / "val"
    return Measurement(cache_dir=CACHE, data=args.data, photos=val, ceiling=False)


def test_a_shared_run_installs_each_painting_unless_the_installed_one_is_stronger(
    args: argparse.Namespace, tmp_path: Path
) -> None:
    entries = [
        CatalogEntry("waves", "waves.jpg", "🌊", {"style_prep": {"crop": [0.0, 0.0, 0.5, 1.0]}}),
        CatalogEntry("stars", "stars.jpg", "✨"),
    ]
    shipped = tmp_path / "shipped"

    packs = ship_together(entries, args, _measurement(args), shipped)

    assert [p.name for p in packs] == ["waves", "stars"]
    for pack in packs:
        metrics = load_pack(shipped / pack.name).meta.metrics
        assert {"style_score", "noise_flicker", "noise_flicker_unstabilized"} <= set(metrics)
    assert load_pack(shipped / "waves").meta.recipe["style_prep"]["crop"] == [0.0, 0.0, 0.5, 1.0]
    assert "crop" not in load_pack(shipped / "stars").meta.recipe["style_prep"]

    update_metrics(shipped / "stars", {"style_score": -5.0})  # an installed style far stronger
    args.run, args.ablation = "again", False
    again = ship_together(entries, args, _measurement(args), shipped)
    assert load_pack(shipped / "stars").meta.metrics["style_score"] == -5.0, "kept"

    # Packs prepared from their paintings differently compare on the new one's reference.
    installed, stars, waves = load_pack(shipped / "stars"), again[1], again[0]
    assert installed_score(installed, stars, _measurement(args)) == -5.0
    reference = Image.open(waves.style_image_path).convert("RGB")
    other = installed_score(installed, waves, _measurement(args))
    assert other == _measurement(args).score_against(installed, reference) != -5.0


def test_a_catalog_override_beyond_the_paintings_preparation_needs_its_own_network(
    args: argparse.Namespace, tmp_path: Path
) -> None:
    entries = [
        CatalogEntry("waves", "waves.jpg", "🌊", {"weights": {"style": 50.0}}),
        CatalogEntry("stars", "stars.jpg", "✨"),
    ]
    with pytest.raises(ArtistoError, match="waves: a shared network takes only style_prep"):
        ship_together(entries, args, _measurement(args), tmp_path / "shipped")
    assert Recipe.load(args.recipe).iters == 2
