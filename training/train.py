"""The training loop: stabilized feed-forward generators for one painting, or several at once.

Each step stylizes a batch of photo crops together with two perturbed copies of it: one
with Gaussian noise, one moved by a small random affine motion. All three go through the
generator in one pass (instance norm is per sample, so this is exact). Besides the content,
style and total-variation terms, the noisy copy must come out the same as the clean one, and
the moved copy the same as the moved output: stability trained in, inference stays one pass.

With several paintings the generator is a multi-style one (``training.multistyle``): the
samples of a batch take the paintings in turn, every convolution learns from all of them, and
each painting is exported to its own ordinary pack.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w
import torch
from PIL import Image
from tqdm import tqdm

from inference.nets import TransformerNet
from inference.registry import StylePack
from training.checkpoint import CHECKPOINT_FILE, read_checkpoint, write_checkpoint
from training.data import (
    PhotoCrops,
    crop_to_multiple_of_4,
    load_photo,
    pick_validation,
    prepare_style_image,
    to_tensor,
)
from training.export import StyleInfo, export_packs
from training.generator import new_generator, speed_up_output_conv_backward
from training.losses import (
    content_loss,
    style_loss,
    total_variation,
)
from training.motion import MotionRange
from training.multistyle import MultiStyleNet
from training.recipe import Recipe, RecipeError, StylePrep, learning_rate, stability_scale
from training.report import save_loss_curves
from training.samples import write_samples
from training.stability_pass import StableOutputs, stable_pass
from training.targets import StyleTargets
from training.teacher import painted_photos
from training.vgg import VGG16Features
from training.vgg_weights import load_vgg16_state

log = logging.getLogger(__name__)

LOSS_NAMES = ("total", "content", "style", "tv", "noise", "motion", "local", "teacher")


@dataclass(frozen=True)
class Painting:
    """One style a run learns: the painting, how it is prepared, the pack it becomes."""

    name: str
    image: Path
    pack_dir: Path
    info: StyleInfo | None = None
    prep: StylePrep | None = None
    """This painting's own crop and scale; None: the recipe's."""


@dataclass
class TrainJob:
    name: str
    paintings: tuple[Painting, ...]
    data_dir: Path
    val_dir: Path
    run_dir: Path
    cache_dir: Path
    recipe: Recipe = field(default_factory=Recipe)
    device: str = "cpu"
    resume: bool = False
    show_progress: bool = True

    def __post_init__(self) -> None:
        names = [p.name for p in self.paintings]
        if not names or len(set(names)) != len(names):
            raise RecipeError(f"a run needs one or more paintings of distinct names: {names}")


def style_ids(iteration: int, batch: int, styles: int) -> torch.Tensor:
    """The painting of each sample: every painting in turn, continuing across steps."""
    return (torch.arange(batch) + iteration * batch) % styles


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
        self.generator = new_generator(r)
        if not self.use_amp:
            speed_up_output_conv_backward(self.generator.output_conv)
        self.styles = len(job.paintings)
        self.net: torch.nn.Module = (
            MultiStyleNet(self.generator, self.styles) if self.styles > 1 else self.generator
        )
        self.net = self.net.to(self.device).to(memory_format=memory_format)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=r.lr)
        self.style_images = [
            prepare_style_image(p.image, r.size, p.prep or r.style_prep) for p in job.paintings
        ]
        self.data = (
            PhotoCrops(job.data_dir, r.size, seed=r.seed)
            if r.crop_scale is None
            else PhotoCrops(
                job.data_dir, r.size, seed=r.seed, keep_side=r.work_side, scale=r.crop_scale
            )
        )
        self.painted = (
            [painted_photos(self.data.photos, image, job.run_dir) for image in self.style_images]
            if r.distill_iters or r.content_target == "teacher" or r.weights.teacher > 0
            else []
        )
        self.targets = StyleTargets(self.vgg, self.style_images, r.style_layers, self.device)
        if r.style_loss == "score":
            self.targets.measured_against(self.data, r.seed)
        self.style_grams = self.targets.grams
        self.val_images = [
            crop_to_multiple_of_4(load_photo(p, 256)) for p in pick_validation(job.val_dir)
        ]
        self.motion = MotionRange(
            r.stability.max_shift_px, r.stability.max_rotate_deg, r.stability.max_zoom
        )
        self.noise_gen = torch.Generator().manual_seed(r.seed + 1)
        self.history: dict[str, list[float]] = {"iter": [], **{k: [] for k in LOSS_NAMES}}
        self.start_iter = 0

    def generate(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x, ids) if self.styles > 1 else self.net(x)
        return out

    # --- checkpoints -----------------------------------------------------------------------

    @property
    def checkpoint_path(self) -> Path:
        return self.job.run_dir / CHECKPOINT_FILE

    def save_checkpoint(self, iteration: int) -> None:
        state = {
            "iteration": iteration,
            "recipe": self.recipe.to_dict(),
            "paintings": [p.name for p in self.job.paintings],
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "history": self.history,
            "torch_rng": torch.get_rng_state(),
            "noise_rng": self.noise_gen.get_state(),
        }
        write_checkpoint(self.checkpoint_path, state)

    def load_checkpoint(self, path: Path | None = None, *, branch: bool = False) -> None:
        """Resume from this run's checkpoint, or from ``path``. A ``branch`` takes another run's
        generator and optimizer on with this recipe (an experiment from a shared start): only
        the paintings and the generator's shape must match."""
        path = path or self.checkpoint_path
        state = read_checkpoint(path, self.device)
        changes = self.recipe.changes_from(state["recipe"])
        names = [p.name for p in self.job.paintings]
        other_paintings = state.get("paintings", names[:1]) != names
        if other_paintings:
            changes.append(f"paintings: {state.get('paintings')} → {names}")
        if branch and changes and not other_paintings:
            log.info("train.branched", extra={"from": str(path), "changes": "; ".join(changes)})
        elif changes:
            raise RecipeError(
                f"{path} was trained with another recipe ({'; '.join(changes)});"
                " resume it with that recipe, or start a new run folder"
            )
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.history = state["history"]
        for name in LOSS_NAMES:  # a term added since that run was saved: zeros so far
            self.history.setdefault(name, [0.0] * len(self.history["iter"]))
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
        if iteration < r.distill_iters:
            return self.distill_step(iteration)
        if iteration == r.distill_iters > 0:
            # Adam's moments hold the pixel term's small gradients: against the Gram terms'
            # far larger ones its first steps were huge and left the generator painting one
            # flat colour. The Gram terms start from fresh moments and a new warm-up.
            self.optimizer.state.clear()
        ids = style_ids(iteration, r.batch, self.styles)
        painted = None
        if r.content_target == "teacher" or w.teacher > 0:
            x, painted = self.data.pairs(self.painted, ids.tolist())
            painted = painted.to(self.device, memory_format=self.memory_format)
        else:
            x = self.data.batch(r.batch)
        x, ids = x.to(self.device, memory_format=self.memory_format), ids.to(self.device)
        steady = stability_scale(r, iteration) if r.stability_on else 0.0
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.use_amp):
            y, l_noise, l_motion, l_local = self.generate_stably(x, ids, steady > 0)
            feats = self.vgg(y)
            with torch.no_grad():
                score_shaped = self.targets.floor is not None
                photo = self.vgg(x) if score_shaped else self.vgg(x, until=r.content_layer)
                own = self.targets.own_distances(photo, ids) if score_shaped else None
                aim = (
                    photo
                    if r.content_target == "photo"
                    else self.vgg(painted, until=r.content_layer)
                )
                target = aim[r.content_layer]
        feats = {k: v.float() for k, v in feats.items()}
        l_content = content_loss(feats[r.content_layer], target.float())
        l_style = style_loss(feats, self.style_grams, ids, own)
        l_tv = total_variation(y)
        l_teacher = torch.zeros((), device=self.device)
        if w.teacher > 0 and painted is not None:
            l_teacher = (y - painted).abs().mean()
        total = (
            w.content * l_content
            + w.style * l_style
            + w.tv * l_tv
            + steady * (w.noise * l_noise + w.motion * l_motion + w.local * l_local)
            + w.teacher * l_teacher
        )
        terms = (l_content, l_style, l_tv, l_noise, l_motion, l_local, l_teacher)
        return self._update(total, *terms)

    def distill_step(self, iteration: int) -> dict[str, float]:
        """Learn the teacher's painted photos, pixel by pixel: no loss network, a few times
        cheaper than a step of the full recipe."""
        r, w = self.recipe, self.recipe.weights
        ids = style_ids(iteration, r.distill_batch, self.styles)
        x, painted = self.data.pairs(self.painted, ids.tolist())
        x, painted, ids = x.to(self.device), painted.to(self.device), ids.to(self.device)
        none = torch.zeros((), device=self.device)
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.use_amp):
            y, l_noise, l_motion, l_local = self.generate_stably(
                x, ids, r.distill_stability and r.stability_on
            )
        l_teacher = (y.float() - painted).abs().mean()
        total = l_teacher + w.noise * l_noise + w.motion * l_motion + w.local * l_local
        return self._update(total, none, none, none, l_noise, l_motion, l_local, l_teacher)

    def generate_stably(self, x: torch.Tensor, ids: torch.Tensor, stable: bool) -> StableOutputs:
        """The outputs for ``x`` and the stability terms (zero when not ``stable``)."""
        if not stable:
            none = torch.zeros((), device=self.device)
            return StableOutputs(self.generate(x, ids).float(), none, none, none)
        r = self.recipe
        return stable_pass(
            self.generate, x, ids, noise_sigma=r.stability.noise_sigma,
            motion=self.motion, rng=self.noise_gen,
            local_margin=r.stability.local_margin if r.weights.local > 0 else None,
        )  # fmt: skip

    def _update(self, total: torch.Tensor, *terms: torch.Tensor) -> dict[str, float]:
        """One optimizer step on ``total``; the loss history's values, in LOSS_NAMES order."""
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        values = (total, *terms) + (torch.zeros(()),) * (len(LOSS_NAMES) - 1 - len(terms))
        return {k: float(v.detach()) for k, v in zip(LOSS_NAMES, values, strict=True)}

    # --- reports ---------------------------------------------------------------------------

    @torch.no_grad()
    def stylize(self, image: Image.Image, style: int = 0) -> torch.Tensor:
        self.net.eval()
        x = to_tensor(image).unsqueeze(0).to(self.device)
        ids = torch.tensor([style], device=self.device)
        y: torch.Tensor = self.generate(x, ids).float().clamp(0, 1)[0].cpu()
        self.net.train()
        return y

    def write_samples(self, iteration: int) -> None:
        write_samples(
            self.job.run_dir,
            iteration,
            self.val_images,
            self.stylize,
            self.vgg,
            self.style_grams,
            self.recipe.content_layer,
        )
        save_loss_curves(self.history, self.job.run_dir / "losses.png")

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> list[StylePack]:
        self.fit()
        return self.export()

    def fit(self, stop_at: float | None = None, until: int | None = None) -> bool:
        """Train to the recipe's iterations, or until ``stop_at`` (``time.time()``) passes or
        iteration ``until`` is done, with a checkpoint at the stop; True when the run is
        finished. The step size follows the recipe's schedule whatever the stop."""
        job, r = self.job, self.recipe
        if job.resume and self.checkpoint_path.is_file():
            self.load_checkpoint()
        job.run_dir.mkdir(parents=True, exist_ok=True)
        (job.run_dir / "recipe.toml").write_text(tomli_w.dumps(r.to_dict()), encoding="utf-8")
        for painting, image in zip(job.paintings, self.style_images, strict=True):
            name = "style.jpg" if self.styles == 1 else f"style-{painting.name}.jpg"
            image.save(job.run_dir / name, quality=92)
        self.net.train()
        started = time.monotonic()
        end = r.iters if until is None else min(until, r.iters)
        bar = tqdm(
            range(self.start_iter, end),
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
                self.history.setdefault(key, []).append(value)
            bar.set_postfix(
                {k: f"{losses[k]:.3g}" for k in ("content", "style", "noise", "motion")},
                refresh=False,
            )
            done = iteration + 1
            out_of_time = stop_at is not None and time.time() >= stop_at
            if done % r.checkpoint_every == 0 or done in (r.iters, end) or out_of_time:
                self.save_checkpoint(done)
            if done % r.sample_every == 0 or done == r.iters or iteration == self.start_iter:
                self.write_samples(done)
            if out_of_time:
                break
        bar.close()
        self.start_iter = done
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

    def export(self) -> list[StylePack]:
        """One pack per painting, in the job's order."""
        preview = load_photo(pick_validation(self.job.val_dir, 1)[0], self.recipe.work_side)
        return export_packs(
            self.job.paintings,
            [self.style_net(s) for s in range(self.styles)],
            self.style_images,
            self.recipe,
            self.history,
            preview=crop_to_multiple_of_4(preview),
        )

    def style_net(self, style: int) -> TransformerNet:
        """Painting ``style``'s own generator, on the CPU, in eval mode."""
        if isinstance(self.net, MultiStyleNet):
            return self.net.cpu().export(style, new_generator(self.recipe))
        return self.generator.cpu().eval()


def train(job: TrainJob) -> list[StylePack]:
    return Trainer(job).run()
