"""A training recipe: every knob of a run, kept as TOML in the run folder and the style pack."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from artisto.errors import ArtistoError


class RecipeError(ArtistoError):
    code = "recipe"


RESUMABLE_KEYS = frozenset({"iters", "sample_every", "checkpoint_every", "work_side"})
"""Keys a run may change when it resumes: its length, its reports, its shipped work size.
Any other change would make a different generator than the one in the checkpoint."""


@dataclass(frozen=True)
class LossWeights:
    content: float = 1.0
    style: float = 15.0
    """At 30, every painting tried drew its motifs across faces by 4,000 iterations: stroke
    bands over the eyes (The Starry Night, by 1,700), dark wave lines (The Great Wave),
    red and blue chevrons (Composition VII, by 2,600). At 15, The Starry Night keeps faces
    readable under light strokes."""
    tv: float = 0.02
    noise: float = 30000.0
    motion: float = 3000.0


@dataclass(frozen=True)
class StylePrep:
    """How the painting is prepared: Artisto's designers tuned the painting, not the network."""

    scale: float = 2.0
    """Longest side of the painting as a multiple of the training crop size."""
    crop: tuple[float, float, float, float] | None = None
    """Region of the painting to use: x, y, width, height as fractions."""
    colour: str = "keep"
    """keep, or gray (learn strokes and texture, keep the photo's colours less)."""

    def __post_init__(self) -> None:
        if self.crop is not None:
            check_crop(self.crop)


def check_crop(crop: tuple[float, float, float, float]) -> None:
    """Refuse a crop (x, y, width, height as fractions) that reaches outside the painting:
    the padding would be trained as part of the style."""
    if len(crop) != 4:
        raise RecipeError(f"style crop {list(crop)} needs four numbers: x, y, width, height")
    x, y, w, h = crop
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x + 1e-9 and 0 < h <= 1 - y + 1e-9):
        shown = ", ".join(f"{v:g}" for v in crop)
        raise RecipeError(
            f"style crop [{shown}] is not inside the painting (x, y, width, height as fractions)"
        )


@dataclass(frozen=True)
class Stability:
    noise_sigma: float = 0.03
    """Largest standard deviation of the Gaussian input noise, in [0, 1] units."""
    max_shift_px: float = 6.0
    max_rotate_deg: float = 2.0
    max_zoom: float = 0.04


@dataclass(frozen=True)
class Recipe:
    size: int = 128
    batch: int = 4
    iters: int = 4000
    lr: float = 3e-3
    """Adam's step size after the warm-up; 1e-3 learned the style about half as fast."""
    warmup_iters: int = 100
    """Linear warm-up of the step size, so the first random-init steps do not diverge."""
    width: int = 16
    residual_blocks: int = 5
    skip: bool = True
    """Generator predicts a change to the photo rather than a new image: without the skip, a
    128 px run lost the photo within 250 iterations (a field of blobs)."""
    skip_blur: float = 1.0
    """σ in pixels of a blur on the skip path (0: none). A plain skip passes the photo's noise
    to the output, so no stability term can bring a style below the identity's noise flicker
    (2.26; The Starry Night scored 2.59 against 3.45 for its twin without stability terms).
    σ = 1 passes 0.28 of it (The Starry Night: 0.76 at 4,000 iterations); σ = 2 passed 0.14
    but smeared faces."""
    seed: int = 0
    content_layer: str = "relu2_2"
    style_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    stability_on: bool = True
    work_side: int = 512
    """Longest side the shipped generator works at (strokes keep their scale on big photos)."""
    sample_every: int = 250
    checkpoint_every: int = 100
    weights: LossWeights = field(default_factory=LossWeights)
    style_prep: StylePrep = field(default_factory=StylePrep)
    stability: Stability = field(default_factory=Stability)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["style_layers"] = list(self.style_layers)
        prep = data["style_prep"]
        if prep["crop"] is None:
            del prep["crop"]
        else:
            prep["crop"] = list(prep["crop"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise RecipeError(f"unknown recipe keys: {', '.join(sorted(unknown))}")
        values = dict(data)
        try:
            if "weights" in values:
                values["weights"] = LossWeights(**values["weights"])
            if "stability" in values:
                values["stability"] = Stability(**values["stability"])
            if "style_prep" in values:
                prep = dict(values["style_prep"])
                if "crop" in prep:
                    prep["crop"] = tuple(float(v) for v in prep["crop"])
                values["style_prep"] = StylePrep(**prep)
            if "style_layers" in values:
                values["style_layers"] = tuple(values["style_layers"])
            return cls(**values)
        except TypeError as exc:
            raise RecipeError(f"bad recipe: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> Recipe:
        try:
            return cls.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise RecipeError(f"{path}: not valid TOML: {exc}") from None

    def changes_from(self, earlier: dict[str, Any]) -> list[str]:
        """``key: old → new`` for each setting a resumed run cannot change (dotted keys)."""

        def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
            flat: dict[str, Any] = {}
            for key, value in data.items():
                if isinstance(value, dict):
                    flat |= flatten(value, f"{prefix}{key}.")
                else:
                    flat[prefix + key] = value
            return flat

        old, new = flatten(earlier), flatten(self.to_dict())
        keys = sorted((old.keys() | new.keys()) - RESUMABLE_KEYS)
        return [f"{k}: {old.get(k)} → {new.get(k)}" for k in keys if old.get(k) != new.get(k)]

    def with_overrides(self, **overrides: Any) -> Recipe:
        """A copy with the given non-None values replaced; dotted keys reach into sections."""
        recipe = self
        for key, value in overrides.items():
            if value is None:
                continue
            section, _, name = key.rpartition(".")
            if section:
                inner = replace(getattr(recipe, section), **{name: value})
                recipe = replace(recipe, **{section: inner})
            else:
                recipe = replace(recipe, **{key: value})
        return recipe
