"""Short comparable recipe runs, scored as they go: the runs table of ``training/README.md``.

    python -m training.tools.probe RUN --style starry_night --iters 2100 --score-every 300 \\
        --set weights.noise=3000.0 --set 'style_loss="score"' --set 'crop_scale=[0.8, 1.25]'

The painting, its crop and its scale come from the catalog entry; each ``--set KEY=VALUE``
overrides one recipe key (dotted keys reach into sections; the value is TOML, so strings take
quotes). Every ``--score-every`` iterations the generator paints the photos of ``photos/val``
through the product's photo path at the recipe's work size, and the style score (the
``artisto eval`` measure, against the painting as trained) goes as one JSON line to
``RUNS/RUN/scores.jsonl`` with the step time; ``score_N.jpg`` shows four of the outputs,
and ``checkpoint_N.pt`` keeps the generator there for a run that branches off
(``--branch-from``: a new run takes that generator and optimizer on with a recipe of its
own). At the end (``--iters``, or ``--until``) the stability figures (noise flicker,
warping error, the ``vtest`` clip's background flicker) and the face check (the validation
photos and ``content/brad_pitt.jpg``) are added. Run the same command with a larger
``--iters`` to go on.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

from PIL import Image

from artisto.errors import ArtistoError
from training.catalog import catalog_job, read_catalog, select
from training.data import SHARED_DATA, image_files, pick_validation
from training.evaluate import evaluate, torch_generator
from training.faces import face_check
from training.recipe import Recipe
from training.style_eval import product_pairs, torch_stylizer
from training.style_strength import STYLE_LAYERS, StyleMeter
from training.tools.sheet import fit_cell
from training.train import Trainer
from training.vgg import VGG16Features
from training.vgg_weights import load_vgg16_state

log = logging.getLogger(__name__)

SHEET_CELL = 256
SCORES_FILE = "scores.jsonl"
PORTRAIT = "brad_pitt.jpg"
"""A large face (``content/``), added to the validation photos for the face check."""


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with a TOML value: ``weights.noise=3000.0``, ``style_loss="score"``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ArtistoError(f"--set takes KEY=VALUE, got {text!r}")
    try:
        parsed = tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        raise ArtistoError(f"--set {key}: {value!r} is not a TOML value") from None
    return key.strip(), parsed


class Probe:
    """One run and its meter: train to a mark, score, repeat."""

    def __init__(
        self,
        trainer: Trainer,
        val: list[Path],
        portraits: list[Path],
        cache: Path,
        clip: Path,
        branch_from: Path | None = None,
    ) -> None:
        self.trainer = trainer
        self.val = val
        self.portraits = portraits
        self.clip = clip
        vgg = VGG16Features(load_vgg16_state(cache), STYLE_LAYERS)
        self.meter = StyleMeter(vgg, trainer.style_images[0])
        self.scores = trainer.job.run_dir / SCORES_FILE
        if trainer.checkpoint_path.is_file():
            trainer.load_checkpoint()
        elif branch_from is not None:
            trainer.load_checkpoint(branch_from, branch=True)
        trainer.job.resume = False

    def train_to(self, iteration: int) -> float:
        """Seconds per iteration of this stretch (0: the run was already there)."""
        trainer = self.trainer
        start = trainer.start_iter
        if start >= iteration:
            return 0.0
        began = time.monotonic()
        trainer.fit(until=iteration)
        return (time.monotonic() - began) / (iteration - start)

    def score(self, iteration: int, seconds_per_iter: float, final: bool) -> dict[str, Any]:
        net = self.trainer.style_net(0)
        work_side = self.trainer.recipe.work_side
        pairs = product_pairs(self.val, torch_stylizer(net), work_side)
        line: dict[str, Any] = {
            "iteration": iteration,
            "s_per_it": round(seconds_per_iter, 3),
            "style": round(self.meter.score(pairs), 4),
        }
        if final:
            stability = evaluate(
                torch_generator(net),
                pick_validation(self.val[0].parent, 8),
                clip=self.clip if self.clip.is_file() else None,
            )
            line.update(stability.as_metrics())
            portraits = product_pairs(self.portraits, torch_stylizer(net), work_side)
            line["faces_kept"] = face_check([*portraits, *pairs]).kept
        self.trainer.net.train()
        with self.scores.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        sheet = [fit_cell(image, SHEET_CELL) for pair in pairs[:4] for image in pair]
        canvas = Image.new("RGB", (SHEET_CELL * len(sheet), SHEET_CELL), "white")
        for index, cell in enumerate(sheet):
            canvas.paste(cell, (index * SHEET_CELL, 0))
        canvas.save(self.trainer.job.run_dir / f"score_{iteration}.jpg", quality=88)
        run_dir = self.trainer.job.run_dir
        shutil.copyfile(self.trainer.checkpoint_path, run_dir / f"checkpoint_{iteration}.pt")
        return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run")
    parser.add_argument("--style", required=True, help="a catalog entry's name")
    parser.add_argument("--iters", type=int, required=True)
    parser.add_argument("--score-every", type=int, default=300)
    parser.add_argument(
        "--until", type=int, help="stop at this iteration (the schedule stays the recipe's)"
    )
    parser.add_argument(
        "--branch-from",
        type=Path,
        help="start a new run from another run's checkpoint_N.pt, with this recipe",
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], type=parse_override)
    parser.add_argument("--recipe", type=Path, help="a recipe file under the overrides")
    parser.add_argument("--runs", type=Path, default=Path("data/runs/probe"))
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--cache", type=Path, default=Path("data/cache"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    (entry,) = select(read_catalog(), args.style)
    base = Recipe.load(args.recipe) if args.recipe else Recipe()
    recipe = entry.recipe_over(base).with_overrides(**dict(args.overrides), iters=args.iters)
    job = catalog_job(
        entry, args.runs / args.run, recipe, data=args.data, cache=args.cache, device="cpu"
    )
    job.show_progress = False
    val = image_files(args.data / "photos" / "val")
    portraits = [p for p in (args.data / "content" / PORTRAIT,) if p.is_file()]
    clip = args.data / "videos" / "vtest.mp4"
    probe = Probe(Trainer(job), val, portraits, args.cache, clip, args.branch_from)
    end = min(args.until or args.iters, args.iters)
    marks = [*range(args.score_every, end, args.score_every), end]
    for mark in marks:
        seconds = probe.train_to(mark)
        if seconds:
            line = probe.score(mark, seconds, final=mark == end)
            log.info("probe %s %s", args.run, line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
