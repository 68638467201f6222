"""style.toml is read by a model: each kind of mistake is one line naming the file, the key and
what the key expects; what packs carry today keeps loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from artisto.errors import StylePackError
from inference.registry import SHIPPED_STYLES_DIR, NetSpec
from inference.registry.meta import read_meta

GOOD = """\
name = "tiny"
title = "Tiny"
artist = "Test Painter"
year = "1900"
work_side = 256

[net]
width = 4
residual_blocks = 1
skip = true
"""


def _refusal(tmp_path: Path, text: str) -> str:
    file = tmp_path / "style.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(StylePackError) as info:
        read_meta(file)
    message = str(info.value)
    assert message.startswith(f"{file}: ")
    assert "\n" not in message
    return message.removeprefix(f"{file}: ")


def test_a_wrong_type_names_the_key_and_the_type_it_expects(tmp_path: Path) -> None:
    text = GOOD.replace("work_side = 256", 'work_side = "256"')
    assert _refusal(tmp_path, text) == "work_side must be a whole number"


def test_an_unknown_key_is_refused_where_it_stands(tmp_path: Path) -> None:
    text = GOOD.replace("residual_blocks", "residual_block")
    assert _refusal(tmp_path, text) == "unknown key net.residual_block"


def test_an_out_of_range_value_names_the_bound_and_the_value(tmp_path: Path) -> None:
    assert _refusal(tmp_path, GOOD.replace("width = 4", "width = 0")) == (
        "net.width must be at least 1, not 0"
    )
    assert _refusal(tmp_path, GOOD.replace("work_side = 256", "work_side = 10")) == (
        "work_side must be at least 64, not 10"
    )


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    assert _refusal(tmp_path, GOOD.replace('title = "Tiny"\n', "")) == "missing key title"


def test_metrics_take_any_number_and_the_recipe_any_table(tmp_path: Path) -> None:
    file = tmp_path / "style.toml"
    file.write_text(
        GOOD.replace('year = "1900"', "year = 1889")
        + "\n[recipe]\niters = 4000\nstyle_layers = ['relu1_2']\n\n[recipe.final_losses]\n"
        + "total = 14.4\n\n[metrics]\nnoise_flicker = 0.66\nstyle_score = -0.5\nfaces_kept = 1\n",
        encoding="utf-8",
    )

    meta = read_meta(file)

    assert meta.year == "1889"
    assert meta.net == NetSpec(width=4, residual_blocks=1, skip=True, skip_blur=0.0)
    assert meta.recipe["final_losses"] == {"total": 14.4}
    assert meta.metrics == {"noise_flicker": 0.66, "style_score": -0.5, "faces_kept": 1.0}
    assert all(isinstance(v, float) for v in meta.metrics.values())


def test_every_shipped_style_toml_loads() -> None:
    files = sorted(SHIPPED_STYLES_DIR.glob("*/style.toml"))
    assert files
    for file in files:
        assert read_meta(file).name == file.parent.name
