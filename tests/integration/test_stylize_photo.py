"""The photo path end to end: real files, a real (tiny) generator, the real command line."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import ExifTags, Image
from torch.nn import functional as F

import inference.registry.discovery
import inference.registry.pack
from artisto.cli import main
from artisto.errors import MediaDecodeError
from inference.media.image import fit_size
from inference.nets.transformer import TransformerNet
from inference.photo import PhotoOptions, stylize_photo, stylize_photo_async
from inference.registry import NetSpec, StylePack
from inference.registry.weights import Weights
from tests.fixtures_packs import make_tiny_pack


def _jpeg(width: int, height: int, *, orientation: int = 1, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([xs / width * 255, ys / height * 255, np.full_like(xs, 100)], axis=-1)
    rgb[: height // 2, : width // 2] = (250, 20, 20)  # a red quarter, top left
    rgb += rng.normal(0, 6, rgb.shape)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92, exif=exif)
    return buf.getvalue()


def _generator_batch(
    net: TransformerNet, seen: list[tuple[int, ...]]
) -> Callable[[np.ndarray], np.ndarray]:
    """The generator as a batch function (reflect-pad to its multiple of 4, crop back)."""

    def run(frames: np.ndarray) -> np.ndarray:
        seen.append(frames.shape)
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
        height, width = x.shape[2:]
        pad = (0, -width % 4, 0, -height % 4)
        with torch.inference_mode():
            y = net(F.pad(x, pad, mode="reflect"))[:, :, :height, :width]
        out: np.ndarray = (y.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return np.ascontiguousarray(out)

    return run


@pytest.fixture
def pack(tmp_path: Path) -> StylePack:
    return make_tiny_pack(tmp_path / "styles", "tiny", work_side=None)


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


# --- the pipeline ------------------------------------------------------------------------


def test_output_has_the_capped_input_size_and_is_stylized(pack: StylePack) -> None:
    seen: list[tuple[int, ...]] = []
    data = _jpeg(203, 151)

    result = stylize_photo(
        data, _generator_batch(pack.build_generator(), seen), PhotoOptions(max_side=100)
    )

    assert result.size == fit_size((203, 151), 100) == (100, 74)
    assert seen == [(1, 74, 100, 3)]
    out = _open(result.data)
    assert out.format == "JPEG" and out.size == (100, 74)
    plain = np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((100, 74)), np.float32)
    assert np.abs(np.asarray(out, np.float32) - plain).mean() > 5  # the generator did something


def test_small_photo_is_not_upscaled(pack: StylePack) -> None:
    result = stylize_photo(_jpeg(50, 30), _generator_batch(pack.build_generator(), []))
    assert result.size == (50, 30) == _open(result.data).size


def test_work_side_runs_the_generator_small_and_upscales_back(tmp_path: Path) -> None:
    pack = make_tiny_pack(tmp_path, "coarse", work_side=64)
    seen: list[tuple[int, ...]] = []
    options = PhotoOptions(max_side=160, work_side=pack.meta.work_side, fmt="png")

    result = stylize_photo(_jpeg(320, 240), _generator_batch(pack.build_generator(), seen), options)

    assert seen == [(1, 48, 64, 3)]
    assert result.work_size == (64, 48)
    out = _open(result.data)
    assert out.format == "PNG" and out.size == (160, 120) == result.size


def test_exif_rotated_photo_comes_out_upright(pack: StylePack) -> None:
    data = _jpeg(120, 80, orientation=6)  # stored landscape, shown portrait

    result = stylize_photo(data, _generator_batch(pack.build_generator(), []))

    out = np.asarray(_open(result.data), np.float32)
    assert out.shape == (120, 80, 3)
    # Orientation 6 turns the stored top-left red quarter into the top-right one.
    top_right, top_left = out[:60, 40:].mean(axis=(0, 1)), out[:60, :40].mean(axis=(0, 1))
    assert top_right[0] - top_right[2] > top_left[0] - top_left[2] + 40


def test_bad_input_fails_before_the_generator_runs(pack: StylePack) -> None:
    seen: list[tuple[int, ...]] = []
    with pytest.raises(MediaDecodeError):
        stylize_photo(
            b"\xff\xd8\xff\xe0 not really a jpeg", _generator_batch(pack.build_generator(), seen)
        )
    assert seen == []


def test_a_generator_returning_the_wrong_shape_is_caught(pack: StylePack) -> None:
    with pytest.raises(ValueError, match="the generator returned"):
        stylize_photo(_jpeg(40, 40), lambda frames: frames[:, :-1])


async def test_async_pipeline_awaits_the_generator(pack: StylePack) -> None:
    batch = _generator_batch(pack.build_generator(), [])

    async def stylize(frames: np.ndarray) -> np.ndarray:
        return await asyncio.to_thread(batch, frames)

    result = await stylize_photo_async(_jpeg(90, 60), stylize, PhotoOptions(max_side=45))
    sync = stylize_photo(_jpeg(90, 60), batch, PhotoOptions(max_side=45))

    assert result.size == (45, 30)
    assert result.data == sync.data


# --- the command line --------------------------------------------------------------------


@pytest.fixture
def styles_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty extra styles folder in the settings, and no shipped packs in the way."""
    extra = tmp_path / "extra"
    extra.mkdir()
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setattr(inference.registry.discovery, "SHIPPED_STYLES_DIR", shipped)
    monkeypatch.setenv("ARTISTO_INFERENCE__STYLES_DIR", str(extra))
    monkeypatch.setenv("ARTISTO_INFERENCE__DEVICE", "cpu")
    monkeypatch.setenv("ARTISTO_LOG_LEVEL", "WARNING")
    return extra


