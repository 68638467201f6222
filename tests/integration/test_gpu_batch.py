"""The GPU retraining path on the CPU: a compact bundle, parallel runs to a deadline, packed
runs that unpack and resume, and nothing imported that the GPU machine's image lacks."""

from __future__ import annotations

import csv
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from artisto.errors import ArtistoError
from tests.fixtures_images import write_noise_image
from training.catalog import CatalogEntry, catalog_job
from training.checkpoint import CHECKPOINT_FILE
from training.data import TRAIN_PHOTO_SIDE, load_photo, to_tensor
from training.recipe import Recipe
from training.tools import bundle
from training.tools.batch import RunResult, RunSpec, pack_runs, plan_runs, train_all
from training.tools.bundle import CARRY_BUDGET, write_bundle
from training.train import Trainer
from training.vgg import VGG16Features
from training.vgg_weights import ensure_vgg16, load_vgg16_state

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "data" / "cache"
KITTEN = REPO.parent / "shared" / "data" / "photos" / "val" / "gcompris_erase-kitten.jpg"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Shared data's layout: photos, two paintings, styles.csv."""
    root = tmp_path / "data"
    for i in range(3):
        write_noise_image(root / "photos" / "train" / f"photo{i}.png", (800, 600), i)
    for i in range(2):
        write_noise_image(root / "photos" / "val" / f"val{i}.jpg", (640, 480), 10 + i)
    write_noise_image(root / "styles" / "waves.jpg", (1600, 1200), 20)
    write_noise_image(root / "styles" / "unused.jpg", (300, 200), 21)
    with (root / "styles.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "title", "artist", "year"])
        writer.writerow(["waves.jpg", "Waves", "Somebody", "1830"])
        writer.writerow(["unused.jpg", "Unused", "Nobody", "1900"])
    return root


def test_the_bundle_holds_what_a_run_reads_in_little_room(data: Path, tmp_path: Path) -> None:
    ensure_vgg16(CACHE)
    entries = [CatalogEntry("waves", "waves.jpg", "🌊")]

    size = write_bundle(tmp_path / "bundle", data=data, cache=CACHE, entries=entries, wheels=False)

    out = tmp_path / "bundle" / "data"
    train = sorted((out / "photos" / "train").iterdir())
    assert [p.name for p in train] == ["photo0.jpg", "photo1.jpg", "photo2.jpg"]
    assert all(max(Image.open(p).size) == TRAIN_PHOTO_SIDE for p in train)
    assert [p.name for p in (out / "styles").iterdir()] == ["waves.jpg"]
    with (out / "styles.csv").open(encoding="utf-8") as handle:
        assert [row["file"] for row in csv.DictReader(handle)] == ["waves.jpg"]
    assert CatalogEntry("waves", "waves.jpg", "🌊").info(out).artist == "Somebody"
    assert size < CARRY_BUDGET

    full, compact = load_vgg16_state(CACHE), load_vgg16_state(tmp_path / "bundle" / "cache")
    assert {t.dtype for t in compact.values()} == {torch.float16}
    assert sum(t.numel() for t in compact.values()) < 0.55 * sum(t.numel() for t in full.values())
    layers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    photo = to_tensor(load_photo(KITTEN, 128)).unsqueeze(0)
    expected, got = VGG16Features(full, layers)(photo), VGG16Features(compact, layers)(photo)
    for layer in layers:
        error = (got[layer] - expected[layer]).abs().max() / expected[layer].abs().max()
        assert float(error) < 1e-2, layer


def test_a_bundle_over_the_carry_budget_is_refused(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_vgg16(CACHE)
    monkeypatch.setattr(bundle, "CARRY_BUDGET", 2**20)
    entries = [CatalogEntry("waves", "waves.jpg", "🌊")]
    with pytest.raises(ArtistoError, match=r"the bundle is \d+\.\d MiB, over 1 MiB"):
        write_bundle(tmp_path / "bundle", data=data, cache=CACHE, entries=entries, wheels=False)


def test_twins_are_planned_only_where_asked() -> None:
    entries = [
        CatalogEntry("a", "a.jpg", "🎨", {"weights": {"style": 15.0}}),
        CatalogEntry("b", "b.jpg", "🎨"),
    ]
    base = Recipe(size=256)

    specs = plan_runs(entries, base, {"a"})

    assert [s.run for s in specs] == ["a", "a_nostab", "b"]
    assert [s.recipe.stability_on for s in specs] == [True, False, True]
    assert {s.recipe.weights.style for s in specs[:2]} == {15.0}
    assert {s.recipe.size for s in specs} == {256}


def test_parallel_runs_stop_pack_and_resume_elsewhere(data: Path, tmp_path: Path) -> None:
    ensure_vgg16(CACHE)
    tiny = Recipe().with_overrides(
        size=32, batch=2, iters=3, width=4, residual_blocks=1, work_side=64, sample_every=2
    )
    entry = CatalogEntry("waves", "waves.jpg", "🌊")
    specs = plan_runs([entry], tiny, {"waves"})
    runs = tmp_path / "runs"

    first = train_all(specs, data=data, cache=CACHE, runs=runs, device="cpu", stop_at=1.0)

    assert [(r.run, r.iteration, r.finished) for r in _succeeded(first)] == [
        ("waves", 1, False),
        ("waves_nostab", 1, False),
    ], "a passed deadline stops each run after its first step, checkpointed"
    ghost = RunSpec("ghost", CatalogEntry("ghost", "missing.jpg", "👻"), tiny)
    second = train_all(
        [*specs, ghost], data=data, cache=CACHE, runs=runs, device="cpu",
        stop_at=time.time() + 600,
    )  # fmt: skip
    assert isinstance(second[2], FileNotFoundError), "a failing run fails alone"
    assert [(r.iteration, r.steps, r.finished) for r in _succeeded(second[:2])] == [
        (3, 2, True)
    ] * 2

    tars = pack_runs(runs, tmp_path / "out")
    elsewhere = tmp_path / "elsewhere"
    for path in tars:
        with tarfile.open(path) as tar:
            tar.extractall(elsewhere, filter="data")
    assert (elsewhere / "waves_nostab" / "samples" / "iter_000003.jpg").is_file()
    twin: RunSpec = specs[1]
    job = catalog_job(
        entry, elsewhere / twin.run, twin.recipe, data=data, cache=CACHE, device="cpu"
    )
    trainer = Trainer(job)
    assert trainer.fit(), "the unpacked run is finished: it resumes with no step left"
    assert trainer.history["iter"] == [1, 2, 3]
    assert not torch.load(elsewhere / "waves_nostab" / CHECKPOINT_FILE)["recipe"]["stability_on"]


def _succeeded(results: list[RunResult | BaseException]) -> list[RunResult]:
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, RunResult)]


