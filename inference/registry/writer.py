"""Writing style packs: a trained generator into a pack folder, new figures into style.toml.

Both write beside the target and rename into place, so a reader (the bot, discovery) never
sees half a pack.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tomli_w
from PIL import Image
from safetensors.numpy import save_file

from artisto.errors import StylePackError
from inference.registry.meta import NetSpec, StyleMeta
from inference.registry.pack import (
    META_FILE,
    PREVIEW_FILE,
    PREVIEW_MAX_SIDE,
    STYLE_IMAGE_FILE,
    STYLE_IMAGE_MAX_SIDE,
    WEIGHTS_FILE,
    StylePack,
    load_pack,
)

if TYPE_CHECKING:
    from inference.nets.transformer import TransformerNet

log = logging.getLogger(__name__)


def write_pack(
    dest: Path,
    net: TransformerNet,
    meta: StyleMeta,
    style_image: Image.Image,
    preview: Image.Image | None = None,
) -> StylePack:
    """Write a pack folder atomically (built beside ``dest``, then renamed into place).

    The weights are stored in fp16. Without a preview, the painting itself stands in.
    An existing pack at ``dest`` is replaced.
    """
    if NetSpec.of(net) != meta.net:
        raise ValueError(f"meta.net {meta.net} does not describe the given net {NetSpec.of(net)}")
    state = {
        key: np.ascontiguousarray(tensor.detach().cpu().half().numpy())
        for key, tensor in net.state_dict().items()
    }
    for key, array in state.items():
        if not np.isfinite(array).all():
            raise StylePackError(f"refusing to write {dest}: tensor {key!r} is not finite in fp16")

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        save_file(state, tmp / WEIGHTS_FILE, metadata={"format": "pt"})
        (tmp / META_FILE).write_text(tomli_w.dumps(meta.to_toml()), encoding="utf-8")
        _save_jpeg(style_image, tmp / STYLE_IMAGE_FILE, STYLE_IMAGE_MAX_SIDE)
        _save_jpeg(
            preview if preview is not None else style_image, tmp / PREVIEW_FILE, PREVIEW_MAX_SIDE
        )
        # mkdtemp and safetensors create owner-only files; a pack is read by the service user.
        tmp.chmod(0o755)
        for file in tmp.iterdir():
            file.chmod(0o644)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pack = load_pack(dest)
    log.info("style.pack_written", extra={"style": meta.name, "path": str(dest)})
    return pack


def _save_jpeg(img: Image.Image, file: Path, max_side: int) -> None:
    img = img.convert("RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    img.save(file, "JPEG", quality=90)


def update_metrics(pack_path: Path, metrics: Mapping[str, float]) -> StylePack:
    """Merge stability figures into ``[metrics]`` of style.toml (atomic rewrite)."""
    pack = load_pack(pack_path)
    merged = {**pack.meta.metrics, **{k: float(v) for k, v in metrics.items()}}
    bad = [k for k, v in merged.items() if not math.isfinite(v)]
    if bad:
        raise ValueError(f"metric {bad[0]!r} is not a finite number")
    meta = dataclasses.replace(pack.meta, metrics=merged)
    tmp = pack.meta_path.with_name(f".{META_FILE}.tmp")
    tmp.write_text(tomli_w.dumps(meta.to_toml()), encoding="utf-8")
    tmp.replace(pack.meta_path)
    return load_pack(pack_path)
