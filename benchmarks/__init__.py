"""Benchmarks that print markdown tables: the generator alone, and the video pipeline.

``artisto bench [generator|video|all] [--quick]`` runs them; each module also runs alone
(``python -m benchmarks.generator``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def run_benchmarks(which: str, *, quick: bool, styles_dir: Path | None) -> int:
    """Run the named benchmark ("generator", "video" or "all"); the exit status of the worst."""
    if which not in ("generator", "video", "all"):
        raise ValueError(f"unknown benchmark {which!r}: use generator, video or all")
    status = 0
    if which in ("generator", "all"):
        from benchmarks.generator import main as generator_main

        status = max(status, generator_main(quick=quick, styles_dir=styles_dir))
    if which in ("video", "all"):
        if importlib.util.find_spec("benchmarks.video") is None:
            print("video benchmark: benchmarks/video.py is not there yet")
            status = max(status, 1)
        else:
            from benchmarks.video import main as video_main

            status = max(status, video_main(quick=quick))
    return status
