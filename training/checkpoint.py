"""A run's checkpoint: weights, optimizer state, loss history and random states, in one file
that is replaced atomically, so a run stopped at any moment resumes where it was."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from artisto.errors import ArtistoError
from inference.nets import TransformerNet
from training.generator import new_generator
from training.multistyle import MultiStyleNet
from training.recipe import Recipe

CHECKPOINT_FILE = "checkpoint.pt"
"""In the run folder."""


class CheckpointError(ArtistoError):
    """A run's checkpoint that cannot be read back."""


def write_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` beside ``path`` and move it into place: a crash leaves the old one."""
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    partial.replace(path)


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


def load_run_nets(run_dir: Path) -> tuple[dict[str, TransformerNet], int]:
    """A run folder's generators by painting name, as its checkpoint holds them, and the
    iteration it reached. A single-painting run's generator is named after the run folder."""
    state = read_checkpoint(run_dir / CHECKPOINT_FILE)
    recipe = Recipe.from_dict(state["recipe"])
    names: list[str] = state.get("paintings", [run_dir.name])
    generator = new_generator(recipe)
    if len(names) == 1:
        generator.load_state_dict(state["net"])
        return {names[0]: generator.eval()}, int(state["iteration"])
    multi = MultiStyleNet(generator, len(names))
    multi.load_state_dict(state["net"])
    nets = {name: multi.export(s, new_generator(recipe)) for s, name in enumerate(names)}
    return nets, int(state["iteration"])
