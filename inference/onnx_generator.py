"""A style's generator on ONNX Runtime, without torch.

The model is built from the pack's weights (``inference.onnx_graph``) once and kept in the cache
folder, named by the weights file's hash, the net spec and the graph's version: a later start
hashes the weights file and opens the cached model, building nothing and importing no ``onnx``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

from inference.registry import StylePack

log = logging.getLogger(__name__)

CACHE_SUBDIR = "onnx"
GRAPH_VERSION = 1
"""Raised whenever ``inference.onnx_graph`` builds a different model from the same weights, so
that cached models are rebuilt (the key is worked out without importing ``onnx``)."""


def generator_model(pack: StylePack, cache_dir: Path | None) -> bytes:
    """The pack's serialized ONNX model; with ``cache_dir``, built once per weights."""
    if cache_dir is None:
        return _build(pack)
    folder = cache_dir / CACHE_SUBDIR
    path = folder / f"generator-{model_key(pack)}.onnx"
    if path.is_file():
        return path.read_bytes()
    model = _build(pack)
    folder.mkdir(parents=True, exist_ok=True)
    # Write beside, then rename: a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(prefix=".onnx-", dir=folder)
    with os.fdopen(fd, "wb") as out:
        out.write(model)
    Path(tmp).replace(path)
    log.info("engine.onnx_cached", extra={"path": str(path), "bytes": len(model)})
    return model


def model_key(pack: StylePack) -> str:
    """What the built model depends on, hashed: the graph's version, the spec, the weights."""
    digest = hashlib.sha256(f"artisto-generator-{GRAPH_VERSION}|".encode())
    digest.update(json.dumps(asdict(pack.meta.net), sort_keys=True).encode())
    digest.update(pack.weights_path.read_bytes())
    return digest.hexdigest()[:24]


def _build(pack: StylePack) -> bytes:
    from inference.onnx_graph import generator_graph  # onnx takes a second to import

    return generator_graph(pack.meta.net, pack.weights())


class OnnxGenerator:
    """An ONNX Runtime session of a generator model, fp32 on the CPU.

    ``threads`` 0 lets ONNX Runtime choose (one per physical core).
    """

    def __init__(self, model: bytes, *, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        # The session holds the model's initializers plus pre-packed copies of the weights.
        self.nbytes = 2 * len(model)

    def run(self, frames: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3), H and W sizes the generator takes -> the same shape, stylized."""
        (stylized,) = self._session.run(None, {"frames": frames})
        out: np.ndarray = stylized
        return out
