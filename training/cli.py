"""``artisto train`` and ``artisto eval``: argument handling around the training package."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch
from PIL import Image

from artisto.errors import ArtistoError
from inference.photo import BatchStylizer
from training.catalog import painting_info
from training.checkpoint import CHECKPOINT_FILE, load_run_nets
from training.data import SHARED_DATA, image_files
from training.evaluate import evaluate, torch_generator
from training.recipe import Recipe, RecipeError
from training.style_eval import (
    gatys_ceiling,
    product_pairs,
    report_photos,
    style_report,
    torch_stylizer,
)
from training.style_strength import STYLE_LAYERS
from training.train import Painting, TrainJob, pick_validation, train
from training.vgg import VGG16Features
from training.vgg_weights import load_vgg16_state

log = logging.getLogger(__name__)


def _default_data(sub: str) -> Path:
    return SHARED_DATA / sub


def _parse_crop(text: str | None) -> tuple[float, float, float, float] | None:
    """``--style-crop``'s four numbers; the recipe's ``StylePrep`` checks they fit the painting."""
    if text is None:
        return None
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise RecipeError(f"--style-crop takes x,y,w,h fractions, got {text!r}") from None
    return (x, y, w, h)


def train_command(args: argparse.Namespace, cache_dir: Path) -> int:
    if not args.name.replace("_", "").isalnum() or not args.name.islower():
        raise ArtistoError(f"style name {args.name!r}: use lowercase letters, digits and _")
    recipe = Recipe.load(args.recipe) if args.recipe else Recipe()
    recipe = recipe.with_overrides(
        size=args.size,
        batch=args.batch,
        iters=args.iters,
        width=args.width,
        seed=args.seed,
        stability_on=False if args.no_stability else None,
        **{
            "style_prep.scale": args.style_scale,
            "style_prep.crop": _parse_crop(args.style_crop),
            "style_prep.colour": args.style_colour,
        },
    )
    device = args.device or "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ArtistoError("--device cuda: no CUDA device is available here")
    data_dir = args.data or _default_data("photos/train")
    val_dir = args.val or _default_data("photos/val")
    for folder in (data_dir, val_dir):
        if not folder.is_dir():
            raise ArtistoError(f"no such folder: {folder}")
    run_dir = args.run_dir or cache_dir.parent / "runs" / args.name
    pack_dir = args.out or run_dir / "pack"
    painting = Painting(
        name=args.name,
        image=args.style_image,
        pack_dir=pack_dir,
        info=painting_info(args.style_image.parent.parent, args.style_image.name),
    )
    job = TrainJob(
        name=args.name,
        paintings=(painting,),
        data_dir=data_dir,
        val_dir=val_dir,
        run_dir=run_dir,
        cache_dir=cache_dir,
        recipe=recipe,
        device=device,
        resume=args.resume,
    )
    (pack,) = train(job)
    print(f"style pack written to {pack.path}")
    return 0


def eval_command(args: argparse.Namespace, styles_dir: Path | None, cache_dir: Path) -> int:
    """Measure a style pack (figures written into its style.toml), or each style of a run
    folder's current checkpoint (figures printed: a run in progress has no pack yet)."""
    from inference.cli import photo_generator
    from inference.registry import StyleRegistry, load_pack, update_metrics

    candidate = Path(args.style)
    if (candidate / CHECKPOINT_FILE).is_file() and not (candidate / "style.toml").is_file():
        nets, iteration = load_run_nets(candidate)
        print(f"run {candidate} at iteration {iteration}")
        recipe = Recipe.load(candidate / "recipe.toml")
        for name, net in nets.items():
            painting = candidate / ("style.jpg" if len(nets) == 1 else f"style-{name}.jpg")
            print(name)
            measure = _Measure(args, cache_dir, torch_stylizer(net), recipe.work_side)
            _print(measure.all(net, Image.open(painting).convert("RGB")))
        return 0
    pack = (
        load_pack(candidate)
        if candidate.is_dir()
        else StyleRegistry.discover(styles_dir).get(args.style)
    )
    stylizer = photo_generator(pack, "cpu", cache_dir)
    measure = _Measure(args, cache_dir, stylizer, pack.meta.work_side)
    reference = Image.open(pack.style_image_path).convert("RGB")
    metrics = measure.all(pack.build_generator(), reference)
    _print(metrics)
    if not args.no_write:
        update_metrics(pack.path, metrics)
        print(f"written to {pack.path / 'style.toml'}")
    return 0


class _Measure:
    """Stability (torch, at ``--size``) and strength (the product's photo path) of one style."""

    def __init__(
        self, args: argparse.Namespace, cache_dir: Path, stylizer: BatchStylizer, work: int | None
    ) -> None:
        self.data: Path = args.data or SHARED_DATA
        self.val: Path = args.val or self.data / "photos" / "val"
        self.video: Path = args.video or self.data / "videos" / "vtest.mp4"
        self.photos = image_files(args.photos) if args.photos else report_photos(self.data)
        self.size: int = args.size
        self.ceiling = not args.no_ceiling
        self.cache_dir = cache_dir
        self.stylizer = stylizer
        self.work_side = work

    def all(self, net: torch.nn.Module, reference: Image.Image) -> dict[str, float]:
        report = evaluate(
            torch_generator(net),
            pick_validation(self.val, 8),
            size=self.size,
            clip=self.video if self.video.is_file() else None,
        )
        vgg = VGG16Features(load_vgg16_state(self.cache_dir), STYLE_LAYERS)
        ceiling = None
        if self.ceiling:
            ceiling = gatys_ceiling(vgg, reference, self.data, self.cache_dir, progress=log.info)
        pairs = product_pairs(self.photos, self.stylizer, self.work_side)
        strength = style_report(vgg, reference, pairs, ceiling)
        return strength.as_metrics() | report.as_metrics()


def _print(metrics: dict[str, float]) -> None:
    width = max(map(len, metrics))
    for key, value in metrics.items():
        print(f"{key:<{width}}  {value:.3f}")
