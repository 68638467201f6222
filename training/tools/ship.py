"""Train, evaluate and install the shipped styles of ``training/catalog.toml``.

Runs resume from their checkpoints, so the command can be stopped and started again::

    python -m training.tools.ship --runs ~/artisto-runs                 # every style, in order
    python -m training.tools.ship --only great_wave --ablation         # and its no-stability twin

Each finished style is evaluated (``artisto eval``'s figures) and copied into
``inference/styles/NAME`` unless the style installed there scores at least as strong. With
``--ablation``, the same recipe without the stability terms is trained too, and its noise
flicker is written beside the stabilized one.

A CPU run outlives a working session, and only the repository outlives the machine: ``--park``
copies the checkpoint of every unfinished run (a style not installed, an ablation twin not
recorded) into ``training/parked/NAME.pt`` (about 5 MB each: weights, optimizer state, loss
history, random states), to commit; a run folder without a checkpoint starts from its parked
one. Installing a style deletes its parked checkpoints. An installed style whose run is gone
(an earlier session's) is not trained again: ``--ablation`` then trains only its twin, with
the recipe the style was trained with.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from artisto.errors import ArtistoError
from inference.registry import SHIPPED_STYLES_DIR, StylePack, load_pack, update_metrics
from training.catalog import ABLATION_SUFFIX, CatalogEntry, catalog_job, read_catalog, select
from training.checkpoint import CHECKPOINT_FILE
from training.data import SHARED_DATA, pick_validation
from training.evaluate import evaluate, torch_generator
from training.export import SUMMARY_ONLY_KEYS
from training.measure import Measurement
from training.recipe import Recipe
from training.train import TrainJob, train

log = logging.getLogger(__name__)

PARKED_DIR = Path(__file__).resolve().parents[1] / "parked"
"""``training/parked/``: unfinished runs, committed so that another machine can resume them."""
UNSTABILIZED_METRIC = "noise_flicker_unstabilized"


def stability(pack: StylePack, data: Path) -> dict[str, float]:
    """A twin's figures: stability only (it is never installed)."""
    photos = pick_validation(data / "photos" / "val", 8)
    generator = torch_generator(pack.build_generator())
    clip = data / "videos" / "vtest.mp4"
    return evaluate(generator, photos, clip=clip if clip.is_file() else None).as_metrics()


def install_if_stronger(
    pack: StylePack, measurement: Measurement, shipped: Path = SHIPPED_STYLES_DIR
) -> bool:
    """Copy ``pack`` over the installed style of its name unless that one scores at least
    as strong: a shipped style is kept until a retrained one beats it on the style score."""
    target = shipped / pack.name
    score = None
    if target.is_dir():
        score = installed_score(load_pack(target), pack, measurement)
        if score <= pack.meta.metrics["style_score"]:
            log.info("ship.kept style=%s installed=%.3f new=%.3f", pack.name, score,
                     pack.meta.metrics["style_score"])  # fmt: skip
            return False
    staging = shipped / f".{pack.name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(pack.path, staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    load_pack(target)
    replaced = "-" if score is None else f"{score:.3f}"
    log.info("ship.installed style=%s path=%s new=%.3f replaced=%s", pack.name, target,
             pack.meta.metrics["style_score"], replaced)  # fmt: skip
    return True


def installed_score(installed: StylePack, pack: StylePack, measurement: Measurement) -> float:
    """The installed style's score to set against ``pack``'s: its recorded one where both were
    trained on the same preparation of the painting, else its score against ``pack``'s (a
    larger or other crop of the painting is a harder or easier reference)."""
    reference = _rgb(pack.style_image_path)
    same = np.array_equal(np.asarray(reference), np.asarray(_rgb(installed.style_image_path)))
    if not same:
        return measurement.score_against(installed, reference)
    score = installed.meta.metrics.get("style_score")
    if score is None:
        score = measurement.pack(installed)["style_score"]
        update_metrics(installed.path, {"style_score": score})
    return score


def _rgb(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def trained_recipe(pack: StylePack) -> Recipe:
    """The recipe a pack was trained with, as its ``style.toml`` records it."""
    return Recipe.from_dict(
        {k: v for k, v in pack.meta.recipe.items() if k not in SUMMARY_ONLY_KEYS}
    )


def park(runs: Path, run_names: list[str], parked: Path = PARKED_DIR) -> list[Path]:
    """Copy the checkpoints of the named run folders under ``runs`` that have one."""
    copied = []
    for run in run_names:
        checkpoint = runs / run / CHECKPOINT_FILE
        if checkpoint.is_file():
            parked.mkdir(parents=True, exist_ok=True)
            target = parked / f"{run}.pt"
            shutil.copyfile(checkpoint, target)
            copied.append(target)
    return copied


def unfinished_runs(entries: list[CatalogEntry], shipped: Path = SHIPPED_STYLES_DIR) -> list[str]:
    """Runs still to finish: styles not installed, and their twins; the twins of installed
    styles whose no-stability figure is missing."""
    runs = []
    for entry in entries:
        twin = entry.name + ABLATION_SUFFIX
        if not (shipped / entry.name).is_dir():
            runs += [entry.name, twin]
        elif UNSTABILIZED_METRIC not in load_pack(shipped / entry.name).meta.metrics:
            runs.append(twin)
    return runs


def unpark(run_dir: Path, parked: Path = PARKED_DIR) -> bool:
    """Start a run folder that has no checkpoint from its parked one, if there is one."""
    source = parked / f"{run_dir.name}.pt"
    checkpoint = run_dir / CHECKPOINT_FILE
    if checkpoint.is_file() or not source.is_file():
        return False
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, checkpoint)
    log.info("ship.unparked run=%s from=%s", run_dir.name, source)
    return True


