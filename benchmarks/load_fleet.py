"""The fleet of the load test, as an operator runs it: a database of its own on the PostgreSQL
server, migrated with ``artisto db upgrade``, and ``artisto run --role bot|worker`` processes
pointed at the playground's emulator. Also the faults: SIGKILL, and every worker's database
connection cut at once (``pg_terminate_backend``).

Nothing here imports the bot: the fleet is reached the way an operator reaches it, through
processes, their ``/healthz`` and ``/metrics``, and SQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from playground import BotApiEmulator

REPO = Path(__file__).resolve().parents[1]


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """A database of the load test's own on the server at ``server_url``, dropped at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.name = f"artisto_load_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.url = make_url(server_url).set(database=self.name).render_as_string(False)

    async def create(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.name}"')
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "artisto.cli", "db", "upgrade",
            env=clean_env() | {"ARTISTO_DB__URL": self.url},
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if await migrate.wait() != 0:
            raise RuntimeError("artisto db upgrade failed")

    async def drop(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(asyncpg_dsn(self.url))
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    async def cut(self, application_name: str) -> int:
        """End every backend of that application name, as a failover or an operator would."""
        rows = await self.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = $1",
            application_name,
        )
        return len(rows)

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(asyncpg_dsn(self.server_url))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ARTISTO_")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    """One ``artisto run --role ROLE`` process and the port of its /healthz and /metrics."""

    name: str
    role: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def healthy(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"{self.base}/healthz", timeout=aiohttp.ClientTimeout(2)) as r:
                return r.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def metric(self, session: aiohttp.ClientSession, name: str) -> float:
        """The sum of a metric's samples; 0 when the process does not answer."""
        try:
            async with session.get(f"{self.base}/metrics", timeout=aiohttp.ClientTimeout(5)) as r:
                page = await r.text()
        except (aiohttp.ClientError, TimeoutError):
            return 0.0
        samples = [line.split()[-1] for line in page.splitlines() if line.startswith(name)]
        return sum(float(value) for value in samples)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, 60)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Fleet:
    database: Database
    emulator: BotApiEmulator
    folder: Path
    settings: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def env(self, role: str, name: str, port: int) -> dict[str, str]:
        assert self.emulator.url is not None
        return clean_env() | {
            "ARTISTO_BOT__TOKEN": self.emulator.token,
            "ARTISTO_BOT__API_BASE": self.emulator.url,
            "ARTISTO_BOT__LISTEN_HOST": "127.0.0.1",
            "ARTISTO_BOT__LISTEN_PORT": str(port),
            "ARTISTO_DB__URL": self.database.url,
            "ARTISTO_DB__MIGRATE_ON_START": "false",
            "ARTISTO_DATA_DIR": str(self.folder / name),
            "ARTISTO_LOG_LEVEL": "INFO",
            **self.settings,
        }

    def start(self, role: str, name: str) -> Process:
        port = free_port()
        log = self.folder / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "artisto.cli", "run", "--role", role],
                cwd=REPO,
                env=self.env(role, name, port),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = Process(name, role, port, popen, log)
        self.processes.append(process)
        return process

    async def wait_healthy(self, *processes: Process, wait_s: float = 300) -> None:
        async with aiohttp.ClientSession() as session:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait_s
            for process in processes:
                while not await process.healthy(session):
                    if process.process.poll() is not None or loop.time() > deadline:
                        raise RuntimeError(f"{process.name} did not start; see {process.log}")
                    await asyncio.sleep(0.5)

    async def metric(self, name: str, role: str = "worker") -> float:
        """A metric summed over the live processes of ``role``."""
        alive = [p for p in self.processes if p.role == role and p.process.poll() is None]
        async with aiohttp.ClientSession() as session:
            return sum([await p.metric(session, name) for p in alive])

    async def stop(self) -> None:
        await asyncio.gather(*(process.stop() for process in self.processes))
