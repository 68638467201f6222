"""Train several catalog styles at once on one GPU for a fixed time; pack the runs to carry back.

    python -m training.tools.batch --data B/data --cache B/cache --runs B/runs --device cuda \\
        --recipe training/tools/gpu.toml --minutes 8 --ablation starry_night,great_wave --out "$OUT"

Each run trains in its own process: a small generator at batch 4 leaves a large GPU mostly
idle. At the deadline every run checkpoints and stops. The runs' checkpoints, recipes, loss
curves and latest sample sheets are packed into tar files of at most 16 MiB under ``--out``
(the device tool brings back eight such files). Unpacked into a runs folder, a later call
resumes them; on this machine
``python -m training.tools.ship --runs RUNS --recipe training/tools/gpu.toml`` finishes,
evaluates and installs each style (a finished run only exports).
"""

from __future__ import annotations

import argparse
import logging
import os
import tarfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import torch

from artisto.errors import ArtistoError
from training.catalog import ABLATION_SUFFIX, CatalogEntry, catalog_job, read_catalog, select
from training.checkpoint import CHECKPOINT_FILE
from training.recipe import Recipe
from training.train import Trainer

log = logging.getLogger(__name__)

PACKED_FILES = (CHECKPOINT_FILE, "recipe.toml", "losses.png")
TAR_LIMIT = 16 * 2**20
MAX_TARS = 8
TAR_OVERHEAD = 1024 + tarfile.RECORDSIZE
"""The end-of-archive blocks, and the padding of the archive to whole records at most."""


@dataclass(frozen=True)
class RunSpec:
    """One run folder to train: a catalog style, or its twin without the stability terms."""

    run: str
    entry: CatalogEntry
    recipe: Recipe


@dataclass(frozen=True)
class RunResult:
    run: str
    iteration: int
    steps: int
    """Iterations trained in this call."""
    finished: bool
    seconds: float


def plan_runs(entries: list[CatalogEntry], base: Recipe, ablation: set[str]) -> list[RunSpec]:
    """Each entry's run with its catalog recipe, and the twins of those named in ``ablation``."""
    specs = []
    for entry in entries:
        recipe = entry.recipe_over(base)
        specs.append(RunSpec(entry.name, entry, recipe))
        if entry.name in ablation:
            twin = recipe.with_overrides(stability_on=False)
            specs.append(RunSpec(entry.name + ABLATION_SUFFIX, entry, twin))
    return specs


def train_until(
    spec: RunSpec, *, data: Path, cache: Path, runs: Path, device: str, stop_at: float, threads: int
) -> RunResult:
    """Resume or start ``spec``'s run and train it until it ends or ``stop_at`` passes."""
    torch.set_num_threads(threads)
    started = time.monotonic()
    job = catalog_job(
        spec.entry, runs / spec.run, spec.recipe, data=data, cache=cache, device=device
    )
    job.show_progress = False
    trainer = Trainer(job)
    if trainer.checkpoint_path.is_file():
        trainer.load_checkpoint()
    job.resume = False
    resumed_at = trainer.start_iter
    finished = trainer.fit(stop_at)
    iteration = len(trainer.history["iter"])
    steps = iteration - resumed_at
    return RunResult(spec.run, iteration, steps, finished, time.monotonic() - started)


def train_all(
    specs: list[RunSpec], *, data: Path, cache: Path, runs: Path, device: str, stop_at: float
) -> list[RunResult | BaseException]:
    """Every run in its own process at once, each with an equal share of the CPU threads; a
    run that fails gives its exception in its place, and the others go on."""
    threads = max(1, (os.cpu_count() or 1) // len(specs))
    context = get_context("spawn")  # CUDA cannot be used in a forked child
    with ProcessPoolExecutor(len(specs), mp_context=context) as pool:
        work = partial(
            train_until, data=data, cache=cache, runs=runs, device=device,
            stop_at=stop_at, threads=threads,
        )  # fmt: skip
        futures = [pool.submit(work, spec) for spec in specs]
        return [future.exception() or future.result() for future in futures]


def pack_runs(runs: Path, out: Path, limit: int = TAR_LIMIT) -> list[Path]:
    """Tar each run folder's checkpoint, recipe, loss curves and latest sample sheet into as
    few files of at most ``limit`` bytes as fit; member names are ``RUN/FILE``."""
    bins: list[list[tuple[Path, str]]] = []
    sizes: list[int] = []
    for run_dir in sorted(p for p in runs.iterdir() if (p / CHECKPOINT_FILE).is_file()):
        files = [run_dir / name for name in PACKED_FILES if (run_dir / name).is_file()]
        files += sorted((run_dir / "samples").glob("iter_*.jpg"))[-1:]
        members = [(f, f"{run_dir.name}/{f.relative_to(run_dir)}") for f in files]
        size = sum(_member_bytes(f) for f in files)
        if size + TAR_OVERHEAD > limit:
            raise ArtistoError(f"run {run_dir.name} packs to {size} bytes, over {limit}")
        slot = next(
            (i for i, used in enumerate(sizes) if used + size + TAR_OVERHEAD <= limit), None
        )
        if slot is None:
            bins.append([])
            sizes.append(0)
            slot = len(bins) - 1
        bins[slot] += members
        sizes[slot] += size
    if len(bins) > MAX_TARS:
        raise ArtistoError(f"the runs need {len(bins)} files of {limit} bytes, over {MAX_TARS}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for number, members in enumerate(bins, start=1):
        target = out / f"runs-{number}.tar"
        with tarfile.open(target, "w") as tar:
            for path, name in members:
                tar.add(path, arcname=name)
        written.append(target)
    return written


def _member_bytes(path: Path) -> int:
    """A file's share of a tar: a 512-byte header and its content padded to 512 bytes."""
    return 512 + -(-path.stat().st_size // 512) * 512


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.tools.batch", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="data folder (see bundle)")
    parser.add_argument("--cache", type=Path, required=True, help="VGG16 cache folder")
    parser.add_argument("--runs", type=Path, required=True, help="run folders (resumed)")
    parser.add_argument("--out", type=Path, required=True, help="where the tar files go")
    parser.add_argument("--recipe", type=Path, help="base recipe (TOML)")
    parser.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    parser.add_argument("--minutes", type=float, required=True, help="training time")
    parser.add_argument("--only", help="comma-separated style names (default: all)")
    parser.add_argument("--ablation", default="", help="styles to train a twin of, too")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop_at = time.time() + args.minutes * 60
    try:
        entries = select(read_catalog(), args.only)
        twins = select(entries, args.ablation) if args.ablation else []
    except ArtistoError as exc:
        parser.error(str(exc))
    base = Recipe.load(args.recipe) if args.recipe else Recipe()
    specs = plan_runs(entries, base, {e.name for e in twins})
    results = train_all(
        specs, data=args.data, cache=args.cache, runs=args.runs, device=args.device,
        stop_at=stop_at,
    )  # fmt: skip
    for spec, r in zip(specs, results, strict=True):
        if isinstance(r, BaseException):
            log.error("batch.failed run=%s error=%r", spec.run, r)
            continue
        log.info(
            "batch.run run=%s iteration=%d finished=%s it_per_s=%.2f",
            r.run, r.iteration, r.finished, r.steps / max(r.seconds, 1e-9),
        )  # fmt: skip
    for path in pack_runs(args.runs, args.out):
        log.info("batch.packed path=%s bytes=%d", path, path.stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
