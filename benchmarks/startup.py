"""Time to the playground's URL: ``artisto run`` without a token, timed as a whole process.

    python -m benchmarks.startup [--runs N] [--no-photo] [--keep-compile-cache]

(``artisto bench startup`` is the same with one run.) Each run starts the console script in a
fresh folder of its own (data folder, database, model caches and, unless
``--keep-compile-cache``, torch's compile cache), as ``make run`` does the first time, and
times from the spawn:

- **URL**: the playground's line on stdout, the one the user acts on;
- **page**: the page answering at that URL;
- **first photo**: Alice sends a sample photo, picks the style the warm-up reaches last, and
  the painting arrives; the column says whether the warm-up was still running then;
- **warm-up done**: the pool's ``pool.ready`` log line (every style loaded and compiled);
- **stop**: Ctrl+C (SIGINT) after the warm-up, to the process's exit.

Prints one Markdown table, with the machine's cores and load average (a shared machine makes
every figure slower; compare runs made side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from inference.registry import StyleRegistry

URL_LINE = re.compile(r"artisto playground: open (http://\S+?)/? ")
SAFETY_S = 900.0
"""A run that shows nothing for this long is reported as stuck, not waited for forever."""
JsonDict = dict[str, Any]


@dataclass
class Run:
    url_s: float
    page_s: float
    photo_s: float | None
    photo_style: str | None
    photo_while_warming: bool | None
    ready_s: float | None
    stop_s: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _artisto() -> list[str]:
    beside = Path(sys.executable).with_name("artisto")
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "artisto.cli"]


def _environment(folder: Path, keep_compile_cache: bool, styles_dir: Path | None) -> dict[str, str]:
    """The caller's settings, but no token (the playground), a data folder and port of the
    run's own, and JSON logs to read the pool's events from."""
    env = {k: v for k, v in os.environ.items() if k != "ARTISTO_BOT__TOKEN"}
    if styles_dir is not None:
        env["ARTISTO_INFERENCE__STYLES_DIR"] = str(styles_dir)
    env |= {
        "ARTISTO_DATA_DIR": str(folder / "data"),
        "ARTISTO_BOT__PLAYGROUND_PORT": str(_free_port()),
        "ARTISTO_LOG_FORMAT": "json",
        "ARTISTO_LOG_LEVEL": "INFO",
    }
    if not keep_compile_cache:
        env["TORCHINDUCTOR_CACHE_DIR"] = str(folder / "torchinductor")
    return env


def _lines(stream: Any, into: queue.Queue[tuple[float, str]]) -> None:
    for line in stream:
        into.put((time.perf_counter(), line))
    into.put((time.perf_counter(), ""))


def _log_event(log: Path, name: str) -> JsonDict | None:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            record: JsonDict = json.loads(line)
            if record.get("event") == name:
                return record
    return None


def _at(record: JsonDict, spawned_wall: float) -> float:
    return datetime.fromisoformat(record["ts"]).timestamp() - spawned_wall


class Page:
    """The playground's own JSON API (``/ui/``), as the web page uses it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **query: object) -> JsonDict:
        address = f"{self.url}{path}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(address, timeout=60) as response:
            body: JsonDict = json.load(response)
            return body

    def post(self, path: str, form: dict[str, object] | None = None, **body: object) -> JsonDict:
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            kind = "application/x-www-form-urlencoded"
        else:
            data, kind = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(f"{self.url}{path}", data, {"Content-Type": kind})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: JsonDict = json.load(response)
            return answer

    def wait_for(self, after: int, match: Any, until: float) -> JsonDict:
        """The first event after ``after`` that ``match`` accepts."""
        while time.perf_counter() < until:
            found = self.get("/ui/events", after=after, timeout=5)
            for event in found["events"]:
                if match(event):
                    return dict(event)
            after = found["cursor"]
        raise TimeoutError("the bot never answered")


def _reply_to(original: JsonDict, event: JsonDict, kind: str) -> bool:
    message = event.get("message") or {}
    replied = message.get("reply_to_message") or {}
    return bool(
        event["type"] in ("message", "edit")
        and replied.get("message_id") == original["message_id"]
        and kind in message
    )


def _first_photo(page: Page, until: float) -> tuple[float, str]:
    """Alice's photo painted in the style listed last (the warm-up's last): the wall-clock
    time it arrived, and the style."""
    state = page.get("/ui/state")
    alice = state["people"][0]["id"]
    sample = next(s["name"] for s in state["samples"] if s["kind"] == "photo")
    sent = page.post("/ui/send", form={"user_id": alice, "chat_id": alice, "sample": sample})
    original = sent["message"]
    keyboard = page.wait_for(
        state["cursor"], lambda e: _reply_to(original, e, "reply_markup"), until
    )
    rows = keyboard["message"]["reply_markup"]["inline_keyboard"]
    choices = [b["callback_data"] for row in rows for b in row if b["callback_data"][:3] == "st:"]
    data = max(choices, key=lambda d: d.rsplit(":", 1)[1])
    cursor = keyboard["seq"]
    page.post(
        "/ui/press",
        user_id=alice,
        chat_id=alice,
        message_id=keyboard["message"]["message_id"],
        data=data,
    )
    painted = page.wait_for(cursor, lambda e: _reply_to(original, e, "photo"), until)
    return float(painted["time"]), data.rsplit(":", 1)[1]


