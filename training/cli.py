"""``artisto train`` and ``artisto eval``: argument handling around the training package."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

from artisto.errors import ArtistoError
from training.catalog import painting_info
from training.checkpoint import CHECKPOINT_FILE, load_run_nets
from training.data import SHARED_DATA
from training.measure import Measurement
from training.recipe import Recipe, RecipeError
from training.style_eval import torch_stylizer
from training.train import Painting, TrainJob, train


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
    from inference.registry import StyleRegistry, load_pack, update_metrics

    measurement = Measurement(
        cache_dir=cache_dir,
        data=args.data or SHARED_DATA,
        photos=args.photos,
        val=args.val,
        video=args.video,
        size=args.size,
        ceiling=not args.no_ceiling,
    )
    candidate = Path(args.style)
    if (candidate / CHECKPOINT_FILE).is_file() and not (candidate / "style.toml").is_file():
        nets, iteration = load_run_nets(candidate)
        print(f"run {candidate} at iteration {iteration}")
        work_side = Recipe.load(candidate / "recipe.toml").work_side
        for name, net in nets.items():
            painting = candidate / ("style.jpg" if len(nets) == 1 else f"style-{name}.jpg")
            reference = Image.open(painting).convert("RGB")
            print(name)
            _print(measurement.style(net, reference, torch_stylizer(net), work_side))
        return 0
    pack = (
        load_pack(candidate)
        if candidate.is_dir()
        else StyleRegistry.discover(styles_dir).get(args.style)
    )
    metrics = measurement.pack(pack)
    _print(metrics)
    if not args.no_write:
        update_metrics(pack.path, metrics)
        print(f"written to {pack.path / 'style.toml'}")
    return 0


def _print(metrics: dict[str, float]) -> None:
    width = max(map(len, metrics))
    for key, value in metrics.items():
        print(f"{key:<{width}}  {value:.3f}")
