"""The ONNX graph built from a pack's weights computes what ``TransformerNet`` computes, and its
cache key follows the weights and the spec."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from inference.backends import TorchBackend
from inference.onnx_generator import OnnxGenerator, generator_model, model_key
from inference.onnx_graph import generator_graph
from inference.registry import NetSpec
from tests.fixtures_packs import make_tiny_pack, tiny_generator


@pytest.mark.parametrize(
    ("skip", "skip_blur"), [(True, 0.0), (False, 0.0), (True, 1.0), (True, 2.0)]
)
def test_the_graph_matches_the_torch_generator(skip: bool, skip_blur: float) -> None:
    net = tiny_generator(width=4, residual_blocks=2, seed=7, skip_blur=skip_blur)
    net.skip = skip
    weights = {key: value.numpy() for key, value in net.state_dict().items()}
    generator = OnnxGenerator(generator_graph(NetSpec.of(net), weights), threads=1)
    frames = np.random.default_rng(3).integers(0, 256, (2, 36, 52, 3), dtype=np.uint8)
    frames[1] //= 3  # a dark frame beside a bright one: each keeps its own norm statistics

    got = generator.run(frames).astype(int)
    torch_fp32 = TorchBackend(net, device=torch.device("cpu"), dtype=torch.float32)
    expected = torch_fp32.run(torch.from_numpy(frames)).numpy().astype(int)

    assert got.shape == expected.shape
    differ = np.abs(got - expected)
    assert differ.max() <= 1  # only where fp32 rounding lands a value on the other side of .5
    assert (differ > 0).mean() < 1e-3


def test_the_model_key_follows_the_weights_and_the_spec(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path, "a", seed=1)
    key = model_key(pack)

    assert model_key(make_tiny_pack(tmp_path / "copy", "a", seed=1)) == key
    assert model_key(make_tiny_pack(tmp_path, "a", seed=2)) != key
    wider_blur = dataclasses.replace(pack.meta.net, skip_blur=1.0)
    assert (
        model_key(dataclasses.replace(pack, meta=dataclasses.replace(pack.meta, net=wider_blur)))
        != key
    )


def test_the_model_is_built_once_into_the_cache(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path / "styles", "a")
    cache = tmp_path / "cache"

    first = generator_model(pack, cache)
    (path,) = (cache / "onnx").glob("*.onnx")
    stamp = path.stat().st_mtime_ns

    assert generator_model(pack, cache) == first == path.read_bytes()
    assert path.stat().st_mtime_ns == stamp
    assert generator_model(pack, None) == first