def test_styles_lists_packs_with_their_figures(
    styles_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_tiny_pack(styles_env, "mosaic", title="Mosaic", metrics={"noise_flicker": 0.8312})
    make_tiny_pack(styles_env, "candy", width=8, artist="Someone Else")

    assert main(["styles"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "title", "artist", "width", "size", "noise_flicker"]
    assert lines[1].split()[:1] == ["candy"] and lines[2].split()[:1] == ["mosaic"]
    assert "Someone Else" in lines[1] and " 8 " in lines[1] and lines[1].endswith("-")
    assert "Mosaic" in lines[2] and "Test Painter" in lines[2] and lines[2].endswith("0.831")
    assert " KB" in lines[2]


def test_styles_without_packs_says_where_it_looked(
    styles_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["styles"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no styles installed; looked in ")
    assert str(inference.registry.discovery.SHIPPED_STYLES_DIR) in out and str(styles_env) in out


def test_styles_with_a_malformed_pack_fails_with_its_message(
    styles_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_tiny_pack(styles_env, "broken").style_image_path.unlink()

    assert main(["styles"]) == 2

    err = capsys.readouterr().err
    assert err == f"artisto: error: {styles_env / 'broken' / 'style.jpg'}: missing\n"


@pytest.mark.parametrize(("suffix", "fmt"), [(".jpg", "JPEG"), (".png", "PNG")])
def test_stylize_writes_the_capped_photo(
    styles_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, fmt: str
) -> None:
    make_tiny_pack(styles_env, "tiny")
    src, dst = tmp_path / "in.jpg", tmp_path / f"out{suffix}"
    src.write_bytes(_jpeg(150, 100))

    assert main(["stylize", str(src), str(dst), "--style", "tiny", "--max-side", "90"]) == 0

    out = _open(dst.read_bytes())
    assert out.format == fmt and out.size == (90, 60)
    assert capsys.readouterr().out.startswith(f"{dst}: 90x60 in 'tiny'")


@pytest.mark.parametrize(
    ("src_name", "dst_name", "style", "message"),
    [
        ("in.jpg", "out.jpg", "nope", "unknown style 'nope' (installed: tiny)"),
        ("clip.mp4", "out.jpg", "tiny", "the output of a video must end in .mp4"),
        ("in.jpg", "out.webp", "tiny", "the output must end in .jpg, .jpeg or .png"),
        ("notes.jpg", "out.jpg", "tiny", "not a JPEG, PNG, WebP, BMP, TIFF or GIF image"),
    ],
)
def test_stylize_mistakes_give_exit_2_and_one_line(
    styles_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    src_name: str,
    dst_name: str,
    style: str,
    message: str,
) -> None:
    make_tiny_pack(styles_env, "tiny")
    src, dst = tmp_path / src_name, tmp_path / dst_name
    src.write_bytes(b"this is not a photo" if src_name == "notes.jpg" else _jpeg(40, 30))

    assert main(["stylize", str(src), str(dst), "--style", style]) == 2

    captured = capsys.readouterr()
    assert captured.err.startswith("artisto: error: ") and captured.err.count("\n") == 1
    assert message in captured.err
    assert captured.out == ""
    assert not dst.exists()


def test_stylize_reads_the_weights_of_the_chosen_style_only(
    styles_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tiny_pack(styles_env, "chosen")
    make_tiny_pack(styles_env, "other", seed=1)
    read: list[Path] = []
    real = inference.registry.pack.read_weights

    def recording(file: Path, spec: NetSpec) -> Weights:
        read.append(file)
        return real(file, spec)

    monkeypatch.setattr(inference.registry.pack, "read_weights", recording)
    monkeypatch.setenv("ARTISTO_DATA_DIR", str(tmp_path / "data"))
    src = tmp_path / "in.jpg"
    src.write_bytes(_jpeg(40, 30))

    assert main(["stylize", str(src), str(tmp_path / "out.jpg"), "--style", "chosen"]) == 0

    assert read and set(read) == {styles_env / "chosen" / "weights.safetensors"}


_PHOTO_PROCESS = """
import sys
from artisto.cli import main
status = main(sys.argv[1:])
print(status, "torch" in sys.modules, "onnx" in sys.modules)
"""


def test_a_photo_from_the_command_line_never_imports_torch(tmp_path: Path) -> None:
    """The first run builds the style's model without torch; later ones open it from the
    cache without ``onnx`` either."""
    styles = tmp_path / "styles"
    make_tiny_pack(styles, "tiny", work_side=64)
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    src.write_bytes(_jpeg(150, 100))
    env = {
        **os.environ,
        "ARTISTO_INFERENCE__STYLES_DIR": str(styles),
        "ARTISTO_DATA_DIR": str(tmp_path / "data"),
        "ARTISTO_INFERENCE__DEVICE": "auto",
    }
    command = [sys.executable, "-c", _PHOTO_PROCESS, "stylize", str(src), str(dst)]

    runs = [
        subprocess.run(
            [*command, "--style", "tiny"], env=env, capture_output=True, text=True, check=True
        )
        for _ in range(2)
    ]

    built, cached = (run.stdout.splitlines()[-1] for run in runs)
    assert built == "0 False True"
    assert cached == "0 False False"
    assert _open(dst.read_bytes()).size == (150, 100)
    assert len(list((tmp_path / "data" / "cache" / "onnx").glob("*.onnx"))) == 1
