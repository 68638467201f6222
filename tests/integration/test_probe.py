"""Short recipe runs scored as they go (``training.tools.probe``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from artisto.errors import ArtistoError
from tests.fixtures_images import write_tiny_data
from training.recipe import Recipe, RecipeError
from training.tools.probe import main, parse_override
from training.train import Painting, Trainer, TrainJob
from training.vgg_weights import ensure_vgg16

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "data" / "cache"
TINY = {
    "size": 32, "batch": 2, "width": 4, "residual_blocks": 1, "work_side": 64,
    "sample_every": 2, "checkpoint_every": 2, "warmup_iters": 1,
}  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Path:
    ensure_vgg16(CACHE)
    return write_tiny_data(tmp_path / "data", ("starry_night.jpg",))


def _tiny_recipe(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in TINY.items()), encoding="utf-8")
    return path


def test_overrides_are_dotted_keys_with_toml_values() -> None:
    assert parse_override("weights.noise=3000.0") == ("weights.noise", 3000.0)
    assert parse_override('style_loss="score"') == ("style_loss", "score")
    assert parse_override("crop_scale=[0.8, 1.25]") == ("crop_scale", [0.8, 1.25])
    for bad in ("no_value", "=1", "lr=fast"):
        with pytest.raises(ArtistoError, match="--set"):
            parse_override(bad)


def test_a_probe_scores_at_each_mark_and_goes_on_where_it_stopped(
    data: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    common = ["--style", "starry_night", "--score-every", "2"]
    common += ["--recipe", str(_tiny_recipe(tmp_path))]
    common += ["--runs", str(runs), "--data", str(data), "--cache", str(CACHE)]
    common += ["--set", 'style_loss="score"', "--set", "weights.noise=10.0"]

    assert main(["t", "--iters", "4", *common]) == 0
    assert main(["t", "--iters", "6", *common]) == 0

    lines = [json.loads(line) for line in (runs / "t" / "scores.jsonl").read_text().splitlines()]
    assert [line["iteration"] for line in lines] == [2, 4, 6], "nothing trained or scored twice"
    assert all(line["s_per_it"] > 0 and -6 <= line["style"] < 6 for line in lines)
    assert {"noise_flicker", "faces_kept"} <= set(lines[1]) & set(lines[2])
    assert (runs / "t" / "score_6.jpg").is_file() and (runs / "t" / "checkpoint_4.pt").is_file()
    recipe = Recipe.load(runs / "t" / "recipe.toml")
    assert recipe.style_loss == "score" and recipe.weights.noise == 10.0


def test_stopping_at_an_iteration_and_going_on_trains_the_same_generator(
    data: Path, tmp_path: Path
) -> None:
    recipe = Recipe.load(_tiny_recipe(tmp_path)).with_overrides(iters=4)

    def trainer(run: str) -> Trainer:
        painting = Painting("stars", data / "styles" / "starry_night.jpg", tmp_path / run / "pack")
        job = TrainJob(run, (painting,), data / "photos" / "train", data / "photos" / "val",
                       tmp_path / run, CACHE, recipe, show_progress=False)  # fmt: skip
        return Trainer(job)

    straight, in_two = trainer("straight"), trainer("in_two")
    assert straight.fit()
    assert not in_two.fit(until=2)
    assert in_two.fit()

    for name, value in straight.net.state_dict().items():
        assert torch.equal(value, in_two.net.state_dict()[name]), name


def test_a_branch_takes_another_runs_generator_on_with_its_own_recipe(
    data: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    common = ["--style", "starry_night", "--iters", "6", "--score-every", "2"]
    common += ["--recipe", str(_tiny_recipe(tmp_path)), "--runs", str(runs)]
    common += ["--data", str(data), "--cache", str(CACHE)]
    assert main(["trunk", "--until", "2", *common]) == 0
    trunk = json.loads((runs / "trunk" / "scores.jsonl").read_text())
    assert trunk["iteration"] == 2 and "noise_flicker" in trunk, "--until ends the run there"

    branch = [
        "--branch-from",
        str(runs / "trunk" / "checkpoint_2.pt"),
        "--set",
        "weights.style=1.0",
    ]
    assert main(["branch", *branch, *common]) == 0
    lines = (runs / "branch" / "scores.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in lines] == [4, 6], "went on from 2"

    with pytest.raises(RecipeError, match="another recipe"):
        main(["trunk", "--set", "weights.style=1.0", *common])  # a resume keeps its recipe