def run_once(*, photo: bool, keep_compile_cache: bool, styles_dir: Path | None) -> Run:
    folder = Path(tempfile.mkdtemp(prefix="artisto-startup-"))
    log = folder / "stderr.log"
    lines: queue.Queue[tuple[float, str]] = queue.Queue()
    try:
        with log.open("w") as stderr:
            spawned_wall, spawned = time.time(), time.perf_counter()
            process = subprocess.Popen(
                [*_artisto(), "run"],
                cwd=folder,
                env=_environment(folder, keep_compile_cache, styles_dir),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        assert process.stdout is not None
        threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
        try:
            return _measure(process, lines, log, spawned, spawned_wall, photo=photo)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(
    process: subprocess.Popen[str],
    lines: queue.Queue[tuple[float, str]],
    log: Path,
    spawned: float,
    spawned_wall: float,
    *,
    photo: bool,
) -> Run:
    until = spawned + SAFETY_S
    while True:
        at, line = lines.get(timeout=SAFETY_S)
        if not line:
            raise SystemExit(f"artisto run exited ({process.wait()}): {log.read_text()[-2000:]}")
        found = URL_LINE.search(line)
        if found:
            url, url_s = found[1], at - spawned
            break
    with urllib.request.urlopen(url + "/", timeout=60) as response:
        assert response.status == 200
    page_s = time.perf_counter() - spawned
    photo_s = style = while_warming = None
    if photo:
        arrived, style = _first_photo(Page(url), until)
        photo_s = arrived - spawned_wall
    ready = None
    while ready is None and process.poll() is None and time.perf_counter() < until:
        ready = _log_event(log, "pool.ready") or _log_event(log, "pool.warmup_failed")
        time.sleep(0.2)
    if ready is not None and ready["event"] != "pool.ready":
        raise SystemExit(f"the warm-up failed: {ready.get('reason')}")
    ready_s = None if ready is None else _at(ready, spawned_wall)
    if photo_s is not None and ready_s is not None:
        while_warming = photo_s < ready_s
    stopping = time.perf_counter()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=SAFETY_S)
    return Run(
        url_s,
        page_s,
        photo_s,
        style,
        while_warming,
        ready_s,
        time.perf_counter() - stopping,
    )


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def render(runs: list[Run], styles: int, load_before: str, load_after: str) -> str:
    lines = [
        f"## Time to the playground's URL ({time.strftime('%Y-%m-%d')})",
        "",
        f"`artisto run` without a token, {styles} styles installed, a fresh folder per run; "
        f"{os.cpu_count()} CPU cores; load average {load_before} before, {load_after} after.",
        "",
        "| run | URL s | page s | first photo s (style) | warming then | warm-up done s | stop s |",
        "| ---: | ---: | ---: | --- | --- | ---: | ---: |",
    ]
    for number, run in enumerate(runs, 1):
        photo = "–" if run.photo_s is None else f"{run.photo_s:.1f} ({run.photo_style})"
        warming = {None: "–", True: "yes", False: "no"}[run.photo_while_warming]
        lines.append(
            f"| {number} | {run.url_s:.1f} | {run.page_s:.1f} | {photo} | {warming} | "
            f"{_seconds(run.ready_s)} | {run.stop_s:.1f} |"
        )
    return "\n".join(lines)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {value}")
    return int(value)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None, styles_dir: Path | None = None) -> int:
    """``styles_dir``: the extra styles folder (default: ``ARTISTO_INFERENCE__STYLES_DIR``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--runs", type=_positive, default=1, help="runs, one after the other")
    parser.add_argument("--no-photo", action="store_true", help="time the start only")
    parser.add_argument(
        "--keep-compile-cache",
        action="store_true",
        help="let torch reuse the graphs an earlier run compiled (a second start)",
    )
    args = parser.parse_args(argv)
    if styles_dir is None and os.environ.get("ARTISTO_INFERENCE__STYLES_DIR"):
        styles_dir = Path(os.environ["ARTISTO_INFERENCE__STYLES_DIR"])
    styles = len(StyleRegistry.discover(styles_dir, verify=False))
    before = _load()
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(
            run_once(
                photo=not args.no_photo,
                keep_compile_cache=args.keep_compile_cache,
                styles_dir=styles_dir,
            )
        )
        print(f"run {number}: URL after {runs[-1].url_s:.1f} s", file=sys.stderr)
    print(render(runs, styles, before, _load()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
