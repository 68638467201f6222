"""A three-iteration training run on CPU with a tiny network produces a loadable style pack."""

from __future__ import annotations

import logging
import math
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from artisto.cli import main
from artisto.errors import ArtistoError
from inference.registry import load_pack
from training import teacher
from training.checkpoint import CheckpointError, load_run_nets
from training.export import StyleInfo
from training.recipe import Recipe, RecipeError
from training.train import Painting, Trainer, TrainJob, train
from training.vgg_weights import ensure_vgg16

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "data" / "cache"


def _photos(folder: Path, count: int, size: tuple[int, int]) -> Path:
    folder.mkdir(parents=True)
    gen = torch.Generator().manual_seed(0)
    for i in range(count):
        pixels = (torch.rand(size[1], size[0], 3, generator=gen) * 255).byte().numpy()
        Image.fromarray(pixels).save(folder / f"photo{i}.jpg")
    return folder


@pytest.fixture(scope="module")
def vgg_cache() -> Path:
    ensure_vgg16(CACHE)
    return CACHE


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    photos = _photos(tmp_path / "train", 3, (80, 64))
    val = _photos(tmp_path / "val", 2, (64, 48))
    painting = tmp_path / "painting.jpg"
    Image.effect_mandelbrot((96, 64), (-2, -1, 1, 1), 50).convert("RGB").save(painting)
    return photos, val, painting


def _recipe(**overrides: object) -> Recipe:
    settings: dict[str, object] = {
        "size": 32, "batch": 2, "iters": 3, "width": 4, "residual_blocks": 1,
        "work_side": 64, "sample_every": 2, "checkpoint_every": 2,
    }  # fmt: skip
    return Recipe().with_overrides(**{**settings, **overrides})


JobFactory = Callable[..., TrainJob]


@pytest.fixture
def tiny_job(tmp_path: Path, folders: tuple[Path, Path, Path], vgg_cache: Path) -> JobFactory:
    """A tiny run in ``tmp_path/run``; keyword arguments override TrainJob's fields."""
    photos, val, painting = folders

    def make(
        recipe: Recipe | None = None, info: StyleInfo | None = None, **fields: Any
    ) -> TrainJob:
        fields.setdefault("paintings", (Painting("tiny", painting, tmp_path / "pack", info),))
        return TrainJob(
            name="tiny", data_dir=photos, val_dir=val,
            run_dir=tmp_path / "run", cache_dir=vgg_cache,
            recipe=recipe or _recipe(), show_progress=False, **fields,
        )  # fmt: skip

    return make


def test_three_iterations_make_a_loadable_pack(
    tiny_job: JobFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as `artisto train` logs: every record is really built
    job = tiny_job(info=StyleInfo(title="Tiny", artist="Nobody"))
    (pack,) = train(job)
    reloaded = load_pack(pack.path)
    assert reloaded.meta.title == "Tiny" and reloaded.meta.net.width == 4
    assert reloaded.meta.recipe["iters"] == 3
    assert set(reloaded.meta.recipe["final_losses"]) >= {"content", "style", "noise", "motion"}
    net = reloaded.build_generator()
    assert net(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)
    run = job.run_dir
    assert (run / "checkpoint.pt").is_file() and (run / "losses.png").is_file()
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "iter_000001.jpg", "iter_000002.jpg", "iter_000003.jpg",
    ]  # fmt: skip
    assert len(list((run / "heatmaps").iterdir())) == 3
    assert tomllib.loads((run / "recipe.toml").read_text())["size"] == 32
    stopped = [r for r in caplog.records if r.getMessage() == "train.stopped"]
    assert [(getattr(r, "style", None), getattr(r, "iteration", None)) for r in stopped] == [
        ("tiny", 3)
    ]


def test_resume_continues_from_the_checkpoint(tmp_path: Path, tiny_job: JobFactory) -> None:
    train(tiny_job(_recipe(iters=2)))
    first = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert first["iteration"] == 2
    train(tiny_job(_recipe(iters=4), resume=True))
    second = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert second["iteration"] == 4
    assert second["history"]["iter"] == [1, 2, 3, 4], "resumed run appends, not restarts"


def test_a_deadline_stops_with_a_checkpoint_that_resumes(
    tmp_path: Path, tiny_job: JobFactory
) -> None:
    job = tiny_job(_recipe(iters=5, checkpoint_every=100), resume=True)

    assert not Trainer(job).fit(stop_at=time.time())
    stopped = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert stopped["iteration"] == 1, "the step in flight finishes and is checkpointed"

    assert Trainer(job).fit(stop_at=time.time() + 3600)
    finished = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert finished["history"]["iter"] == [1, 2, 3, 4, 5]


