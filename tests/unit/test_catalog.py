"""The shipped-style catalog names real paintings and valid recipes; unfinished runs park."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from artisto.errors import ArtistoError
from inference.registry import SHIPPED_STYLES_DIR, StyleRegistry, load_pack
from tests.fixtures_packs import make_tiny_pack
from training.catalog import (
    ABLATION_SUFFIX,
    CatalogEntry,
    _merge,
    painting_info,
    read_catalog,
    select,
)
from training.data import SHARED_DATA
from training.recipe import Recipe
from training.tools.ship import (
    PARKED_DIR,
    needs_training,
    park,
    trained_recipe,
    unfinished_runs,
    unpark,
)

RECIPE_FILES = Path(__file__).resolve().parents[2] / "training" / "tools"
"""Where the recipe files ``ship --recipe`` takes live."""


def test_every_catalog_entry_has_its_painting_and_a_valid_recipe() -> None:
    entries = read_catalog()
    assert len(entries) >= 8
    assert len({e.name for e in entries}) == len(entries)
    for entry in entries:
        assert (SHARED_DATA / "styles" / entry.painting).is_file(), entry.painting
        recipe = entry.recipe_over(Recipe())
        assert recipe.stability_on
        info = entry.info(SHARED_DATA)
        assert info.artist, f"{entry.painting} has no artist in styles.csv"


def test_painting_info_keeps_the_year_and_drops_its_note(tmp_path: Path) -> None:
    (tmp_path / "styles.csv").write_text(
        "file,title,artist,year\n"
        'shrine.jpg,Shrine in Snow,Somebody,"1760-70 (as labelled; lived 1797-1858)"\n'
        "wave.jpg,Wave,Somebody Else,\n",
        encoding="utf-8",
    )
    shrine = painting_info(tmp_path, "shrine.jpg")
    assert shrine is not None and (shrine.title, shrine.year) == ("Shrine in Snow", "1760-70")
    wave = painting_info(tmp_path, "wave.jpg")
    assert wave is not None and (wave.artist, wave.year) == ("Somebody Else", "")
    assert painting_info(tmp_path, "elsewhere.jpg") is None
    assert painting_info(tmp_path / "no-table", "wave.jpg") is None
    named = CatalogEntry("other_style", "elsewhere.jpg", "🌊").info(tmp_path)
    assert (named.title, named.emoji) == ("Other Style", "🌊")


def test_a_catalog_year_replaces_the_tables_and_an_empty_one_shows_none(tmp_path: Path) -> None:
    (tmp_path / "styles.csv").write_text(
        'file,title,artist,year\nshrine.jpg,Shrine in Snow,Somebody,"1760-70 (as labelled)"\n',
        encoding="utf-8",
    )
    undated = CatalogEntry("shrine", "shrine.jpg", "❄️", year="").info(tmp_path)
    assert (undated.title, undated.artist, undated.year) == ("Shrine in Snow", "Somebody", "")
    assert CatalogEntry("shrine", "shrine.jpg", "❄️", year="1850").info(tmp_path).year == "1850"
    assert CatalogEntry("shrine", "shrine.jpg", "❄️").info(tmp_path).year == "1760-70"


def test_every_shipped_style_records_the_recipe_of_its_net() -> None:
    registry = StyleRegistry.discover()
    assert registry.names()
    for name in registry.names():
        pack = registry.get(name)
        recipe, net = trained_recipe(pack), pack.meta.net
        assert recipe.stability_on, name
        trained_net = (recipe.width, recipe.residual_blocks, recipe.skip, recipe.skip_blur)
        assert trained_net == (net.width, net.residual_blocks, net.skip, net.skip_blur), name


def test_every_parked_run_resumes_with_its_catalog_recipe() -> None:
    """A parked checkpoint of another recipe would be refused when its run resumes: a twin of
    an installed style resumes with the recipe that style shipped with, any other run with its
    catalog entry over the default recipe or one of the recipe files ``ship --recipe`` takes."""
    entries = {e.name: e for e in read_catalog()}
    bases = [Recipe(), *(Recipe.load(f) for f in sorted(RECIPE_FILES.glob("*.toml")))]
    for path in sorted(PARKED_DIR.glob("*.pt")):
        name, twin, _ = path.stem.partition(ABLATION_SUFFIX)
        assert name in entries, f"{path.name} is no catalog style's run"
        recorded = torch.load(path, map_location="cpu", weights_only=True)["recipe"]
        installed = SHIPPED_STYLES_DIR / name
        if twin and installed.is_dir():
            candidates = [trained_recipe(load_pack(installed))]
        else:
            candidates = [entries[name].recipe_over(base) for base in bases]
        if twin:
            candidates = [c.with_overrides(stability_on=False) for c in candidates]
        assert any(c.changes_from(recorded) == [] for c in candidates), path.name


CATALOG_TEXT = """\
[[style]]
name = "wave"
painting = "wave.jpg"
emoji = "🌊"

