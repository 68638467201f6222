"""The training loop: a stabilized feed-forward generator for one painting.

Each step stylizes a batch of photo crops together with two perturbed copies of it: one
with Gaussian noise, one moved by a small random affine motion. All three go through the
generator in one pass (instance norm is per sample, so this is exact). Besides the content,
style and total-variation terms, the noisy copy must come out the same as the clean one, and
the moved copy the same as the moved output: stability trained in, inference stays one pass.
"""

from __future__ import annotations

import logging
import math
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
import torch
from PIL import Image
from tqdm import tqdm

from artisto.errors import ArtistoError
from inference.nets import TransformerNet
from inference.registry import NetSpec, StyleMeta, StylePack, write_pack
from training.data import (
    PhotoCrops,
    crop_to_multiple_of_4,
    image_files,
    load_photo,
    prepare_style_image,
    to_tensor,
)
from training.losses import (
    content_loss,
    gram,
    motion_stability,
    noise_stability,
    style_loss,
    total_variation,
)
from training.motion import MotionRange, random_affine, warp
from training.recipe import Recipe, RecipeError
from training.report import (
    content_heatmap,
    grid,
    overlay,
    save_loss_curves,
    style_heatmap,
    tensors_to_row,
)
from training.vgg import VGG16Features
from training.vgg_weights import load_vgg16_state

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "checkpoint.pt"
"""In the run folder: weights, optimizer state, loss history and random states."""
LOSS_NAMES = ("total", "content", "style", "tv", "noise", "motion")
PREFERRED_VAL = (
    "gcompris_music-mexico.jpg",
    "gcompris_music-italy.jpg",
    "gcompris_erase-kitten.jpg",
    "gcompris_monuments-eiffel-tower.jpg",
)


@dataclass(frozen=True)
class StyleInfo:
    """What the pack tells users about the painting."""

    title: str
    artist: str = ""
    year: str = ""
    emoji: str = "🎨"


@dataclass
class TrainJob:
    name: str
    style_image: Path
    data_dir: Path
    val_dir: Path
    run_dir: Path
    pack_dir: Path
    cache_dir: Path
    recipe: Recipe = field(default_factory=Recipe)
    info: StyleInfo | None = None
    device: str = "cpu"
    resume: bool = False
    show_progress: bool = True


def pick_validation(val_dir: Path, count: int = 4) -> list[Path]:
    files = image_files(val_dir)
    by_name = {p.name: p for p in files}
    chosen = [by_name[n] for n in PREFERRED_VAL if n in by_name]
    chosen += [p for p in files if p not in chosen]
    return chosen[:count]


def learning_rate(recipe: Recipe, iteration: int) -> float:
    """A linear warm-up, constant, then a cosine decay to a tenth over the last quarter."""
    if iteration < recipe.warmup_iters:
        return recipe.lr * (iteration + 1) / recipe.warmup_iters
    decay_from = int(recipe.iters * 0.75)
    if iteration < decay_from:
        return recipe.lr
    t = (iteration - decay_from) / max(1, recipe.iters - decay_from)
    return recipe.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


