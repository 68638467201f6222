"""``artisto bench video``: the video pipeline end to end, and what the temporal pass buys.

For vtest.mp4 (768×576, 10 fps; its first 30 s) and a synthetic 30 s 720p 30 fps phone-like
clip with sound, at processed sizes 360, 512 and 720: frames per second from file to file
(probe, decode, stylize, x264, mux), the busy time of each stage, the share of wall time spent
outside the generator, and the peak RSS of the process (each case runs in a fresh one).
Prints Markdown tables to paste into benchmarks/README.md.

``--pool`` runs each clip through an ``InferencePool`` whose worker thread owns the engine,
each batch handed over from the pipeline's thread (``stylize_video_pooled``); the temporal-pass
report, which does not depend on the path, is then left out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import torch

from benchmarks.video_clips import (
    VTEST,
    bench_style,
    describe,
    make_generator,
    synthetic_pan,
    trim,
    workdir,
)
from benchmarks.video_smooth import smoothness_report
from inference.engine import Engine
from inference.media.video import (
    VideoLimits,
    VideoOptions,
    VideoResult,
    stylize_video,
    stylize_video_pooled,
)
from inference.pool import InferencePool, Priority
from inference.pool_engine import PoolConfig

SIDES = (360, 512, 720)
SECONDS = 30.0
QUICK_SIDES = (360, 512)
QUICK_SECONDS = 4.0


@dataclass(frozen=True)
class Row:
    clip: str
    side: int
    size: str
    frames: int
    wall_s: float
    decode_s: float
    stylize_s: float
    encode_s: float
    peak_rss_mb: float
    generator: str

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s

    @property
    def outside(self) -> float:
        """Share of the wall time the generator was not running."""
        return 1 - self.stylize_s / self.wall_s


def run_case(
    clip: Path, label: str, side: int, scratch: Path, style: str | None, through_pool: bool
) -> Row:
    """One clip at one size, in this (fresh) process."""
    options = VideoOptions(
        max_side=side, limits=VideoLimits(max_seconds=SECONDS + 1, max_input_bytes=1 << 31)
    )
    dst = scratch / f"out-{label}-{side}.mp4"
    gen_dir = scratch / f"gen-{os.getpid()}"
    if through_pool:
        result, generator = asyncio.run(_through_pool(clip, dst, options, gen_dir, style))
    else:
        stylize, generator = make_generator(gen_dir, style)
        result = stylize_video(clip, dst, stylize, options=options)
    times = result.times
    return Row(
        clip=label,
        side=side,
        size=f"{result.width}×{result.height}",
        frames=result.frames,
        wall_s=times.wall_s,
        decode_s=times.decode_s,
        stylize_s=times.stylize_s,
        encode_s=times.encode_s,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        generator=generator,
    )


async def _through_pool(
    clip: Path, dst: Path, options: VideoOptions, gen_dir: Path, style: str | None
) -> tuple[VideoResult, str]:
    """The clip through a pool of one worker (its engine made and warmed in that thread)."""
    chosen = bench_style(gen_dir, style)
    engines: list[Engine] = []

    def engine() -> Engine:
        engines.append(Engine(chosen.registry, cache_dir=gen_dir / "cache"))
        return engines[-1]

    async with InferencePool(engine, PoolConfig(warmup_styles=(chosen.name,))) as pool:
        await pool.warmed()  # the clip is timed on a warm engine, as a server runs it
        result = await stylize_video_pooled(
            clip,
            dst,
            lambda frames: pool.submit(chosen.name, frames, user_id=1, priority=Priority.VIDEO),
            options=options,
        )
    return result, f"{describe(engines[0], chosen)}; through the inference pool"


def throughput_table(rows: list[Row]) -> str:
    lines = [
        "| clip | processed | frames | fps end to end | decode s | generator s | encode s "
        "| outside generator | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.clip} | {r.size} | {r.frames} | {r.fps:.2f} | {r.decode_s:.1f} | "
            f"{r.stylize_s:.1f} | {r.encode_s:.1f} | {r.outside:.0%} | {r.peak_rss_mb:.0f} MB |"
        )
    return "\n".join(lines)


def side_list(text: str) -> tuple[int, ...]:
    """``--sides``: comma-separated processed sizes, each at least 64 pixels."""
    try:
        sides = tuple(int(side) for side in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of sizes: {text!r}") from None
    if min(sides) < 64:
        raise argparse.ArgumentTypeError(f"sizes start at 64 pixels: {text!r}")
    return sides


def main(quick: bool = False, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.video", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="4 s clips at 360 and 512 px")
    parser.add_argument(
        "--sides", type=side_list, help="comma-separated processed sizes (default 360,512,720)"
    )
    parser.add_argument("--seconds", type=float, help="clip length (default 30)")
    parser.add_argument("--style", help="an installed style (default: random weights)")
    parser.add_argument(
        "--pool", action="store_true", help="through the inference pool, as the bot runs a clip"
    )
    args = parser.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    seconds = args.seconds or (QUICK_SECONDS if quick else SECONDS)
    sides: tuple[int, ...] = args.sides or (QUICK_SIDES if quick else SIDES)
    with workdir() as tmp:
        scratch = Path(tmp)
        started = time.perf_counter()
        clips = {
            f"vtest.mp4 (first {seconds:.0f} s)": trim(VTEST, scratch / "vtest.mp4", seconds),
            f"synthetic 720p30 {seconds:.0f} s + AAC": synthetic_pan(
                scratch / "pan720.mp4", seconds=seconds
            ),
        }
        print(f"clips ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        rows: list[Row] = []
        for label, clip in clips.items():
            for side in sides:
                # A fresh process per case: peak RSS belongs to that case alone.
                with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                    case = (clip, label, side, scratch, args.style, args.pool)
                    row = pool.submit(run_case, *case).result()
                print(
                    f"{label} @ {side}: {row.fps:.2f} fps, {row.peak_rss_mb:.0f} MB",
                    file=sys.stderr,
                )
                rows.append(row)
        print("## Video\n")
        print(f"Generator: {rows[0].generator}.")
        print(
            f"CPU: {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} "
            f"threads; load average {os.getloadavg()[0]:.1f} at the end (shared machine).\n"
        )
        print(throughput_table(rows))
        if not args.pool:
            print()
            print(smoothness_report(scratch, frames=40 if quick else 200, style=args.style))
    return 0


if __name__ == "__main__":
    sys.exit(main(argv=sys.argv[1:]))