[[style]]
name = "shrine"
painting = "shrine.jpg"
emoji = "❄️"
year = ""
recipe = { style_prep = { crop = [0.0, 0.1, 0.9, 0.8] } }
"""


def _catalog_refusal(tmp_path: Path, text: str) -> str:
    file = tmp_path / "catalog.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ArtistoError) as info:
        read_catalog(file)
    message = str(info.value)
    assert message.startswith(f"{file}: ")
    assert "\n" not in message
    return message.removeprefix(f"{file}: ")


def test_a_catalog_reads_back_with_its_recipe_overrides(tmp_path: Path) -> None:
    (tmp_path / "catalog.toml").write_text(CATALOG_TEXT, encoding="utf-8")
    wave, shrine = read_catalog(tmp_path / "catalog.toml")
    assert wave == CatalogEntry("wave", "wave.jpg", "🌊")
    assert shrine.year == "" and shrine.recipe["style_prep"]["crop"] == [0.0, 0.1, 0.9, 0.8]


def test_a_catalog_value_of_the_wrong_type_names_the_entry_and_key(tmp_path: Path) -> None:
    text = CATALOG_TEXT.replace('year = ""', "year = 1850")
    assert _catalog_refusal(tmp_path, text) == "style[2].year must be text"


def test_an_unknown_catalog_key_is_refused(tmp_path: Path) -> None:
    text = CATALOG_TEXT.replace('painting = "wave.jpg"', 'paintng = "wave.jpg"')
    assert _catalog_refusal(tmp_path, text) == "unknown key style[1].paintng"


def test_an_out_of_range_catalog_value_is_refused(tmp_path: Path) -> None:
    text = CATALOG_TEXT.replace('name = "shrine"', 'name = "Shrine in Snow"')
    assert _catalog_refusal(tmp_path, text) == (
        "style[2].name must be 1-32 lowercase letters, digits or underscores, not 'Shrine in Snow'"
    )
    assert _catalog_refusal(tmp_path, CATALOG_TEXT.replace('"🌊"', '""')) == (
        "style[1].emoji must not be empty"
    )


def test_a_missing_catalog_field_is_named(tmp_path: Path) -> None:
    text = CATALOG_TEXT.replace('emoji = "❄️"\n', "")
    assert _catalog_refusal(tmp_path, text) == "missing key style[2].emoji"


def test_select_keeps_catalog_order_and_names_unknown_styles() -> None:
    entries = [CatalogEntry(name, f"{name}.jpg", "🎨") for name in ("a", "b", "c")]

    assert [e.name for e in select(entries, "c,a")] == ["a", "c"]
    assert select(entries, None) == entries
    with pytest.raises(ArtistoError, match="not in the catalog: x, y"):
        select(entries, "a,y,x")


def test_merge_reaches_into_sections_without_dropping_siblings() -> None:
    base = {"weights": {"style": 1.0, "content": 1.0}, "size": 128}
    merged = _merge(base, {"weights": {"style": 9.0}})
    assert merged == {"weights": {"style": 9.0, "content": 1.0}, "size": 128}
    assert base["weights"] == {"style": 1.0, "content": 1.0}


def test_parked_checkpoints_go_out_and_come_back(tmp_path: Path) -> None:
    runs, parked = tmp_path / "runs", tmp_path / "parked"
    for run in ("wave", "wave_nostab", "other"):
        (runs / run).mkdir(parents=True)
        (runs / run / "checkpoint.pt").write_bytes(run.encode())

    copied = park(runs, ["wave", "wave_nostab", "absent"], parked)

    assert sorted(p.name for p in copied) == ["wave.pt", "wave_nostab.pt"]
    fresh = tmp_path / "next-session" / "wave"
    assert unpark(fresh, parked)
    assert (fresh / "checkpoint.pt").read_bytes() == b"wave"
    assert not unpark(fresh, parked), "a run's own checkpoint wins over the parked one"
    assert not unpark(tmp_path / "next-session" / "never-parked", parked)


def test_unfinished_runs_are_uninstalled_styles_and_missing_ablations(tmp_path: Path) -> None:
    entries = [CatalogEntry(name, f"{name}.jpg", "🎨") for name in ("new", "half", "done")]
    make_tiny_pack(tmp_path, "half")
    make_tiny_pack(tmp_path, "done", metrics={"noise_flicker_unstabilized": 9.0})

    assert unfinished_runs(entries, tmp_path) == ["new", "new_nostab", "half_nostab"]


def test_an_installed_style_whose_run_is_gone_is_not_trained_again(tmp_path: Path) -> None:
    runs, shipped, parked = tmp_path / "runs", tmp_path / "shipped", tmp_path / "parked"
    make_tiny_pack(shipped, "done")

    assert not needs_training("done", runs, shipped, parked)
    assert needs_training("new", runs, shipped, parked)

    parked.mkdir()
    (parked / "done.pt").write_bytes(b"resume me")
    assert needs_training("done", runs, shipped, parked), "a parked run is finished first"
    (parked / "done.pt").unlink()
    (runs / "done").mkdir(parents=True)
    (runs / "done" / "checkpoint.pt").write_bytes(b"resume me")
    assert needs_training("done", runs, shipped, parked), "so is a run in progress"
