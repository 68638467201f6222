"""Recipes and the training command's options: clear refusals of bad values, the step size."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.cli import _parse_crop
from training.recipe import Recipe, RecipeError, learning_rate, stability_scale


def test_recipe_round_trips_through_its_dict() -> None:
    recipe = Recipe().with_overrides(
        size=96, **{"weights.style": 12.0, "style_prep.crop": (0.1, 0.2, 0.5, 0.5)}
    )
    assert Recipe.from_dict(recipe.to_dict()) == recipe


def test_a_resumed_run_may_change_only_its_length_and_reports() -> None:
    trained = Recipe().to_dict()
    longer = Recipe().with_overrides(iters=8000, sample_every=500, work_side=640)
    assert longer.changes_from(trained) == []
    other = Recipe().with_overrides(skip_blur=2.5, **{"weights.noise": 9.0})
    assert other.changes_from(trained) == ["skip_blur: 1.0 → 2.5", "weights.noise: 30000.0 → 9.0"]
    cropped = Recipe().with_overrides(**{"style_prep.crop": (0.0, 0.0, 0.5, 0.5)})
    assert cropped.changes_from(trained) == ["style_prep.crop: None → [0.0, 0.0, 0.5, 0.5]"]


def test_a_run_saved_before_a_setting_existed_resumes_at_its_default() -> None:
    saved = Recipe().to_dict()
    del saved["weights"]["local"]
    del saved["stability"]["local_margin"]
    assert Recipe().changes_from(saved) == []
    local = Recipe().with_overrides(**{"weights.local": 1000.0})
    assert local.changes_from(saved) == ["weights.local: 0.0 → 1000.0"]


def test_unknown_recipe_keys_are_named(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="unknown recipe key sizee"):
        Recipe.from_dict({"sizee": 128})
    bad = tmp_path / "bad.toml"
    bad.write_text("size = [", encoding="utf-8")
    with pytest.raises(RecipeError, match="not valid TOML"):
        Recipe.load(bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.1,0.2,0.5", "takes x,y,w,h fractions"),
        ("a,b,c,d", "takes x,y,w,h fractions"),
        ("0.5,0.5,0.8,0.2", "is not inside the painting"),
        ("0,0,0,1", "is not inside the painting"),
    ],
)
def test_bad_style_crops_are_refused(text: str, message: str) -> None:
    """As ``artisto train`` applies ``--style-crop``: parsed, then set on the recipe."""
    with pytest.raises(RecipeError, match=message):
        Recipe().with_overrides(**{"style_prep.crop": _parse_crop(text)})


def test_a_recipe_whose_crop_reaches_outside_the_painting_is_refused() -> None:
    # x, y, width, height: [0.3, 0.3, 1.0, 1.0] would pad half the painting with black.
    data = Recipe().to_dict()
    data["style_prep"]["crop"] = [0.3, 0.3, 1.0, 1.0]
    with pytest.raises(RecipeError, match=r"crop \[0.3, 0.3, 1, 1\] is not inside the painting"):
        Recipe.from_dict(data)
    data["style_prep"]["crop"] = [0.3, 0.3, 0.7]
    with pytest.raises(RecipeError, match="needs four numbers: x, y, width, height"):
        Recipe.from_dict(data)
    data["style_prep"]["crop"] = [0.3, 0.3, 0.7, 0.7]
    assert Recipe.from_dict(data).style_prep.crop == (0.3, 0.3, 0.7, 0.7)


def test_a_good_style_crop_parses() -> None:
    assert _parse_crop("0.04,0.12,0.92,0.8") == (0.04, 0.12, 0.92, 0.8)
    assert _parse_crop(None) is None


def test_the_step_size_warms_up_holds_then_decays_to_a_tenth() -> None:
    recipe = Recipe().with_overrides(lr=0.004, warmup_iters=10, iters=100)
    ramp = [learning_rate(recipe, i) for i in range(10)]
    assert ramp == sorted(ramp) and ramp[0] == pytest.approx(0.0004)
    assert learning_rate(recipe, 10) == learning_rate(recipe, 74) == 0.004
    assert learning_rate(recipe, 75) == pytest.approx(0.004)
    assert learning_rate(recipe, 99) == pytest.approx(0.0004, rel=0.05)


def test_the_gram_terms_warm_up_again_after_a_teacher_start() -> None:
    recipe = Recipe().with_overrides(lr=0.004, warmup_iters=10, iters=100, distill_iters=40)
    assert learning_rate(recipe, 39) == 0.004
    ramp = [learning_rate(recipe, i) for i in range(40, 50)]
    assert ramp == sorted(ramp) and ramp[0] == pytest.approx(0.0004) and ramp[-1] == 0.004
    assert learning_rate(recipe, 50) == 0.004


def test_the_stability_weights_ramp_in_after_a_teacher_start() -> None:
    assert stability_scale(Recipe(), 0) == 1.0
    recipe = Recipe().with_overrides(iters=100, distill_iters=40, stability_ramp_iters=20)
    assert stability_scale(recipe, 39) == 1.0, "the teacher start keeps its own weights"
    ramp = [stability_scale(recipe, i) for i in range(40, 61)]
    assert ramp[0] == 0.0 and ramp == sorted(ramp) and ramp[10] == 0.5 and ramp[-1] == 1.0
    assert stability_scale(recipe, 99) == 1.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"iters": "four thousand", "lr": "fast"}, "iters: Input should be a valid integer"),
        ({"skip": "yes"}, "skip: Input should be a valid boolean"),
        ({"weights": {"stlye": 2.0}}, "unknown recipe key weights.stlye"),
        ({"size": 130}, "size: Input should be a multiple of 4"),
        ({"weights": {"style": -1.0}}, "weights.style: Input should be greater than or equal to 0"),
        ({"content_layer": "relu9_9"}, "content_layer: Input should be 'relu1_2'"),
        (
            {"style_prep": {"colour": "sepia"}},
            "style_prep.colour: Input should be 'keep' or 'gray'",
        ),
    ],
)
def test_a_recipe_with_a_wrong_type_an_unknown_key_or_a_bad_value_is_refused(
    data: dict[str, object], message: str, tmp_path: Path
) -> None:
    with pytest.raises(RecipeError, match=message):
        Recipe.from_dict(data)


def test_a_recipe_file_mistake_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "recipe.toml"
    path.write_text('iters = "4000"\n', encoding="utf-8")
    with pytest.raises(RecipeError, match=f"{path}: iters: Input should be a valid integer"):
        Recipe.load(path)