def needs_training(
    name: str, runs: Path, shipped: Path = SHIPPED_STYLES_DIR, parked: Path = PARKED_DIR
) -> bool:
    """Whether style ``name`` has a run to start or finish; an installed style whose run
    folder and parked checkpoint are both gone is finished."""
    has_run = (runs / name / CHECKPOINT_FILE).is_file() or (parked / f"{name}.pt").is_file()
    return has_run or not (shipped / name).is_dir()


def ship_style(entry: CatalogEntry, args: argparse.Namespace) -> None:
    data: Path = args.data
    base = Recipe.load(args.recipe) if args.recipe else Recipe()
    recipe = entry.recipe_over(base).with_overrides(iters=args.iters)

    def job(name: str, recipe: Recipe) -> TrainJob:
        run_dir = args.runs / name
        unpark(run_dir)
        return catalog_job(entry, run_dir, recipe, data=data, cache=args.cache, device=args.device)

    fresh = needs_training(entry.name, args.runs)
    measurement = Measurement(cache_dir=args.cache, data=data, ceiling=args.ceiling)
    if fresh:
        (pack,) = train(job(entry.name, recipe))
        metrics = measurement.pack(pack)
    else:
        pack = load_pack(SHIPPED_STYLES_DIR / entry.name)
        recipe = trained_recipe(pack)  # its twin must match what shipped, not today's defaults
        metrics = dict(pack.meta.metrics)
        log.info("ship.kept style=%s path=%s", entry.name, pack.path)
        if not args.ablation:
            return  # nothing to train, evaluate or install
    if args.ablation:
        twin_recipe = recipe.with_overrides(stability_on=False)
        (twin,) = train(job(entry.name + ABLATION_SUFFIX, twin_recipe))
        twin_metrics = stability(twin, data)
        update_metrics(twin.path, twin_metrics)
        metrics[UNSTABILIZED_METRIC] = twin_metrics["noise_flicker"]
        metrics["warp_error_unstabilized"] = twin_metrics["warp_error"]
    pack = update_metrics(pack.path, metrics)
    log.info("ship.evaluated style=%s metrics=%s", entry.name, metrics)
    if args.install and fresh:
        install_if_stronger(pack, measurement)
    if args.install:
        finished = [entry.name, entry.name + ABLATION_SUFFIX] if args.ablation else [entry.name]
        for run in finished:
            (PARKED_DIR / f"{run}.pt").unlink(missing_ok=True)


def add_run_options(parser: argparse.ArgumentParser, only_help: str) -> None:
    """The options the ship and together tools share: where runs, data and caches are, which
    styles, the recipe and device, the ablation twins and whether to install."""
    parser.add_argument("--runs", type=Path, default=Path("data/runs"), help="run folders")
    parser.add_argument("--cache", type=Path, default=Path("data/cache"), help="VGG16 cache")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="shared data folder")
    parser.add_argument("--only", help=only_help)
    parser.add_argument("--iters", type=int, help="override the recipe's iterations")
    parser.add_argument("--recipe", type=Path, help="base recipe (TOML)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--ablation", action="store_true", help="also train without stability")
    parser.add_argument("--no-install", dest="install", action="store_false")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.tools.ship", description=__doc__)
    add_run_options(parser, only_help="comma-separated style names")
    parser.add_argument(
        "--no-ceiling",
        dest="ceiling",
        action="store_false",
        help="leave the Gatys ceiling out (minutes a painting on a CPU); artisto eval adds it",
    )
    parser.add_argument(
        "--park",
        action="store_true",
        help=f"copy unfinished runs' checkpoints into {PARKED_DIR.parent.name}/{PARKED_DIR.name}/ "
        "and exit",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    entries = read_catalog()
    try:
        entries = select(entries, args.only)
    except ArtistoError as exc:
        parser.error(str(exc))
    if args.park:
        for path in park(args.runs, unfinished_runs(entries)):
            log.info("ship.parked path=%s", path)
        return 0
    for entry in entries:
        ship_style(entry, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