def test_runs_pack_into_files_under_the_limit(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for name in ("a", "b", "c"):
        (runs / name).mkdir(parents=True)
        (runs / name / CHECKPOINT_FILE).write_bytes(bytes(6000))
        (runs / name / "recipe.toml").write_text("size = 32\n")
    (runs / "no-checkpoint").mkdir()

    tars = pack_runs(runs, tmp_path / "out", limit=30_000)

    members = []
    for path in tars:
        with tarfile.open(path) as tar:
            members.append(sorted(tar.getnames()))
    assert members == [
        ["a/checkpoint.pt", "a/recipe.toml", "b/checkpoint.pt", "b/recipe.toml"],
        ["c/checkpoint.pt", "c/recipe.toml"],
    ]
    assert all(p.stat().st_size <= 30_000 for p in tars)
    with pytest.raises(ArtistoError, match="packs to"):
        pack_runs(runs, tmp_path / "out", limit=15_000)
    for index in range(6):  # nine runs of one file each: one more than the tool brings back
        (runs / f"more{index}").mkdir()
        (runs / f"more{index}" / CHECKPOINT_FILE).write_bytes(bytes(6000))
    with pytest.raises(ArtistoError, match="need 9 files"):
        pack_runs(runs, tmp_path / "out", limit=20_000)


def test_the_gpu_side_imports_nothing_its_image_lacks() -> None:
    """The GPU machine's image has torch, Pillow, safetensors, tqdm and matplotlib, not PyAV
    or the bot's packages (tomli_w and pydantic travel as wheels in the bundle)."""
    code = "import sys, training.tools.batch; print(' '.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    loaded = {name.split(".")[0] for name in result.stdout.split()}
    assert not loaded & {"av", "aiogram", "sqlalchemy", "pydantic_settings"}