def test_resume_refuses_a_checkpoint_of_another_recipe(
    tmp_path: Path, tiny_job: JobFactory
) -> None:
    def job(recipe: Recipe) -> TrainJob:
        return tiny_job(recipe, resume=True)

    train(job(_recipe(iters=2)))
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    with pytest.raises(RecipeError, match=r"another recipe \(skip_blur: 1.0 → 2.5\)"):
        train(job(_recipe(iters=4, skip_blur=2.5)))
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before
    assert "skip_blur = 1.0" in (tmp_path / "run" / "recipe.toml").read_text()

    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    del state["recipe"]
    torch.save(state, tmp_path / "run" / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="does not record the recipe it was trained with"):
        train(job(_recipe(iters=4)))


def test_a_damaged_checkpoint_is_refused_with_what_to_do(
    tiny_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    job = tiny_job(_recipe(iters=2), resume=True)
    Trainer(job).fit()
    checkpoint = job.run_dir / "checkpoint.pt"
    whole = checkpoint.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"", b"version https://git-lfs.github.com/spec/v1\n"):
        checkpoint.write_bytes(damaged)
        with pytest.raises(CheckpointError, match="is not a readable checkpoint"):
            train(job)
        assert checkpoint.read_bytes() == damaged, "a refused checkpoint is left as it was"

    assert main(["eval", str(job.run_dir), "--val", str(job.val_dir)]) != 0
    assert "is not a readable checkpoint" in capsys.readouterr().err


