"""A training recipe: every knob of a run, kept as TOML in the run folder and the style pack.

The recipe is a pydantic model: a wrong type, an unknown key or an out-of-range value is
refused with the key and what it expects, whether it comes from a file, a catalog entry or
the command line.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from artisto.errors import ArtistoError


class RecipeError(ArtistoError):
    code = "recipe"


RESUMABLE_KEYS = frozenset({"iters", "sample_every", "checkpoint_every", "work_side"})
"""Keys a run may change when it resumes: its length, its reports, its shipped work size.
Any other change would make a different generator than the one in the checkpoint."""

VggLayer = Literal["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class LossWeights(_Section):
    content: NonNegative = 1.0
    style: NonNegative = 15.0
    """At 30, every painting tried drew its motifs across faces by 4,000 iterations: stroke
    bands over the eyes (The Starry Night, by 1,700), dark wave lines (The Great Wave),
    red and blue chevrons (Composition VII, by 2,600). At 15, The Starry Night keeps faces
    readable under light strokes."""
    tv: NonNegative = 0.02
    noise: NonNegative = 30000.0
    motion: NonNegative = 3000.0
    local: NonNegative = 0.0
    """‖G(x with a patch pasted in) − G(x)‖² outside the patch and a margin: a change in one
    place (someone walking past) must not repaint the still scene around it."""
    teacher: NonNegative = 0.0
    """Mean absolute pixel error toward the teacher's painted photo after the teacher start
    (``distill_iters``): an anchor that keeps the photo's content and the teacher's colours
    while the Gram terms sharpen the strokes."""


class StylePrep(_Section):
    """How the painting is prepared: Artisto's designers tuned the painting, not the network."""

    scale: Positive = 2.0
    """Longest side of the painting as a multiple of the training crop size."""
    crop: tuple[float, float, float, float] | None = None
    """Region of the painting to use: x, y, width, height as fractions."""
    colour: Literal["keep", "gray"] = "keep"
    """keep, or gray (learn strokes and texture, keep the photo's colours less)."""

    @field_validator("crop", mode="before")
    @classmethod
    def _crop_inside(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            raise ValueError("needs four numbers: x, y, width, height")
        check_crop(tuple(float(v) for v in value))
        return tuple(float(v) for v in value)


def check_crop(crop: tuple[float, ...]) -> None:
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


class Stability(_Section):
    noise_sigma: NonNegative = 0.03
    """Largest standard deviation of the Gaussian input noise, in [0, 1] units."""
    max_shift_px: NonNegative = 6.0
    max_rotate_deg: NonNegative = 2.0
    max_zoom: Annotated[float, Field(ge=0, lt=1)] = 0.04
    local_margin: Annotated[int, Field(ge=0)] = 8
    """Pixels around the pasted patch that the locality term leaves free to change."""


class Recipe(_Section):
    size: Annotated[int, Field(ge=16, multiple_of=4)] = 128
    batch: Annotated[int, Field(ge=1)] = 4
    iters: Annotated[int, Field(ge=1)] = 4000
    lr: Positive = 3e-3
    """Adam's step size after the warm-up; 1e-3 learned the style about half as fast."""
    warmup_iters: Annotated[int, Field(ge=0)] = 100
    """Linear warm-up of the step size, so the first random-init steps do not diverge."""
    width: Annotated[int, Field(ge=1, le=256)] = 16
    residual_blocks: Annotated[int, Field(ge=0, le=32)] = 5
    skip: bool = True
    """Generator predicts a change to the photo rather than a new image: without the skip, a
    128 px run lost the photo within 250 iterations (a field of blobs)."""
    skip_blur: NonNegative = 1.0
    """σ in pixels of a blur on the skip path (0: none). A plain skip passes the photo's noise
    to the output, so no stability term can bring a style below the identity's noise flicker
    (2.26; The Starry Night scored 2.59 against 3.45 for its twin without stability terms).
    σ = 1 passes 0.28 of it (The Starry Night: 0.76 at 4,000 iterations); σ = 2 passed 0.14
    but smeared faces."""
    seed: Annotated[int, Field(ge=0)] = 0
    content_layer: VggLayer = "relu2_2"
    style_layers: Annotated[tuple[VggLayer, ...], Field(min_length=1)] = (
        "relu1_2",
        "relu2_2",
        "relu3_3",
        "relu4_3",
    )
    crop_scale: tuple[float, float] | None = None
    """None: crops of 45–100 % of a photo's shorter side (photos held at 384 px), shrunk to
    ``size``, so content is smaller than at work. (low, high): photos held at ``work_side``
    and crops of ``size`` × a factor in that range, so content is as large as at work."""
    style_loss: Literal["relative", "score"] = "relative"
    """relative: each layer's Gram error over the painting's Gram energy (the deepest layer,
    furthest from any photo, then dominates). score: per layer, log10 of the Gram distance over
    the training photos' own distance from the painting, as the style score counts it."""
    distill_iters: Annotated[int, Field(ge=0)] = 0
    """The first iterations learn the teacher's painted photos (``training/teacher.py``) by
    mean absolute pixel error, without the loss network: a few times cheaper per step, and the
    photo's content is there from the start. 0: no teacher."""
    distill_batch: Annotated[int, Field(ge=1)] = 8
    distill_stability: bool = False
    """The teacher start also trains the stability terms (noise and motion, as weighted): a
    student of the teacher alone flickered 0.95–1.44 on noise (the input: 2.26)."""
    content_target: Literal["photo", "teacher"] = "photo"
    """What the content term compares the output with: the photo, or the teacher's painted
    photo (the Gram terms then take the painted look past the teacher's)."""
    stability_on: bool = True
    stability_ramp_iters: Annotated[int, Field(ge=0)] = 0
    """The stability terms' weights grow linearly from zero over this many iterations after the
    teacher start (from the first iteration without one): the Gram terms draw strokes first,
    then steady them. 0: full weights throughout."""
    work_side: Annotated[int, Field(ge=64)] = 512
    """Longest side the shipped generator works at (strokes keep their scale on big photos)."""
    sample_every: Annotated[int, Field(ge=1)] = 250
    checkpoint_every: Annotated[int, Field(ge=1)] = 100
    weights: LossWeights = LossWeights()
    style_prep: StylePrep = StylePrep()
    stability: Stability = Stability()

    @field_validator("style_layers", "crop_scale", mode="before")
    @classmethod
    def _tuple_from_a_list(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("crop_scale")
    @classmethod
    def _scale_range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not 0 < value[0] <= value[1]:
            raise ValueError("needs 0 < low <= high")
        return value

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(exclude_none=True)
        data["style_layers"] = list(self.style_layers)
        if self.crop_scale is not None:
            data["crop_scale"] = list(self.crop_scale)
        if self.style_prep.crop is not None:
            data["style_prep"]["crop"] = list(self.style_prep.crop)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "recipe") -> Recipe:
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise RecipeError(f"{source}: {_explain(error)}") from None

    @classmethod
    def load(cls, path: Path) -> Recipe:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise RecipeError(f"{path}: not valid TOML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    def changes_from(self, earlier: dict[str, Any]) -> list[str]:
        """``key: old → new`` for each setting a resumed run cannot change (dotted keys). A
        setting added since ``earlier`` was saved counts as its default there."""
        old = _flatten(Recipe().to_dict()) | _flatten(earlier)
        new = _flatten(self.to_dict())
        keys = sorted((old.keys() | new.keys()) - RESUMABLE_KEYS)
        return [f"{k}: {old.get(k)} → {new.get(k)}" for k in keys if old.get(k) != new.get(k)]

    def with_overrides(self, **overrides: Any) -> Recipe:
        """A copy with the given non-None values replaced; dotted keys reach into sections."""
        data = self.to_dict()
        for key, value in overrides.items():
            if value is None:
                continue
            section, _, name = key.rpartition(".")
            target = data.setdefault(section, {}) if section else data
            target[name] = list(value) if isinstance(value, tuple) else value
        return Recipe.from_dict(data)


def learning_rate(recipe: Recipe, iteration: int) -> float:
    """A linear warm-up, constant, then a cosine decay to a tenth over the last quarter. The
    warm-up is repeated where a teacher start hands over to the Gram terms."""
    if iteration < recipe.warmup_iters:
        return recipe.lr * (iteration + 1) / recipe.warmup_iters
    since_teacher = iteration - recipe.distill_iters
    if recipe.distill_iters and 0 <= since_teacher < recipe.warmup_iters:
        return recipe.lr * (since_teacher + 1) / recipe.warmup_iters
    decay_from = int(recipe.iters * 0.75)
    if iteration < decay_from:
        return recipe.lr
    t = (iteration - decay_from) / max(1, recipe.iters - decay_from)
    return recipe.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def stability_scale(recipe: Recipe, iteration: int) -> float:
    """The share of the stability weights in force at ``iteration`` (``stability_ramp_iters``);
    a teacher start keeps its own, full ones."""
    since_teacher = iteration - recipe.distill_iters
    if not recipe.stability_ramp_iters or since_teacher < 0:
        return 1.0
    return min(1.0, since_teacher / recipe.stability_ramp_iters)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[prefix + key] = value
    return flat


def _explain(error: ValidationError) -> str:
    """One line per mistake: the dotted key and what it expects."""
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "recipe"
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown recipe key {key}")
            continue
        problems.append(f"{key}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)
