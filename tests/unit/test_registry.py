from __future__ import annotations

import pickle
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from artisto.errors import StylePackError, UnknownStyle
from inference.registry import (
    NetSpec,
    StyleMeta,
    StyleRegistry,
    load_pack,
    update_metrics,
    write_pack,
)
from inference.registry.weights import expected_shapes
from tests.fixtures_packs import make_tiny_pack, painting, tiny_generator


def test_written_pack_loads_back_with_its_meta_and_fp16_weights(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path, "starry", width=4, work_side=256, metrics={"flicker": 1.5})

    assert pack.path == tmp_path / "starry"
    assert pack.meta.net == NetSpec(width=4, residual_blocks=1, skip=True)
    assert pack.meta.work_side == 256
    assert pack.meta.metrics == {"flicker": 1.5}
    assert pack.meta.recipe["note"] == "random init for tests"
    stored = load_file(pack.weights_path)
    assert {t.dtype for t in stored.values()} == {torch.float16}
    assert pack.size_bytes == sum(f.stat().st_size for f in pack.path.iterdir())
    assert load_pack(pack.path) == pack


def test_written_pack_is_readable_by_other_users(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path)
    modes = {f.name: f.stat().st_mode & 0o777 for f in [pack.path, *pack.path.iterdir()]}
    assert modes == dict.fromkeys(modes, 0o644) | {pack.path.name: 0o755}


def test_built_generator_reproduces_the_net_that_was_written(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path, seed=3)
    original = tiny_generator(seed=3)
    x = torch.rand(1, 3, 16, 20, generator=torch.Generator().manual_seed(0))

    net = pack.build_generator()

    assert not net.training
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in net.parameters())
    with torch.inference_mode():
        torch.testing.assert_close(net(x), original(x), atol=2e-2, rtol=0)


def test_a_blurred_skip_survives_the_round_trip(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path, seed=4, skip_blur=1.5)
    x = torch.rand(1, 3, 16, 20, generator=torch.Generator().manual_seed(0))

    assert load_pack(pack.path).meta.net == NetSpec(width=4, residual_blocks=1, skip_blur=1.5)
    with torch.inference_mode():
        torch.testing.assert_close(
            pack.build_generator()(x), tiny_generator(seed=4, skip_blur=1.5)(x), atol=2e-2, rtol=0
        )


def test_style_image_is_kept_small_and_preview_defaults_to_it(tmp_path: Path) -> None:
    net = tiny_generator()
    meta = StyleMeta("big", "Big", "Someone", net=NetSpec.of(net))

    pack = write_pack(tmp_path / "big", net, meta, painting(size=1000))

    with Image.open(pack.style_image_path) as img:
        assert img.format == "JPEG" and max(img.size) == 512
    with Image.open(pack.preview_path) as img:
        assert img.format == "JPEG" and max(img.size) == 768


def test_rewriting_a_pack_replaces_it_and_leaves_no_temporary_folder(tmp_path: Path) -> None:
    make_tiny_pack(tmp_path, "same", seed=1)
    pack = make_tiny_pack(tmp_path, "same", seed=2, title="Second")

    assert load_pack(pack.path).meta.title == "Second"
    assert [p.name for p in tmp_path.iterdir()] == ["same"]


def test_write_refuses_meta_that_does_not_describe_the_net(tmp_path: Path) -> None:
    meta = StyleMeta("odd", "Odd", "X", net=NetSpec(width=8, residual_blocks=1))
    with pytest.raises(ValueError, match="does not describe"):
        write_pack(tmp_path / "odd", tiny_generator(width=4), meta, painting())


def test_write_refuses_weights_that_overflow_fp16(tmp_path: Path) -> None:
    net = tiny_generator()
    with torch.no_grad():
        next(net.parameters()).view(-1)[0] = 1e6
    meta = StyleMeta("inf", "I", "X", net=NetSpec.of(net))
    with pytest.raises(StylePackError, match="not finite"):
        write_pack(tmp_path / "inf", net, meta, painting())
    assert not any(tmp_path.iterdir())


def test_update_metrics_merges_into_style_toml(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path, metrics={"noise_flicker": 2.0, "warp_error": 5.0})

    updated = update_metrics(pack.path, {"noise_flicker": 0.8, "pan_flicker": 1.1})

    assert updated.meta.metrics == {"noise_flicker": 0.8, "warp_error": 5.0, "pan_flicker": 1.1}
    doc = tomllib.loads(pack.meta_path.read_text())
    assert doc["metrics"]["noise_flicker"] == 0.8
    assert doc["net"]["width"] == 4


