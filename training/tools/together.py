"""Train the catalog's styles in one shared network, evaluate each and install the stronger.

    python -m training.tools.together RUN --recipe RECIPE.toml [--only a,b] [--ablation]
    python -m training.tools.together RUN --park       # commit the unfinished checkpoint

Every convolution is shared (conditional instance norm, ``training/multistyle.py``): each step
trains all paintings, so on a CPU eight styles get as many updates of their convolutions as
one would alone. A catalog entry may give its painting its own crop and scale
(``style_prep``); any other recipe override needs a network of its own (``ship``).

The run resumes from ``RUNS/RUN`` or from ``training/parked/RUN.pt``. When it is finished,
each painting's pack is measured (``artisto eval``'s figures) and installed in place of the
shipped style of its name unless that one scores at least as strong. ``--ablation`` also
trains the shared network without the stability terms (``RUN_nostab``) and records each
painting's unstabilized noise flicker beside its own.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from artisto.errors import ArtistoError
from inference.registry import SHIPPED_STYLES_DIR, StylePack, update_metrics
from training.catalog import ABLATION_SUFFIX, CatalogEntry, read_catalog, select
from training.measure import Measurement
from training.recipe import Recipe
from training.tools.ship import (
    PARKED_DIR,
    UNSTABILIZED_METRIC,
    add_run_options,
    install_if_stronger,
    park,
    stability,
    unpark,
)
from training.train import Painting, TrainJob, train

log = logging.getLogger(__name__)


def shared_job(
    run: str, entries: list[CatalogEntry], base: Recipe, args: argparse.Namespace
) -> TrainJob:
    """One run over the entries' paintings, each with its own ``style_prep``."""
    data: Path = args.data
    run_dir: Path = args.runs / run
    paintings = []
    for entry in entries:
        own = entry.recipe_over(base)
        if own.model_copy(update={"style_prep": base.style_prep}) != base:
            raise ArtistoError(
                f"{entry.name}: a shared network takes only style_prep from the catalog;"
                " train this style alone (python -m training.tools.ship)"
            )
        paintings.append(
            Painting(
                name=entry.name,
                image=data / "styles" / entry.painting,
                pack_dir=run_dir / "packs" / entry.name,
                info=entry.info(data),
                prep=own.style_prep,
            )
        )
    unpark(run_dir)
    return TrainJob(
        name=run,
        paintings=tuple(paintings),
        data_dir=data / "photos" / "train",
        val_dir=data / "photos" / "val",
        run_dir=run_dir,
        cache_dir=args.cache,
        recipe=base,
        device=args.device,
        resume=True,
    )


def ship_together(
    entries: list[CatalogEntry],
    args: argparse.Namespace,
    measurement: Measurement,
    shipped: Path = SHIPPED_STYLES_DIR,
) -> list[StylePack]:
    """Train (or resume) the shared run, measure each painting's pack, install the stronger."""
    base = (Recipe.load(args.recipe) if args.recipe else Recipe()).with_overrides(iters=args.iters)
    packs = train(shared_job(args.run, entries, base, args))
    twins: dict[str, dict[str, float]] = {}
    if args.ablation:
        unstable = base.with_overrides(stability_on=False)
        for twin in train(shared_job(args.run + ABLATION_SUFFIX, entries, unstable, args)):
            twins[twin.name] = stability(twin, args.data)
    measured = []
    for pack in packs:
        metrics = measurement.pack(pack)
        if pack.name in twins:
            metrics[UNSTABILIZED_METRIC] = twins[pack.name]["noise_flicker"]
            metrics["warp_error_unstabilized"] = twins[pack.name]["warp_error"]
        pack = update_metrics(pack.path, metrics)
        log.info("together.evaluated style=%s metrics=%s", pack.name, metrics)
        if args.install:
            install_if_stronger(pack, measurement, shipped)
        measured.append(pack)
    if args.install:
        for run in (args.run, args.run + ABLATION_SUFFIX):
            (PARKED_DIR / f"{run}.pt").unlink(missing_ok=True)
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.tools.together", description=__doc__)
    parser.add_argument("run", help="the shared run's name (its folder under --runs)")
    add_run_options(parser, only_help="comma-separated style names (default: the catalog)")
    parser.add_argument("--park", action="store_true", help="park the run's checkpoints and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        entries = select(read_catalog(), args.only)
    except ArtistoError as exc:
        parser.error(str(exc))
    if args.park:
        for path in park(args.runs, [args.run, args.run + ABLATION_SUFFIX]):
            log.info("together.parked path=%s", path)
        return 0
    ship_together(entries, args, Measurement(cache_dir=args.cache, data=args.data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
