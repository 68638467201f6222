"""Clips and a generator for the video benchmarks.

The generator is a base-16 TransformerNet with random weights (a trained one runs at the same
speed), written into a throw-away style pack and run by ``inference.engine.Engine``, the way
the bot and the command line run styles.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.video
import numpy as np
import torch
from PIL import Image

from inference.engine import Engine
from inference.nets.transformer import TransformerNet
from inference.registry import NetSpec, StyleMeta, StyleRegistry, write_pack

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
VTEST = SHARED / "videos" / "vtest.mp4"
PAN_PHOTO = SHARED / "content" / "golden_gate.jpg"

Stylize = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class BenchStyle:
    registry: StyleRegistry
    name: str
    net: str
    """What the weights are, for the report."""


def random_net(seed: int = 0) -> TransformerNet:
    torch.manual_seed(seed)
    return TransformerNet(16).eval()


def bench_style(workdir: Path, style: str | None = None, seed: int = 0) -> BenchStyle:
    """The installed ``style``, or a throw-away pack with random weights (same speed, not the
    same flicker)."""
    if style is not None:
        return BenchStyle(StyleRegistry.discover(), style, f"style {style!r}")
    name = "bench_random"
    generator = random_net(seed)
    meta = StyleMeta(
        name=name, title="Random", artist="torch.manual_seed", net=NetSpec.of(generator)
    )
    rng = np.random.default_rng(seed)
    painting = Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8))
    write_pack(workdir / "styles" / name, generator, meta, painting)
    return BenchStyle(StyleRegistry.discover(workdir / "styles"), name, "random weights")


def describe(engine: Engine, style: BenchStyle) -> str:
    """What a warmed-up engine runs the benchmark's style on."""
    described = ", ".join(engine.loaded().values())
    return (
        f"base-16 TransformerNet, {style.net}; inference.engine.Engine on {engine.device} "
        f"({described}, {engine.cpu_threads} threads)"
    )


def make_generator(workdir: Path, style: str | None = None, seed: int = 0) -> tuple[Stylize, str]:
    """A batch stylize function run by the engine, and what it runs on."""
    chosen = bench_style(workdir, style, seed)
    engine = Engine(chosen.registry, cache_dir=workdir / "cache")
    engine.warmup([chosen.name])
    return lambda frames: engine.stylize_batch(chosen.name, frames), describe(engine, chosen)


def trim(src: Path, dst: Path, seconds: float) -> Path:
    """The first ``seconds`` of a clip, packets copied (no re-encode)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        source = inp.streams.video[0]
        stream = out.add_stream_from_template(source)
        for packet in inp.demux(source):
            if packet.pts is None or packet.time_base is None:
                continue
            if packet.pts * packet.time_base >= seconds:
                break
            packet.stream = stream
            out.mux(packet)
    return dst


def synthetic_pan(
    dst: Path, *, seconds: float, width: int = 1280, height: int = 720, fps: int = 30
) -> Path:
    """A phone-like clip: a photo panned slowly with light sensor noise, and a tone for sound."""
    photo = Image.open(PAN_PHOTO).convert("RGB")
    scale = 1.6 * width / photo.width
    big = np.asarray(
        photo.resize(
            (round(photo.width * scale), round(photo.height * scale)), Image.Resampling.LANCZOS
        )
    )
    rng = np.random.default_rng(3)
    frames = round(seconds * fps)
    span_x, span_y = big.shape[1] - width, big.shape[0] - height
    with av.open(str(dst), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        assert isinstance(video, av.video.stream.VideoStream)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.options = {"preset": "ultrafast", "crf": "23"}
        sound = out.add_stream("aac", rate=44100)
        sound.layout = "mono"
        tone = (0.2 * np.sin(2 * np.pi * 330 * np.arange(44100 + 1024) / 44100)).astype(np.float32)
        samples = 0
        for i in range(frames):
            x = round(span_x * i / max(1, frames - 1))
            y = round(span_y * (0.5 + 0.4 * math.sin(i / fps)))
            window = big[y : y + height, x : x + width].astype(np.int16)
            noisy = (window + rng.normal(0, 1.5, window.shape)).clip(0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(noisy, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
            while samples < (i + 1) * 44100 / fps:
                chunk = av.AudioFrame.from_ndarray(
                    tone[None, samples % 44100 : samples % 44100 + 1024],
                    format="fltp",
                    layout="mono",
                )
                chunk.sample_rate, chunk.pts = 44100, samples
                out.mux(sound.encode(chunk))
                samples += 1024
        out.mux(video.encode())
        out.mux(sound.encode())
    return dst


def workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="artisto-bench-video-")
