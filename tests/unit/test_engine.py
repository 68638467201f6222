from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from artisto.errors import ArtistoError, UnknownStyle
from inference import engine as engine_module
from inference.backends import Backend, OrtBackend, TorchBackend
from inference.engine import Engine, choose_device, probe_image, probe_psnr
from inference.frames import SIZE_MULTIPLE, padded_side
from inference.nets.transformer import TransformerNet
from inference.registry import StylePack, StyleRegistry
from tests.fixtures_packs import make_tiny_pack

HAS_BF16 = engine_module._cpu_has_bf16()


@pytest.fixture
def packs(tmp_path: Path) -> list[StylePack]:
    """Three styles; "b" blurs its skip path, so every backend runs that path too."""
    return [
        make_tiny_pack(tmp_path / "styles", name, seed=i, skip_blur=2.0 if name == "b" else 0.0)
        for i, name in enumerate("abc")
    ]


@pytest.fixture
def registry(packs: list[StylePack]) -> StyleRegistry:
    return StyleRegistry(packs)


def frames(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def reference(pack: StylePack, x: np.ndarray) -> np.ndarray:
    """The style in plain fp32 eager PyTorch, for sizes the net takes as they are."""
    net = pack.build_generator()
    with torch.no_grad():
        y = net(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255)
    out: np.ndarray = (y.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 5, 7), (1, 13, 9), (1, 8, 8), (3, 30, 17)])
def test_any_size_comes_back_in_its_own_shape(
    registry: StyleRegistry, shape: tuple[int, ...]
) -> None:
    engine = Engine(registry, device="cpu", precision="fp32")
    x = frames(*shape)

    y = engine.stylize_batch("a", x)

    assert y.shape == x.shape and y.dtype == np.uint8
    assert not np.array_equal(y, x)  # the style did something


def test_odd_size_is_the_crop_of_its_reflection_padded_frame(registry: StyleRegistry) -> None:
    engine = Engine(registry, device="cpu", precision="fp32")
    x = frames(1, 13, 10)
    padded = np.pad(x, ((0, 0), (0, 3), (0, 2), (0, 0)), mode="reflect")

    assert np.array_equal(
        engine.stylize_batch("a", x), engine.stylize_batch("a", padded)[:, :13, :10]
    )


def test_padded_side_is_a_multiple_of_four_and_at_least_eight() -> None:
    assert [padded_side(s) for s in (1, 4, 8, 9, 12, 13, 1081)] == [8, 8, 8, 12, 12, 16, 1084]
    assert SIZE_MULTIPLE == TransformerNet.SIZE_MULTIPLE


@pytest.mark.parametrize("backend", ["onnxruntime", "eager"])
def test_fp32_backends_match_plain_pytorch(
    packs: list[StylePack], registry: StyleRegistry, backend: str
) -> None:
    engine = Engine(registry, device="cpu", precision="fp32", backend=backend)  # type: ignore[arg-type]
    x = frames(2, 24, 40)

    y = engine.stylize_batch("b", x)

    assert backend in engine.loaded()["b"]
    diff = np.abs(y.astype(int) - reference(packs[1], x).astype(int))
    assert diff.max() <= 1 and diff.mean() < 0.01


def test_default_cpu_path_stays_within_40_db_of_fp32(
    packs: list[StylePack], registry: StyleRegistry
) -> None:
    engine = Engine(registry, device="cpu")
    x = probe_image(64, 96)

    y = engine.stylize_batch("a", x)

    expected = "bfloat16" if HAS_BF16 else "float32"
    assert expected in engine.loaded()["a"]
    mse = np.mean((y.astype(float) - reference(packs[0], x).astype(float)) ** 2)
    assert 10 * math.log10(255**2 / mse) >= 40.0


@pytest.mark.skipif(not HAS_BF16, reason="this CPU has no native bf16")
def test_bf16_is_refused_for_a_style_it_would_change_too_much(
    registry: StyleRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "BF16_MIN_PSNR_DB", 200.0)  # no half precision passes
    engine = Engine(registry, device="cpu")

    engine.stylize_batch("a", frames(1, 16, 16))

    assert "float32" in engine.loaded()["a"]


def test_probe_psnr_is_infinite_for_identical_paths(packs: list[StylePack]) -> None:
    net = packs[0].build_generator()
    a = TorchBackend(net, device=torch.device("cpu"), dtype=torch.float32)
    assert probe_psnr(a, a) == math.inf


@pytest.mark.parametrize("kind", ["eager", "onnxruntime"])
def test_one_batched_forward_equals_its_frames_one_by_one(
    packs: list[StylePack], kind: str
) -> None:
    net = packs[2].build_generator()
    backend: Backend = (
        TorchBackend(net, device=torch.device("cpu"), dtype=torch.float32)
        if kind == "eager"
        else OrtBackend(packs[2], threads=1, cache_dir=None)
    )
    x = torch.from_numpy(frames(4, 20, 28, seed=5))
    x[1] //= 4  # a dark frame beside bright ones: instance norm must not mix them

    whole = backend.run(x).numpy().astype(int)
    single = np.concatenate([backend.run(x[i : i + 1]).numpy() for i in range(4)]).astype(int)

    assert np.abs(whole - single).max() <= 1


def test_engine_batch_equals_its_frames_one_by_one(registry: StyleRegistry) -> None:
    engine = Engine(registry, device="cpu", precision="fp32")
    x = frames(3, 21, 30, seed=6)

    whole = engine.stylize_batch("c", x)
    single = np.concatenate([engine.stylize_batch("c", x[i : i + 1]) for i in range(3)])

    assert np.array_equal(whole, single)


