"""Generator speed on this machine: every execution path side by side with a naive baseline and
with the compute floor.

    python -m benchmarks.generator [--quick] [--device cpu|cuda] [--threads N]
    artisto bench generator [--quick]

For each size and batch it prints the median milliseconds per image, images per second, the
peak memory the call added, the speed-up over the naive baseline (the same net in fp32,
batch 1, eager, autograd on, NCHW), the ratio to the compute floor, and the PSNR of the output
against fp32. The floor is the net's convolution FLOPs divided by what a large fp32 matrix
product reaches on the same threads, measured again before each size so that a busy machine
moves the floor and the timings together: compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch

from benchmarks.generator_report import Report, Row, SizeInfo, render
from benchmarks.measure import Stylize0, conv_gflop, matmul_gflops, peak_memory, psnr
from inference.backends import OrtBackend, TorchBackend
from inference.engine import DevicePreference, Engine, choose_device, probe_image
from inference.nets.transformer import TransformerNet
from inference.registry import NetSpec, StyleMeta, StylePack, StyleRegistry, write_pack

Stylize = Callable[[np.ndarray], np.ndarray]

SIZES: dict[str, tuple[int, int]] = {
    "256²": (256, 256),
    "512²": (512, 512),
    "720p": (720, 1280),
    "1080p": (1080, 1920),
}
QUICK_SIZES = ("256²", "512²")
FULL_REPEATS = {"256²": 5, "512²": 7, "720p": 5, "1080p": 3}
"""Timed runs at batch 1 (two fewer, at least two, at batch 8); more at the target sizes."""


@dataclass
class Path_:
    """One way of running the generator."""

    label: str
    run: Stylize
    batched: bool = True
    setup_s: float = 0.0


# --- the paths ---------------------------------------------------------------------------


def naive_path(net: TransformerNet, device: torch.device) -> Stylize:
    """What a first attempt looks like: fp32, NCHW, autograd recording, no inference mode."""
    naive = NetSpec.of(net).build()
    naive.load_state_dict(net.state_dict())
    naive = naive.to(device).eval()

    def run(frames: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(frames).to(device).permute(0, 3, 1, 2).float().contiguous() / 255
        y = naive(x)
        out = (y.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
        result: np.ndarray = out.cpu().numpy()
        return result

    return run


def _backend_path(backend: TorchBackend | OrtBackend) -> Stylize:
    return lambda frames: backend.run(torch.from_numpy(frames)).numpy()


def _compiled_path(net: TransformerNet, device: torch.device, dtype: torch.dtype) -> Path_:
    backend = TorchBackend(net, device=device, dtype=dtype, compile=True)
    start = time.perf_counter()
    backend.run(torch.from_numpy(probe_image(72, 96)))  # H != W: one general graph
    label = f"compile {_dtype_name(dtype)} channels_last"
    return Path_(label, _backend_path(backend), batched=False, setup_s=time.perf_counter() - start)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.").replace("float", "fp").replace("bfp16", "bf16")


def build_paths(
    pack: StylePack, device: torch.device, *, quick: bool, cache_dir: Path
) -> list[Path_]:
    net = pack.build_generator()
    paths = [Path_("naive fp32 (baseline)", naive_path(net, device), batched=False)]
    if device.type == "cpu":
        # --quick keeps the baseline, ONNX Runtime and the engine (eager, not warmed up).
        for dtype in () if quick else (torch.float32, torch.bfloat16):
            for channels_last in (False, True):
                backend = TorchBackend(net, device=device, dtype=dtype, channels_last=channels_last)
                layout = "channels_last" if channels_last else "NCHW"
                label = f"eager {_dtype_name(dtype)} {layout}"
                paths.append(Path_(label, _backend_path(backend)))
        ort = OrtBackend(pack, threads=torch.get_num_threads(), cache_dir=cache_dir)
        paths.append(Path_("onnxruntime fp32", _backend_path(ort)))
        if not quick:
            paths += [_compiled_path(net, device, d) for d in (torch.float32, torch.bfloat16)]
    else:
        for dtype in (torch.float32, torch.float16, torch.bfloat16):
            backend = TorchBackend(net, device=device, dtype=dtype)
            paths.append(Path_(f"eager {_dtype_name(dtype)} channels_last", _backend_path(backend)))
        if not quick:
            paths.append(_compiled_path(net, device, torch.bfloat16))
    preference = cast("DevicePreference", device.type)
    engine = Engine(StyleRegistry([pack]), device=preference, cache_dir=cache_dir)
    if quick:  # as a one-shot command runs it: no warm-up, so no compiling
        engine.stylize_batch(pack.name, probe_image(72, 96))
    else:  # as the bot runs it
        engine.warmup([pack.name])
    label = f"engine auto{' (no warm-up)' if quick else ''}: {engine.loaded()[pack.name]}"
    paths.append(Path_(label, lambda frames: engine.stylize_batch(pack.name, frames)))
    return paths


# --- running -----------------------------------------------------------------------------


def bench_size(
    report: Report,
    paths: list[Path_],
    size: str,
    batches: tuple[int, ...],
    repeats: int,
    device: torch.device,
    net: TransformerNet,
) -> None:
    """Time every path at one size. Paths and a matrix product take turns within each repeat,
    so a change in the machine's load moves the timings and the floor together."""
    height, width = SIZES[size]
    frame = probe_image(height, width)
    matmul = matmul_gflops(device)
    gflops: list[float] = []
    reference: np.ndarray | None = None
    naive_ms: float | None = None
    rows: list[Row] = []
    for batch in batches:
        frames = np.repeat(frame, batch, axis=0)
        active = [p for p in paths if batch == 1 or p.batched]
        first = {p.label: peak_memory(_bind(p.run, frames), device) for p in active}  # warm-up
        if reference is None:
            reference = first[paths[0].label][1]
        times: dict[str, list[float]] = {p.label: [] for p in active}
        for _ in range(repeats if batch == 1 else max(2, repeats - 2)):
            gflops.append(matmul())
            for p in active:
                start = time.perf_counter()
                p.run(frames)
                times[p.label].append(time.perf_counter() - start)
        for p in active:
            ms = statistics.median(times[p.label]) * 1000 / batch
            if p is paths[0]:
                naive_ms = ms
            peak_mb, output = first[p.label]
            rows.append(
                Row(
                    size,
                    batch,
                    p.label,
                    ms,
                    min(times[p.label]) * 1000 / batch,
                    peak_mb,
                    psnr(output[:1], reference[:1]),
                    naive_ms,
                )
            )
        print(f"  {size} batch {batch}: done", file=sys.stderr, flush=True)
    info = SizeInfo(conv_gflop(net, height, width), statistics.median(gflops))
    report.sizes[size] = info
    for row in rows:
        row.floor_ms = info.floor_ms
    report.rows += rows


