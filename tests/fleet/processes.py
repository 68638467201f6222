"""Real processes of the fleet, as an operator starts them: ``artisto run --role worker``
with its settings in the environment, pointed at the test's emulator and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.config import ENV_PREFIX
from playground import BotApiEmulator

REPO = Path(__file__).resolve().parents[2]


def fleet_env(
    pg_url: str, emulator: BotApiEmulator, data_dir: Path, styles_dir: Path, **settings: str
) -> dict[str, str]:
    """The caller's environment without ARTISTO_* settings, plus a worker's: the emulator's
    token and URL, the database, the CPU with one thread and no warm-up, any free port."""
    assert emulator.url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    return env | {
        "ARTISTO_BOT__TOKEN": emulator.token,
        "ARTISTO_BOT__API_BASE": emulator.url,
        "ARTISTO_BOT__LISTEN_HOST": "127.0.0.1",
        "ARTISTO_BOT__LISTEN_PORT": "0",
        "ARTISTO_DB__URL": pg_url,
        "ARTISTO_DB__MIGRATE_ON_START": "false",
        "ARTISTO_DATA_DIR": str(data_dir),
        "ARTISTO_INFERENCE__STYLES_DIR": str(styles_dir),
        "ARTISTO_INFERENCE__DEVICE": "cpu",
        "ARTISTO_INFERENCE__CPU_THREADS": "1",
        "ARTISTO_INFERENCE__WARMUP": "false",
        "ARTISTO_INFERENCE__MAX_WAIT_MS": "0",
        **settings,
    }


class WorkerProcess:
    """``artisto run --role worker`` in a process of its own, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "artisto.cli", "run", "--role", "worker"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no release; the jobs it holds keep its lease until it lapses."""
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 30)

    async def stop(self, wait_s: float = 60) -> int:
        """SIGTERM, as a service manager stops it; returns its exit status. Waited for off
        the event loop, which may be serving the emulator the worker still talks to."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, wait_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]