def test_lru_evicts_the_least_recently_used_by_count(registry: StyleRegistry) -> None:
    engine = Engine(registry, device="cpu", precision="fp32", cache_size=2)
    x = frames(1, 8, 8)

    for style in ("a", "b", "a", "c"):
        engine.stylize_batch(style, x)

    assert list(engine.loaded()) == ["a", "c"]


def test_lru_evicts_by_memory_but_keeps_the_newest(registry: StyleRegistry) -> None:
    x = frames(1, 8, 8)
    probe = Engine(registry, device="cpu", precision="fp32")
    probe.stylize_batch("a", x)
    one_model_mb = probe.cache_bytes / 2**20
    assert one_model_mb > 0

    roomy = Engine(registry, device="cpu", precision="fp32", cache_mb=2.5 * one_model_mb)
    for style in "abc":
        roomy.stylize_batch(style, x)
    tight = Engine(registry, device="cpu", precision="fp32", cache_mb=0.5 * one_model_mb)
    for style in "abc":
        tight.stylize_batch(style, x)

    assert list(roomy.loaded()) == ["b", "c"]
    assert list(tight.loaded()) == ["c"]
    assert roomy.cache_bytes <= 2.5 * one_model_mb * 2**20


def test_unknown_style_raises_unknown_style_and_loads_nothing(registry: StyleRegistry) -> None:
    engine = Engine(registry, device="cpu")

    with pytest.raises(UnknownStyle, match="nope"):
        engine.stylize_batch("nope", frames(1, 8, 8))
    assert engine.loaded() == {}


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (np.zeros((8, 8, 3), np.uint8), ValueError),
        (np.zeros((1, 8, 8, 3), np.float32), ValueError),
        (np.zeros((1, 8, 8, 4), np.uint8), ValueError),
        (np.zeros((0, 8, 8, 3), np.uint8), ValueError),
        (np.zeros((1, 0, 8, 3), np.uint8), ValueError),
        ([[1, 2, 3]], TypeError),
    ],
)
def test_malformed_frames_are_refused(registry: StyleRegistry, bad: object, error: type) -> None:
    engine = Engine(registry, device="cpu")
    with pytest.raises(error):
        engine.stylize_batch("a", bad)  # type: ignore[arg-type]


def test_warmup_loads_the_styles(registry: StyleRegistry) -> None:
    engine = Engine(registry, device="cpu", precision="fp32", backend="eager", cache_size=2)

    engine.warmup()

    assert list(engine.loaded()) == ["a", "b"]  # as many as the cache holds


@pytest.mark.slow
def test_warming_up_on_the_cpu_turns_compiling_on(
    packs: list[StylePack], registry: StyleRegistry
) -> None:
    engine = Engine(registry, device="cpu", precision="fp32")
    engine.stylize_batch("a", frames(1, 8, 8))
    assert not engine.loaded()["a"].startswith("compile")  # a one-shot command stays eager

    engine.warmup(["a"])
    x = frames(1, 24, 40)  # another size: the dynamic graph serves it as it is
    y = engine.stylize_batch("a", x)
    odd = engine.stylize_batch("a", frames(1, 13, 9))
    engine.stylize_batch("b", x)  # loaded after warm-up: compiled as well

    assert engine.loaded()["a"].startswith("compile float32")
    assert engine.loaded()["b"].startswith("compile float32")
    assert np.abs(y.astype(int) - reference(packs[0], x).astype(int)).max() <= 1
    assert odd.shape == (1, 13, 9, 3)


@pytest.mark.slow
def test_a_broken_compiler_leaves_the_model_eager(
    packs: list[StylePack], registry: StyleRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch._dynamo
    import torch._functorch.config as functorch_config
    import torch._inductor.config as inductor_config

    monkeypatch.setattr(inductor_config.cpp, "cxx", ("/nonexistent/c++",))
    monkeypatch.setattr(inductor_config, "fx_graph_cache", False)
    monkeypatch.setattr(functorch_config, "enable_autograd_cache", False)
    torch._dynamo.reset()  # no graph compiled by an earlier test may answer instead
    try:
        engine = Engine(registry, device="cpu", precision="fp32")
        engine.warmup(["c"])
        x = frames(1, 16, 20)
        y = engine.stylize_batch("c", x)
    finally:
        torch._dynamo.reset()

    assert engine.loaded()["c"].startswith("eager float32")
    assert np.abs(y.astype(int) - reference(packs[2], x).astype(int)).max() <= 1


def test_onnx_model_is_cached_by_weights(registry: StyleRegistry, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    x = frames(1, 12, 16)
    first = Engine(registry, device="cpu", precision="fp32", backend="onnxruntime", cache_dir=cache)
    y1 = first.stylize_batch("a", x)
    first.stylize_batch("b", x)
    files = sorted((cache / "onnx").glob("*.onnx"))
    stamps = [f.stat().st_mtime_ns for f in files]

    second = Engine(
        registry, device="cpu", precision="fp32", backend="onnxruntime", cache_dir=cache
    )
    y2 = second.stylize_batch("a", x)

    assert len(files) == 2  # one per style's weights
    assert [f.stat().st_mtime_ns for f in sorted((cache / "onnx").glob("*.onnx"))] == stamps
    assert np.array_equal(y1, y2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_device_is_a_clear_error() -> None:
    with pytest.raises(ArtistoError, match="no CUDA device"):
        choose_device("cuda")
    assert choose_device("auto").type == "cpu"


def test_onnxruntime_refuses_half_precision(registry: StyleRegistry) -> None:
    if not HAS_BF16:
        pytest.skip("this CPU has no native bf16")
    with pytest.raises(ArtistoError, match="fp32"):
        Engine(registry, device="cpu", precision="bf16", backend="onnxruntime")
