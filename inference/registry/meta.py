"""What ``style.toml`` says about a style, as validated models.

Plain data, no torch: the one-shot command line reads each pack's style.toml to find its style
and must start at once. Wrong types, unknown keys and out-of-range values are refused with the
file, the key and what it expects. ``[recipe]`` stays a free-form table here (the training
recipe has its own model), and ``[metrics]`` takes any number under any name, so that a newer
measure needs no change here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from pydantic.dataclasses import dataclass

from artisto.errors import StylePackError
from artisto.tomlfile import read_toml

if TYPE_CHECKING:
    from inference.nets.transformer import TransformerNet

NAME_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
"""Short enough to sit in a 64-byte Telegram callback beside a job id."""
DEFAULT_EMOJI = "🎨"
_CLOSED = ConfigDict(extra="forbid")


def _style_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"must be 1-32 lowercase letters, digits or underscores, not {name!r}")
    return name


def _emoji_or_default(emoji: str) -> str:
    return emoji or DEFAULT_EMOJI


def _year_text(year: object) -> object:
    if isinstance(year, bool) or not isinstance(year, str | int):
        raise ValueError("must be text or a whole number")
    return str(year)


StyleName = Annotated[StrictStr, AfterValidator(_style_name)]
"""A style's name, as packs, the catalog and callback data use it."""
Number = Annotated[float, Field(strict=True)]
"""A TOML integer or float (as a float), but never ``true``."""


@dataclass(frozen=True, config=_CLOSED)
class NetSpec:
    """The generator's architecture, enough to rebuild it before loading weights.

    A field added later needs a default, so that packs written before keep loading.
    """

    width: StrictInt = Field(ge=1)
    residual_blocks: StrictInt = Field(default=5, ge=0)
    skip: StrictBool = True
    skip_blur: Number = Field(default=0.0, ge=0)

    @field_validator("skip_blur")
    @classmethod
    def _blur_needs_the_skip(cls, blur: float, info: ValidationInfo) -> float:
        if blur and not info.data.get("skip", True):
            raise ValueError("must be 0, or positive with skip = true")
        return blur

    def build(self) -> TransformerNet:
        """A fresh generator of this shape (imports torch: only who runs it pays for it)."""
        from inference.nets.transformer import TransformerNet

        return TransformerNet(
            self.width, self.residual_blocks, skip=self.skip, skip_blur=self.skip_blur
        )

    @classmethod
    def of(cls, net: TransformerNet) -> NetSpec:
        return cls(
            width=net.width,
            residual_blocks=len(net.residuals),
            skip=net.skip,
            skip_blur=net.skip_blur,
        )


@dataclass(frozen=True, config=_CLOSED)
class StyleMeta:
    """What ``style.toml`` says about a style."""

    name: StyleName
    title: StrictStr
    artist: StrictStr
    net: NetSpec
    year: Annotated[str, BeforeValidator(_year_text)] = ""
    emoji: Annotated[StrictStr, AfterValidator(_emoji_or_default)] = DEFAULT_EMOJI
    work_side: StrictInt | None = Field(default=None, ge=64)
    """Longest side the generator works at, so brush strokes keep their scale on big photos;
    the result is upscaled (Lanczos) to the output size. None: work at the output size."""
    recipe: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Number] = Field(default_factory=dict)

    def to_toml(self) -> dict[str, Any]:
        """The document for style.toml: unset and empty entries left out."""
        doc = dataclasses.asdict(self)
        return {key: value for key, value in doc.items() if value is not None and value != {}}


_STYLE_META = TypeAdapter(StyleMeta)


def read_meta(file: Path) -> StyleMeta:
    return read_toml(file, _STYLE_META, StylePackError)
