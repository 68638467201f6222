"""The HTTP side over real sockets: webhook mode against the emulator (the secret checked, a
switch back to polling), /healthz and /metrics in polling mode, before and after real jobs and
while the pool warms up."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import torch
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.app import ArtistoApp
from bot.db import Job, JobStatus, create_engine
from bot.services.health import check_database
from bot.web import serve
from inference.engine import Engine
from inference.pool import PoolState
from inference.registry import StyleRegistry
from playground import ALICE, BORIS, BotApiEmulator
from tests.bot_harness import STYLES, jpeg, make_registry, running_bot, sqlite_url

SECRET = "s3cret_token-for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sample(page: str, name: str, **labels: str) -> float | None:
    """The value of one sample of a Prometheus text page; None when it is absent."""
    for family in text_string_to_metric_families(page):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


async def until(condition: Callable[[], Awaitable[bool]], wait_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + wait_s
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def serving(app: ArtistoApp, stop: asyncio.Event) -> asyncio.Task[None]:
    return asyncio.create_task(serve(app, stop=stop, handle_signals=False))


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


def help_update(update_id: int) -> dict[str, Any]:
    """What Telegram would POST for Boris sending /help."""
    boris = {"id": BORIS, "is_bot": False, "first_name": "Boris", "language_code": "ru"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 9_000,
            "date": 1_700_000_000,
            "chat": {"id": BORIS, "type": "private", "first_name": "Boris"},
            "from": boris,
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


async def test_webhook_checks_the_secret_and_polling_takes_over_again(
    tmp_path: Path, emulator: BotApiEmulator
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    webhook = {
        "mode": "webhook",
        "webhook_url": hook,
        "webhook_secret": SecretStr(SECRET),
        "listen_host": "127.0.0.1",
        "listen_port": port,
    }
    url = sqlite_url(tmp_path)
    async with running_bot(url, tmp_path, emulator=emulator, polling=False, bot=webhook) as h:
        stop = asyncio.Event()
        task = await serving(h.app, stop)

        async def webhook_set() -> bool:
            return (await h.app.bot.get_webhook_info()).url == hook

        await until(webhook_set)
        info = await h.app.bot.get_webhook_info()
        assert {"message", "callback_query", "inline_query"} <= set(info.allowed_updates or [])

        # Delivered by the emulator, with the secret header, over HTTP.
        start = emulator.send_user_message(ALICE, ALICE, "/start")
        greeting = await emulator.wait_for(lambda m: m["message_id"] > start["message_id"])
        assert greeting["text"].startswith("Hi, Alice!")

        # The same update three times: refused twice, so the third is not a repeat.
        update = help_update(10**6)
        async with aiohttp.ClientSession() as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with client.post(hook, json=update, headers=headers) as response:
                    assert response.status == 401
            await asyncio.sleep(0.2)
            assert emulator.chat_history(BORIS) == []
            right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with client.post(hook, json=update, headers=right) as response:
                assert response.status == 200
        reply = await emulator.wait_for(lambda m: m["chat"]["id"] == BORIS)
        assert reply["text"].startswith("Как это работает")

        stop.set()
        await task
        with pytest.raises(aiohttp.ClientConnectionError):  # intake is over
            async with aiohttp.ClientSession() as client:
                await client.post(hook, json=help_update(10**6 + 1))

    # Back to polling: the webhook is deleted and updates are fetched again.
    async with running_bot(url, tmp_path, emulator=emulator) as h:

        async def webhook_deleted() -> bool:
            return (await h.app.bot.get_webhook_info()).url == ""

        await until(webhook_deleted)
        again = emulator.send_user_message(ALICE, ALICE, "/help")
        answer = await emulator.wait_for(lambda m: m["message_id"] > again["message_id"])
        assert answer["text"].startswith("How it works")


async def test_health_and_metrics_follow_real_jobs(tmp_path: Path) -> None:
    port = free_port()
    listen = {"listen_host": "127.0.0.1", "listen_port": port}
    base = f"http://127.0.0.1:{port}"
    async with (
        running_bot(sqlite_url(tmp_path), tmp_path, polling=False, bot=listen) as h,
        aiohttp.ClientSession() as client,
    ):
        stop = asyncio.Event()
        task = await serving(h.app, stop)

        async def get(path: str) -> tuple[int, str, str]:
            async with client.get(base + path) as response:
                return response.status, response.headers["Content-Type"], await response.text()

        async def listening() -> bool:
            try:
                await get("/healthz")
            except aiohttp.ClientConnectionError:
                return False
            return True

        await until(listening)
        assert h.app.pool is not None and await h.app.pool.warmed() is PoolState.READY
        async with client.get(base + "/healthz") as response:
            assert response.status == 200
            assert await response.json() == {
                "status": "ok",
                "pool": {"state": "READY", "reason": None},
                "database": {"reachable": True, "reason": None},
            }
        status, content_type, before = await get("/metrics")
        assert status == 200 and content_type.startswith("text/plain; version=")
        assert sample(before, "artisto_jobs_finished_total", kind="photo", outcome="done") == 0
        assert sample(before, "artisto_job_latency_seconds_count", kind="photo") is None
        assert sample(before, "artisto_pool_ready") == 1

        # One photo painted (the bot polls inside serve), one broken image file failed.
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=5), "m.jpg"))
        keyboard = await h.keyboard_under(photo)
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        await h.result_for(photo)
        broken = h.emulator.send_user_message(ALICE, ALICE, document=(b"no image", "bad.png"))
        keyboard = await h.keyboard_under(broken)
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        await h.emulator.wait_for(
            lambda m: m["message_id"] == keyboard["message_id"] and "Sorry" in m.get("text", "")
        )
        jobs = {j.style: j.status for j in await h.rows(Job)}
        assert jobs == {"ember": JobStatus.DONE, "frost": JobStatus.FAILED}

        _, _, after = await get("/metrics")
        assert sample(after, "artisto_jobs_finished_total", kind="photo", outcome="done") == 1
        assert sample(after, "artisto_job_latency_seconds_count", kind="photo") == 1
        assert (sample(after, "artisto_job_latency_seconds_sum", kind="photo") or 0) > 0
        inference = sample(
            after, "artisto_job_stage_seconds_count", kind="photo", stage="inference"
        )
        assert inference == 1
        failed = sample(
            after, "artisto_jobs_finished_total", kind="image_document", outcome="failed"
        )
        assert failed == 1
        assert sample(after, "artisto_job_failures_total", reason="decode") == 1
        assert sample(after, "artisto_queue_depth") == 0
        gpu = sample(after, "artisto_gpu_memory_bytes", device="cuda:0", type="reserved")
        assert (gpu is not None) == torch.cuda.is_initialized()  # type: ignore[no-untyped-call]

        # A pool that is no longer READY makes the process unhealthy, and says why.
        await h.app.pool.aclose()
        async with client.get(base + "/healthz") as response:
            assert response.status == 503
            health = await response.json()
        assert health["status"] == "unhealthy"
        assert health["pool"] == {"state": "CLOSED", "reason": "shut down"}
        assert health["database"]["reachable"] is True
        stop.set()
        await task


async def test_an_unreachable_database_is_reported_not_raised() -> None:
    port = free_port()  # nothing listens there now
    engine = create_engine(f"postgresql+asyncpg://artisto@127.0.0.1:{port}/artisto")
    try:
        reason = await check_database(engine)
    finally:
        await engine.dispose()
    assert reason is not None and f"Connect call failed ('127.0.0.1', {port})" in reason


class HeldWarmUp(Engine):
    """The real engine on the tiny packs, whose warm-up of each style first waits at that
    style's gate; ``reached`` says which warm-ups have begun. The app makes two, one for its
    worker and one for its stand-in (which never warms up): they share the gates."""

    def __init__(
        self, registry: StyleRegistry, gates: dict[str, threading.Event], reached: set[str]
    ) -> None:
        super().__init__(registry, device="cpu", backend="eager", cpu_threads=1)
        self.gates = gates
        self.reached = reached

    def warm(self, name: str) -> None:
        self.reached.add(name)
        if not self.gates[name].wait(60):
            raise RuntimeError("the test never opened the gate")
        super().warm(name)


async def test_while_the_pool_warms_up_health_says_so_and_a_photo_is_painted(
    tmp_path: Path,
) -> None:
    """The process answers from the start: /healthz says how far the warm-up is (503 until
    every style is warm) while the stand-in paints a photo, the worker still warming."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    registry = make_registry(tmp_path / "packs")
    gates = {name: threading.Event() for name in STYLES}
    reached: set[str] = set()
    first, second = STYLES  # warmed in this order
    async with (
        running_bot(
            sqlite_url(tmp_path),
            tmp_path,
            polling=False,
            registry=registry,
            engine_factory=lambda: HeldWarmUp(registry, gates, reached),
            inference={"warmup": True},
            bot={"listen_host": "127.0.0.1", "listen_port": port},
            warmed=False,
        ) as h,
        aiohttp.ClientSession() as client,
    ):
        stop = asyncio.Event()
        task = await serving(h.app, stop)
        pool = h.app.pool
        assert pool is not None

        async def health() -> tuple[int, Any]:
            async with client.get(base + "/healthz") as response:
                return response.status, (await response.json())["pool"]

        async def warming() -> bool:
            try:
                await health()  # the server listens
            except aiohttp.ClientConnectionError:
                return False
            return first in reached and pool.state is PoolState.WARMING

        try:
            await until(warming)
            warming_up = {
                "state": "WARMING",
                "reason": "warming up: 0 of 2 styles warm; requests are served meanwhile",
            }
            assert await health() == (503, warming_up)
            photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=3), "w.jpg"))
            keyboard = await h.keyboard_under(photo)
            h.press(ALICE, keyboard, h.style_button(keyboard, second))
            await h.result_for(photo)  # the worker is still at its first style's warm-up
            assert reached == {first} and await health() == (503, warming_up)
        finally:
            for gate in gates.values():
                gate.set()
        assert await pool.warmed() is PoolState.READY
        assert await health() == (200, {"state": "READY", "reason": None})
        jobs = await h.rows(Job)
        assert [(j.style, j.status) for j in jobs] == [(second, JobStatus.DONE)]
        stop.set()
        await task