def test_eval_measures_a_run_in_progress_without_writing(
    tmp_path: Path, tiny_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    job = tiny_job(_recipe(iters=2))
    run, val = job.run_dir, job.val_dir
    Trainer(job).fit()
    before = sorted(p.name for p in run.iterdir())

    none = str(tmp_path / "none.mp4")
    code = main(["eval", str(run), "--val", str(val), "--video", none, "--photos", str(val),
                 "--no-ceiling"])  # fmt: skip

    assert code == 0
    out = capsys.readouterr().out
    assert f"run {run} at iteration 2" in out
    flicker = float(out.split("noise_flicker", 1)[1].split()[0])
    assert 0.0 < flicker < 100.0
    assert "style_floor" in out and "style_ceiling" not in out
    assert -6.0 <= float(out.split("style_score", 1)[1].split()[0]) < 3.0
    assert sorted(p.name for p in run.iterdir()) == before, "a run folder gets no style.toml"


def test_eval_writes_a_packs_strength_beside_its_stability(
    tmp_path: Path, tiny_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    job = tiny_job(_recipe(iters=2))
    (pack,) = train(job)
    val, none = str(job.val_dir), str(tmp_path / "none.mp4")

    code = main(["eval", str(pack.path), "--val", val, "--video", none, "--photos", val,
                 "--no-ceiling"])  # fmt: skip

    assert code == 0, capsys.readouterr().err
    metrics = load_pack(pack.path).meta.metrics
    assert {"style_score", "style_floor", "noise_flicker"} <= set(metrics)
    assert "faces_kept" not in metrics, "no portrait among the photos: no face figure"


def test_cli_refuses_a_bad_style_name(
    folders: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, painting = folders
    code = main(["train", "--style-image", str(painting), "--name", "Bad Name!"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lowercase" in err[0]


def test_two_paintings_train_one_network_and_export_two_packs(
    tmp_path: Path, tiny_job: JobFactory, folders: tuple[Path, Path, Path]
) -> None:
    _, _, painting = folders
    second = tmp_path / "second.jpg"
    Image.linear_gradient("L").resize((96, 64)).convert("RGB").save(second)
    paintings = (
        Painting("first", painting, tmp_path / "packs" / "first"),
        Painting("second", second, tmp_path / "packs" / "second"),
    )
    job = tiny_job(paintings=paintings, resume=True)
    trainer = Trainer(job)
    first_pack, second_pack = trainer.run()

    photo = torch.rand(1, 3, 16, 16)
    for style, pack in enumerate((first_pack, second_pack)):
        exported = load_pack(pack.path).build_generator()
        with torch.no_grad():
            shared = trainer.net(photo, torch.tensor([style]))
            # fp16 pack weights: the same generator, to fp16 precision
            assert torch.allclose(exported(photo), shared, atol=2e-2)
    assert load_pack(first_pack.path).meta.recipe["trained_with"] == ["second"]
    assert sorted(p.name for p in job.run_dir.glob("style-*.jpg")) == [
        "style-first.jpg", "style-second.jpg",
    ]  # fmt: skip
    nets, iteration = load_run_nets(job.run_dir)
    assert list(nets) == ["first", "second"] and iteration == 3

    job.paintings = paintings[:1]
    with pytest.raises(RecipeError, match=r"paintings: \['first', 'second'\] → \['first'\]"):
        Trainer(job).fit()


def test_the_score_shaped_term_on_crops_at_work_scale_trains_a_loadable_pack(
    tiny_job: JobFactory,
) -> None:
    recipe = _recipe(style_loss="score", crop_scale=(0.8, 1.25))
    (pack,) = train(tiny_job(recipe))
    recorded = load_pack(pack.path).meta.recipe
    assert recorded["style_loss"] == "score" and recorded["crop_scale"] == [0.8, 1.25]
    assert all(math.isfinite(v) for v in recorded["final_losses"].values())


def test_a_teacher_start_then_the_gram_terms_toward_its_painted_photos(
    tiny_job: JobFactory,
) -> None:
    """The peer paints the training photos; the first iterations learn them pixel by pixel,
    the rest compare the content with them."""
    recipe = _recipe(iters=4, distill_iters=2, distill_batch=2, content_target="teacher")
    job = tiny_job(recipe)
    trainer = Trainer(job)
    assert len(trainer.painted) == 1 and len(trainer.painted[0]) == len(trainer.data.photos)
    assert trainer.painted[0][0].size == trainer.data.photos[0].size
    trainer.run()
    history = trainer.history
    assert all(v > 0 for v in history["teacher"][:2]) and history["teacher"][2:] == [0.0, 0.0]
    assert history["style"][:2] == [0.0, 0.0] and all(v > 0 for v in history["style"][2:])
    assert list((job.run_dir / "teacher").iterdir()), "painted photos are kept with the run"


def test_a_teacher_anchor_keeps_the_pixel_term_on_beside_the_gram_terms(
    tiny_job: JobFactory,
) -> None:
    recipe = _recipe(iters=4, distill_iters=2, distill_batch=2).with_overrides(
        **{"weights.teacher": 5.0}
    )
    trainer = Trainer(tiny_job(recipe))
    trainer.fit()
    history = trainer.history
    assert all(v > 0 for v in history["teacher"]) and all(v > 0 for v in history["style"][2:])
    assert history["content"][2] > 0, "the content term still aims at the photo"


def test_the_locality_term_trains_only_where_it_is_weighted(tiny_job: JobFactory) -> None:
    for weight in (0.0, 500.0):
        trainer = Trainer(tiny_job(_recipe(iters=2).with_overrides(**{"weights.local": weight})))
        trainer.fit()
        assert all((v > 0) == (weight > 0) for v in trainer.history["local"])


def test_ramped_stability_terms_start_after_the_teacher_start(tiny_job: JobFactory) -> None:
    recipe = _recipe(iters=5, distill_iters=2, distill_batch=2, stability_ramp_iters=2)
    trainer = Trainer(tiny_job(recipe))
    trainer.fit()
    noise = trainer.history["noise"]
    assert noise[:3] == [0.0, 0.0, 0.0], "no terms in the teacher start, none at the ramp's zero"
    assert all(v > 0 for v in noise[3:])


def test_a_teacher_start_can_train_the_stability_terms_too(tiny_job: JobFactory) -> None:
    plain = _recipe(iters=2, distill_iters=2, distill_batch=2)
    for recipe, trained in ((plain, False), (plain.with_overrides(distill_stability=True), True)):
        trainer = Trainer(tiny_job(recipe))
        trainer.fit()
        history = trainer.history
        assert all(v > 0 for v in history["teacher"]) and history["style"] == [0.0, 0.0]
        assert all((v > 0) == trained for v in history["noise"] + history["motion"])


def test_painted_photos_kept_with_the_run_need_no_peer(
    tiny_job: JobFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run folder carried to a machine without the peer (a lent GPU) trains from its
    ``teacher/`` folder; a photo missing there would need the peer."""
    recipe = _recipe(iters=2, distill_iters=2, distill_batch=2, content_target="teacher")
    job = tiny_job(recipe)
    first = Trainer(job).painted[0]

    def no_peer(max_size: int) -> None:
        raise ArtistoError("no peer here")

    monkeypatch.setattr(teacher, "_peer", no_peer)
    again = Trainer(job).painted[0]
    assert [a.tobytes() for a in again] == [f.tobytes() for f in first]
    next(iter((job.run_dir / "teacher").rglob("*.png"))).unlink()
    with pytest.raises(ArtistoError, match="no peer here"):
        Trainer(job)
