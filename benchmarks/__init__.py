"""Benchmarks that print markdown tables: the generator alone, a phone photo end to end, the
video pipeline, and the time ``artisto run`` takes to show the playground's URL.

``artisto bench [generator|photo|video|startup|all] [--quick]`` runs them (``all``: the three
pipelines); each module also runs alone (``python -m benchmarks.generator``).
"""

from __future__ import annotations

from pathlib import Path


def run_benchmarks(which: str, *, quick: bool, styles_dir: Path | None) -> int:
    """Run the named benchmark ("generator", "photo", "video", "startup" or "all"); the exit
    status of the worst."""
    if which not in ("generator", "photo", "video", "startup", "all"):
        raise ValueError(
            f"unknown benchmark {which!r}: use generator, photo, video, startup or all"
        )
    if which == "startup":
        from benchmarks.startup import main as startup_main

        return startup_main(["--no-photo"] if quick else [], styles_dir)
    status = 0
    if which in ("generator", "all"):
        from benchmarks.generator import main as generator_main

        status = max(status, generator_main(quick=quick, styles_dir=styles_dir))
    if which in ("photo", "all"):
        from benchmarks.photo import main as photo_main

        status = max(status, photo_main(["--repeats", "3"] if quick else [], styles_dir))
    if which in ("video", "all"):
        from benchmarks.video import main as video_main

        status = max(status, video_main(quick=quick))
    return status
