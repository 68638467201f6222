"""The styles artisto ships, as ``training/catalog.toml`` lists them: painting, emoji, recipe.

The file is validated by the models below: a mistake is refused in one line naming the file,
the key and what it expects. An entry's ``recipe`` stays a free-form table of overrides here;
the merged recipe is checked by ``Recipe`` itself.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, StrictStr, TypeAdapter
from pydantic.dataclasses import dataclass

from artisto.errors import ArtistoError
from artisto.tomlfile import read_toml
from inference.registry.meta import StyleName
from training.export import StyleInfo
from training.recipe import Recipe
from training.train import Painting, TrainJob

CATALOG = Path(__file__).with_name("catalog.toml")
ABLATION_SUFFIX = "_nostab"
"""A style's twin trained without the stability terms, for the ablation, runs as NAME_nostab."""


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class CatalogEntry:
    name: StyleName
    painting: StrictStr = Field(min_length=1)
    """A file name in the shared data's ``styles/``."""
    emoji: StrictStr = Field(min_length=1)
    recipe: dict[str, Any] = Field(default_factory=dict)
    """Overrides of the base recipe for this painting; sections merge key by key."""
    year: StrictStr | None = None
    """Replaces the year of ``styles.csv`` where that one is known to be wrong; "" shows none."""

    def recipe_over(self, base: Recipe) -> Recipe:
        return Recipe.from_dict(_merge(base.to_dict(), self.recipe))

    def info(self, data: Path) -> StyleInfo:
        """Title, artist and year from the shared data's ``styles.csv``."""
        info = painting_info(data, self.painting) or StyleInfo(self.name.replace("_", " ").title())
        if self.year is not None:
            info = replace(info, year=self.year)
        return replace(info, emoji=self.emoji)


def painting_info(data: Path, painting: str) -> StyleInfo | None:
    """Title, artist and year of ``painting`` from ``data/styles.csv``, if it lists it.

    A year cell may carry a note after the year ("1760-70 (as labelled; …)"): only the year
    is kept.
    """
    table = data / "styles.csv"
    if not table.is_file():
        return None
    with table.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("file") == painting:
                year = row["year"].split(" ")[0]
                return StyleInfo(row["title"], row["artist"], year)
    return None


def catalog_job(
    entry: CatalogEntry, run_dir: Path, recipe: Recipe, *, data: Path, cache: Path, device: str
) -> TrainJob:
    """A resumable run of ``entry`` in ``run_dir``, from the shared data's layout."""
    painting = Painting(
        name=entry.name,
        image=data / "styles" / entry.painting,
        pack_dir=run_dir / "pack",
        info=entry.info(data),
    )
    return TrainJob(
        name=entry.name,
        paintings=(painting,),
        data_dir=data / "photos" / "train",
        val_dir=data / "photos" / "val",
        run_dir=run_dir,
        cache_dir=cache,
        recipe=recipe,
        device=device,
        resume=True,
    )


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class _Catalog:
    style: list[CatalogEntry] = Field(min_length=1)


_CATALOG_MODEL = TypeAdapter(_Catalog)


def read_catalog(path: Path = CATALOG) -> list[CatalogEntry]:
    """The entries in file order; a malformed file raises ArtistoError in one line."""
    return read_toml(path, _CATALOG_MODEL, ArtistoError).style


def select(entries: list[CatalogEntry], names: str | None) -> list[CatalogEntry]:
    """The entries named in a comma-separated list (all for None), in catalog order."""
    if names is None:
        return entries
    wanted = set(names.split(","))
    unknown = wanted - {e.name for e in entries}
    if unknown:
        raise ArtistoError(f"not in the catalog: {', '.join(sorted(unknown))}")
    return [e for e in entries if e.name in wanted]


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