# --- malformed packs ---------------------------------------------------------------------

Breaker = Callable[[Path], object]


def _edit_toml(old: str, new: str) -> Breaker:
    def edit(pack: Path) -> None:
        text = (pack / "style.toml").read_text()
        assert old in text, text
        (pack / "style.toml").write_text(text.replace(old, new, 1))

    return edit


def _edit_weights(change: Callable[[dict[str, torch.Tensor]], None]) -> Breaker:
    def edit(pack: Path) -> None:
        state = load_file(pack / "weights.safetensors")
        change(state)
        save_file(state, pack / "weights.safetensors")

    return edit


def _remove(name: str) -> Breaker:
    return lambda pack: (pack / name).unlink()


def _nan(state: dict[str, torch.Tensor]) -> None:
    state["residuals.0.conv1.1.weight"][0, 0, 0, 0] = float("nan")


def _extra(state: dict[str, torch.Tensor]) -> None:
    state["head.weight"] = torch.zeros(3, dtype=torch.float16)


def _drop(state: dict[str, torch.Tensor]) -> None:
    del state["decoder.2.1.bias"]


def _ints(state: dict[str, torch.Tensor]) -> None:
    state["decoder.2.1.bias"] = torch.zeros(3, dtype=torch.int32)


MALFORMED: dict[str, tuple[Breaker, str, str]] = {
    "missing weights": (_remove("weights.safetensors"), "weights.safetensors", "missing"),
    "missing toml": (_remove("style.toml"), "style.toml", "missing"),
    "missing painting": (_remove("style.jpg"), "style.jpg", "missing"),
    "missing preview": (_remove("preview.jpg"), "preview.jpg", "missing"),
    "bad toml": (_edit_toml('title = "', 'title = = "'), "style.toml", "bad TOML"),
    "missing key": (
        _edit_toml('artist = "Test Painter"\n', ""),
        "style.toml",
        "missing key artist",
    ),
    "missing width": (_edit_toml("width = 4\n", ""), "style.toml", "missing key net.width"),
    "unknown key": (_edit_toml("year =", "yaer ="), "style.toml", "unknown key yaer"),
    "bad name": (_edit_toml('name = "tiny"', 'name = "Tiny Style"'), "style.toml", "lowercase"),
    "width as bool": (_edit_toml("width = 4", "width = true"), "style.toml", "whole number"),
    "blur as text": (
        _edit_toml("skip_blur = 0.0", 'skip_blur = "2"'),
        "style.toml",
        "net.skip_blur must be a number",
    ),
    "blur without skip": (
        _edit_toml("skip = true\nskip_blur = 0.0", "skip = false\nskip_blur = 2.0"),
        "style.toml",
        "skip_blur must be 0, or positive with skip = true",
    ),
    "metric as text": (
        _edit_toml("[recipe]", '[metrics]\nflicker = "low"\n\n[recipe]'),
        "style.toml",
        "metrics.flicker must be a number",
    ),
    "wrong width": (
        _edit_toml("width = 4", "width = 8"),
        "weights.safetensors",
        "has shape [4, 3, 9, 9], expected [8, 3, 9, 9]",
    ),
    "more blocks than weights": (
        _edit_toml("residual_blocks = 1", "residual_blocks = 2"),
        "weights.safetensors",
        "missing tensor 'residuals.1.",
    ),
    "unknown tensor": (
        _edit_weights(_extra),
        "weights.safetensors",
        "unknown tensor 'head.weight'",
    ),
    "missing tensor": (
        _edit_weights(_drop),
        "weights.safetensors",
        "missing tensor 'decoder.2.1.bias'",
    ),
    "integer tensor": (_edit_weights(_ints), "weights.safetensors", "not float"),
    "nan": (_edit_weights(_nan), "weights.safetensors", "NaN"),
    "truncated weights": (
        lambda p: (p / "weights.safetensors").write_bytes(
            (p / "weights.safetensors").read_bytes()[:100]
        ),
        "weights.safetensors",
        "not a readable safetensors file",
    ),
    "painting not a jpeg": (
        lambda p: (p / "style.jpg").write_bytes(b"GIF89a not really"),
        "style.jpg",
        "not a JPEG",
    ),
    "painting too big": (
        lambda p: Image.new("RGB", (600, 300)).save(p / "style.jpg"),
        "style.jpg",
        "larger than 512 px",
    ),
    "empty preview": (lambda p: (p / "preview.jpg").write_bytes(b""), "preview.jpg", "empty"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_pack_is_refused_naming_file_and_problem(tmp_path: Path, case: str) -> None:
    pack = make_tiny_pack(tmp_path)
    breaker, file_name, problem = MALFORMED[case]
    breaker(pack.path)

    with pytest.raises(StylePackError) as info:
        load_pack(pack.path)

    message = str(info.value)
    assert str(pack.path / file_name) in message
    assert problem in message


class _Payload:
    """Unpickling this would create a file: proof that a pickle in a pack never runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))


def test_pickled_weights_are_refused_without_being_unpickled(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path)
    marker = tmp_path / "pwned"
    pack.weights_path.write_bytes(pickle.dumps(_Payload(marker)))

    with pytest.raises(StylePackError, match="not a readable safetensors file"):
        load_pack(pack.path)
    assert not marker.exists()


def test_load_pack_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("")
    with pytest.raises(StylePackError, match="not a style pack folder"):
        load_pack(tmp_path / "x")


# --- discovery ---------------------------------------------------------------------------


def test_discovery_merges_shipped_and_extra_folders(tmp_path: Path) -> None:
    shipped, extra = tmp_path / "shipped", tmp_path / "extra"
    make_tiny_pack(shipped, "mosaic")
    make_tiny_pack(shipped, "candy", title="Shipped Candy")
    make_tiny_pack(extra, "candy", title="Retrained Candy")
    make_tiny_pack(extra, "aurora")
    (extra / "notes").mkdir()  # a folder with no pack files is not a pack
    (extra / ".half_written").mkdir()  # nor is a hidden one
    (extra / ".half_written" / "style.toml").write_text("garbage")

    registry = StyleRegistry.discover(extra, shipped_dir=shipped)

    assert registry.names() == ["aurora", "candy", "mosaic"]
    assert len(registry) == 3
    assert "candy" in registry and "nope" not in registry
    assert registry.get("candy").meta.title == "Retrained Candy"
    assert [p.name for p in registry] == registry.names()
    assert registry.searched == (shipped, extra)


def test_discovery_without_extra_dir_uses_the_shipped_folder(tmp_path: Path) -> None:
    make_tiny_pack(tmp_path, "only")
    assert StyleRegistry.discover(shipped_dir=tmp_path).names() == ["only"]


def test_unknown_style_names_the_installed_ones(tmp_path: Path) -> None:
    make_tiny_pack(tmp_path, "mosaic")
    registry = StyleRegistry.discover(shipped_dir=tmp_path)
    with pytest.raises(UnknownStyle, match=r"unknown style 'nope' \(installed: mosaic\)"):
        registry.get("nope")


def test_discovery_refuses_a_malformed_pack(tmp_path: Path) -> None:
    make_tiny_pack(tmp_path, "broken").weights_path.unlink()
    with pytest.raises(StylePackError, match=r"weights\.safetensors: missing"):
        StyleRegistry.discover(shipped_dir=tmp_path)


def test_discovery_refuses_two_packs_with_one_name(tmp_path: Path) -> None:
    make_tiny_pack(tmp_path, "twin")
    pack = make_tiny_pack(tmp_path, "twin_copy")
    _edit_toml('name = "twin_copy"', 'name = "twin"')(pack.path)
    with pytest.raises(StylePackError, match="'twin' is also used by"):
        StyleRegistry.discover(shipped_dir=tmp_path)


def test_discovery_refuses_a_missing_extra_folder(tmp_path: Path) -> None:
    with pytest.raises(StylePackError, match="styles folder does not exist"):
        StyleRegistry.discover(tmp_path / "nowhere", shipped_dir=tmp_path)


# --- weights -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [NetSpec(width=16), NetSpec(width=4, residual_blocks=1), NetSpec(width=8, residual_blocks=0)],
)
def test_expected_shapes_are_the_generators_state_dict_in_order(spec: NetSpec) -> None:
    state = spec.build().state_dict()
    assert list(expected_shapes(spec).items()) == [(k, tuple(v.shape)) for k, v in state.items()]


def test_bf16_and_fp32_weights_load_as_the_same_fp32_values(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path)
    stored = load_file(pack.weights_path)
    for dtype in (torch.bfloat16, torch.float32):
        save_file({k: v.to(dtype) for k, v in stored.items()}, pack.weights_path)
        loaded = load_pack(pack.path).weights()
        for key, array in loaded.items():
            expected = stored[key].to(dtype).float().numpy()
            assert array.dtype == np.float32 and np.array_equal(array, expected), (dtype, key)
