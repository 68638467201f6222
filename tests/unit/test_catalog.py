"""The shipped-style catalog names real paintings and valid recipes."""

from __future__ import annotations

from training.recipe import Recipe
from training.ship import SHARED_DATA, _merge, _painting_info, read_catalog


def test_every_catalog_entry_has_its_painting_and_a_valid_recipe() -> None:
    entries = read_catalog()
    assert len(entries) >= 8
    assert len({e.name for e in entries}) == len(entries)
    for entry in entries:
        assert (SHARED_DATA / "styles" / entry.painting).is_file(), entry.painting
        recipe = Recipe.from_dict(_merge(Recipe().to_dict(), entry.recipe))
        assert recipe.stability_on
        info = _painting_info(SHARED_DATA, entry)
        assert info.artist, f"{entry.painting} has no artist in styles.csv"


def test_merge_reaches_into_sections_without_dropping_siblings() -> None:
    base = {"weights": {"style": 1.0, "content": 1.0}, "size": 128}
    merged = _merge(base, {"weights": {"style": 9.0}})
    assert merged == {"weights": {"style": 9.0, "content": 1.0}, "size": 128}
    assert base["weights"] == {"style": 1.0, "content": 1.0}