def _bind(run: Stylize, frames: np.ndarray) -> Stylize0:
    return lambda: run(frames)


def pick_pack(styles_dir: Path | None, scratch: Path) -> tuple[StylePack, str]:
    """A shipped base-16 style when there is one, else a random base-16 net (speed does not
    depend on the weights, only the PSNR column does)."""
    registry = StyleRegistry.discover(styles_dir)
    for pack in registry:
        if pack.meta.net == NetSpec(width=16):
            return pack, f"style {pack.name!r}"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = TransformerNet()
    # Work side as the shipped recipe sets it, for benchmarks of the whole photo pipeline.
    meta = StyleMeta("random16", "Random", "nobody", net=NetSpec.of(net), work_side=512)
    painting = probe_image(96, 96)[0]
    from PIL import Image

    return write_pack(
        scratch / "styles" / "random16", net, meta, Image.fromarray(painting)
    ), "random init"


def run(
    *, quick: bool, styles_dir: Path | None, device_name: str = "auto", threads: int = 0
) -> Report:
    if threads > 0:
        torch.set_num_threads(threads)
    device = choose_device(cast("DevicePreference", device_name))
    with tempfile.TemporaryDirectory(prefix="artisto-bench-") as tmp:
        scratch = Path(tmp)
        pack, source = pick_pack(styles_dir, scratch)
        net = pack.build_generator()
        where = (
            torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else f"CPU, {torch.get_num_threads()} threads"
        )
        import onnxruntime

        report = Report(
            f"Generator base-{net.width} ({source}), {where}, torch {torch.__version__}, "
            f"onnxruntime {onnxruntime.__version__}{' (quick)' if quick else ''}"
        )
        paths = build_paths(pack, device, quick=quick, cache_dir=scratch / "cache")
        for p in paths:
            if p.setup_s:
                report.notes.append(f"{p.label}: first call (compiling) took {p.setup_s:.0f} s")
        report.notes.append(
            "batch 8 rows are per image; paths that only run batch 1 (naive, compiled) are "
            "compared at batch 1"
        )
        load_before = os.getloadavg()[0]
        sizes = QUICK_SIZES if quick else tuple(SIZES)
        for size in sizes:
            batches = (1,) if quick else _batches(size, device)
            repeats = 3 if quick else FULL_REPEATS[size]
            bench_size(report, paths, size, batches, repeats, device, net)
        if device.type == "cpu" and not quick:
            report.notes.append(
                "1080p batch 8 skipped on the CPU: a batch there costs what its frames cost one "
                "by one (see 720p), and eight 1080p frames per path per repeat took minutes"
            )
        report.notes.append(
            f"load average (1 min) {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at "
            f"the end, on {os.cpu_count()} CPUs"
        )
    return report


def _batches(size: str, device: torch.device) -> tuple[int, ...]:
    if device.type == "cuda":
        return (1, 8, 32)
    return (1,) if size == "1080p" else (1, 8)


def main(quick: bool = False, styles_dir: Path | None = None, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generator", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="two sizes, batch 1, 3 repeats, three paths"
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--styles-dir", type=Path, default=styles_dir)
    args = parser.parse_args([] if argv is None else argv)
    report = run(
        quick=quick or args.quick,
        styles_dir=args.styles_dir,
        device_name=args.device,
        threads=args.threads,
    )
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(argv=sys.argv[1:]))