class Trainer:
    def __init__(self, job: TrainJob) -> None:
        self.job = job
        r = job.recipe
        self.recipe = r
        self.device = torch.device(job.device)
        torch.manual_seed(r.seed)
        self.use_amp = self.device.type == "cuda"
        memory_format = torch.channels_last if self.use_amp else torch.contiguous_format
        self.memory_format = memory_format
        layers = set(r.style_layers) | {r.content_layer}
        self.vgg = VGG16Features(load_vgg16_state(job.cache_dir), sorted(layers))
        self.vgg = self.vgg.to(self.device).to(memory_format=memory_format)
        # Default initialisation throughout: a zero-initialised output conv (starting as the
        # identity) learned the painting's Gram statistics about three times slower.
        self.net = new_generator(r).to(self.device).to(memory_format=memory_format)
        if not self.use_amp:
            speed_up_output_conv_backward(self.net.output_conv)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=r.lr)
        self.style_image = prepare_style_image(job.style_image, r.size, r.style_prep)
        with torch.no_grad():
            feats = self.vgg(to_tensor(self.style_image).unsqueeze(0).to(self.device))
            self.style_grams: dict[str, torch.Tensor] = {
                name: gram(feats[name]) for name in r.style_layers
            }
        self.data = PhotoCrops(job.data_dir, r.size, seed=r.seed)
        self.val_images = [
            crop_to_multiple_of_4(load_photo(p, 256)) for p in pick_validation(job.val_dir)
        ]
        self.motion = MotionRange(
            r.stability.max_shift_px, r.stability.max_rotate_deg, r.stability.max_zoom
        )
        self.noise_gen = torch.Generator().manual_seed(r.seed + 1)
        self.history: dict[str, list[float]] = {"iter": [], **{k: [] for k in LOSS_NAMES}}
        self.start_iter = 0

    # --- checkpoints -----------------------------------------------------------------------

    @property
    def checkpoint_path(self) -> Path:
        return self.job.run_dir / CHECKPOINT_FILE

    def save_checkpoint(self, iteration: int) -> None:
        state = {
            "iteration": iteration,
            "recipe": self.recipe.to_dict(),
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "history": self.history,
            "torch_rng": torch.get_rng_state(),
            "noise_rng": self.noise_gen.get_state(),
            "data_rng": repr(self.data.state()),
        }
        partial = self.checkpoint_path.with_suffix(".partial")
        torch.save(state, partial)
        partial.replace(self.checkpoint_path)

    def load_checkpoint(self) -> None:
        state = read_checkpoint(self.checkpoint_path, self.device)
        changes = self.recipe.changes_from(state["recipe"])
        if changes:
            raise RecipeError(
                f"{self.checkpoint_path} was trained with another recipe ({'; '.join(changes)});"
                " resume it with that recipe, or start a new run folder"
            )
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.history = state["history"]
        torch.set_rng_state(state["torch_rng"])
        self.noise_gen.set_state(state["noise_rng"])
        self.data.rng.seed(self.recipe.seed + int(state["iteration"]))
        self.start_iter = int(state["iteration"])
        log.info("train.resumed", extra={"iteration": self.start_iter})

    # --- one step --------------------------------------------------------------------------

    def step(self, iteration: int) -> dict[str, float]:
        r, w = self.recipe, self.recipe.weights
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(r, iteration)
        x = self.data.batch(r.batch).to(self.device, memory_format=self.memory_format)
        n = x.shape[0]
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.use_amp):
            if r.stability_on:
                # Noise on the first half of the batch, motion on the second: each stability
                # term sees half the batch, for two thirds of the generator's cost.
                half = max(1, n // 2)
                clean_a, clean_b = x[:half], x[half:] if n > 1 else x
                sigma = (
                    torch.rand(half, 1, 1, 1, generator=self.noise_gen) * r.stability.noise_sigma
                )
                noise = torch.randn(clean_a.shape, generator=self.noise_gen) * sigma
                theta = random_affine(len(clean_b), r.size, r.size, self.motion, self.noise_gen)
                moved, inside = warp(clean_b, theta)
                out = self.net(torch.cat([x, clean_a + noise.to(self.device), moved])).float()
                y, y_noisy, y_moved = out.split([n, half, len(clean_b)])
                y_then_moved, _ = warp(y[n - len(clean_b) :], theta)
                l_noise = noise_stability(y[:half], y_noisy)
                l_motion = motion_stability(y_moved, y_then_moved, inside)
            else:
                y = self.net(x).float()
                l_noise = l_motion = torch.zeros((), device=self.device)
            feats = self.vgg(y)
            with torch.no_grad():
                target = self.vgg(x, until=r.content_layer)[r.content_layer]
        feats = {k: v.float() for k, v in feats.items()}
        l_content = content_loss(feats[r.content_layer], target.float())
        l_style = style_loss(feats, self.style_grams)
        l_tv = total_variation(y)
        total = (
            w.content * l_content
            + w.style * l_style
            + w.tv * l_tv
            + w.noise * l_noise
            + w.motion * l_motion
        )
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        values = (total, l_content, l_style, l_tv, l_noise, l_motion)
        return {k: float(v.detach()) for k, v in zip(LOSS_NAMES, values, strict=True)}

    # --- reports ---------------------------------------------------------------------------

    @torch.no_grad()
    def stylize(self, image: Image.Image) -> torch.Tensor:
        self.net.eval()
        x = to_tensor(image).unsqueeze(0).to(self.device)
        y: torch.Tensor = self.net(x).float().clamp(0, 1)[0].cpu()
        self.net.train()
        return y

    @torch.no_grad()
    def write_samples(self, iteration: int) -> None:
        outputs = [self.stylize(im) for im in self.val_images]
        sheet = grid([self.val_images, [tensors_to_row(o.unsqueeze(0))[0] for o in outputs]])
        sample_dir = self.job.run_dir / "samples"
        sample_dir.mkdir(parents=True, exist_ok=True)
        sheet.save(sample_dir / f"iter_{iteration:06d}.jpg", quality=90)
        heat_rows: list[list[Image.Image]] = [[], []]
        for image, output in zip(self.val_images, outputs, strict=True):
            out_feats = self.vgg(output.unsqueeze(0).to(self.device))
            in_feats = self.vgg(to_tensor(image).unsqueeze(0).to(self.device))
            c_layer = self.recipe.content_layer
            c_map = content_heatmap(out_feats[c_layer][0], in_feats[c_layer][0])
            c_map = torch.nn.functional.interpolate(
                c_map[None, None], size=(image.height, image.width), mode="bilinear"
            )[0, 0]
            s_map = style_heatmap(out_feats, self.style_grams, (image.height, image.width))
            out_img = tensors_to_row(output.unsqueeze(0))[0]
            heat_rows[0].append(overlay(out_img, s_map))
            heat_rows[1].append(overlay(out_img, c_map.cpu()))
        heat_dir = self.job.run_dir / "heatmaps"
        heat_dir.mkdir(parents=True, exist_ok=True)
        grid(heat_rows).save(heat_dir / f"iter_{iteration:06d}.jpg", quality=90)
        save_loss_curves(self.history, self.job.run_dir / "losses.png")

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> StylePack:
        self.fit()
        return self.export()

    def fit(self, stop_at: float | None = None) -> bool:
        """Train to the recipe's iterations, or until ``stop_at`` (``time.time()``) passes, with
        a checkpoint at the stop; True when the run is finished."""
        job, r = self.job, self.recipe
        if job.resume and self.checkpoint_path.is_file():
            self.load_checkpoint()
        job.run_dir.mkdir(parents=True, exist_ok=True)
        (job.run_dir / "recipe.toml").write_text(tomli_w.dumps(r.to_dict()), encoding="utf-8")
        self.style_image.save(job.run_dir / "style.jpg", quality=92)
        self.net.train()
        started = time.monotonic()
        bar = tqdm(
            range(self.start_iter, r.iters),
            initial=self.start_iter,
            total=r.iters,
            desc=job.name,
            disable=not job.show_progress,
            dynamic_ncols=True,
        )
        done = self.start_iter
        for iteration in bar:
            losses = self.step(iteration)
            self.history["iter"].append(iteration + 1)
            for key, value in losses.items():
                self.history[key].append(value)
            bar.set_postfix(
                {k: f"{losses[k]:.3g}" for k in ("content", "style", "noise", "motion")},
                refresh=False,
            )
            done = iteration + 1
            out_of_time = stop_at is not None and time.time() >= stop_at
            if done % r.checkpoint_every == 0 or done == r.iters or out_of_time:
                self.save_checkpoint(done)
            if done % r.sample_every == 0 or done == r.iters or iteration == self.start_iter:
                self.write_samples(done)
            if out_of_time:
                break
        bar.close()
        log.info(
            "train.stopped",
            extra={
                "style": job.name,
                "iteration": done,
                "iters": r.iters,
                "seconds": round(time.monotonic() - started),
            },
        )
        return done == r.iters

    def export(self) -> StylePack:
        job, r = self.job, self.recipe
        info = job.info or StyleInfo(title=job.name.replace("_", " ").title())
        meta = StyleMeta(
            name=job.name,
            title=info.title,
            artist=info.artist,
            year=info.year,
            emoji=info.emoji,
            net=NetSpec.of(self.net),
            work_side=r.work_side,
            recipe=_recipe_summary(r, self.history),
        )
        preview_source = load_photo(pick_validation(job.val_dir, 1)[0], r.work_side)
        stylized = self.stylize(crop_to_multiple_of_4(preview_source))
        preview = tensors_to_row(stylized.unsqueeze(0))[0]
        painting = self.style_image.copy()
        painting.thumbnail((512, 512), Image.Resampling.LANCZOS)
        return write_pack(job.pack_dir, self.net.cpu().eval(), meta, painting, preview)


def new_generator(recipe: Recipe) -> TransformerNet:
    """The untrained generator a recipe describes."""
    return TransformerNet(
        recipe.width, recipe.residual_blocks, skip=recipe.skip, skip_blur=recipe.skip_blur
    )


def speed_up_output_conv_backward(conv: torch.nn.Conv2d) -> None:
    """Feed the 9×9 conv to RGB in channels_last on the CPU.

    oneDNN's backward for a three-channel output in the default layout was 40% of the
    generator's training time (about four times its channels_last cost); the math is the same.
    """

    def to_channels_last(_: torch.nn.Module, args: tuple[torch.Tensor]) -> tuple[torch.Tensor]:
        return (args[0].contiguous(memory_format=torch.channels_last),)

    def back_to_contiguous(
        _: torch.nn.Module, __: tuple[torch.Tensor], output: torch.Tensor
    ) -> torch.Tensor:
        return output.contiguous()

    conv.register_forward_pre_hook(to_channels_last)
    conv.register_forward_hook(back_to_contiguous)


def _recipe_summary(recipe: Recipe, history: dict[str, list[float]]) -> dict[str, Any]:
    summary = recipe.to_dict()
    tail = max(1, len(history["iter"]) // 20)
    summary["final_losses"] = {
        k: round(sum(history[k][-tail:]) / tail, 6) for k in LOSS_NAMES if history[k]
    }
    return summary


class CheckpointError(ArtistoError):
    """A run's checkpoint that cannot be read back."""


def read_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """A run checkpoint's state, refused with a clear error when the file is damaged (a
    truncated copy, a placeholder) or predates recorded recipes."""
    try:
        state: dict[str, Any] = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(error).__name__}): delete it to start"
            " the run again, or put back a good copy (training/parked/ keeps unfinished ones)"
        ) from error
    if not isinstance(state, dict) or "recipe" not in state:
        raise CheckpointError(
            f"{path} does not record the recipe it was trained with (it predates recorded"
            " recipes); start a new run folder"
        )
    return state


def load_run_net(run_dir: Path) -> tuple[TransformerNet, int]:
    """A run folder's generator as its checkpoint holds it, and the iteration it reached."""
    path = run_dir / CHECKPOINT_FILE
    state = read_checkpoint(path)
    net = new_generator(Recipe.from_dict(state["recipe"]))
    net.load_state_dict(state["net"])
    return net.eval(), int(state["iteration"])


def train(job: TrainJob) -> StylePack:
    return Trainer(job).run()
