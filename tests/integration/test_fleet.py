"""Several processes on one PostgreSQL queue: claims, leases, the fence, cancels and taps that
cross processes, the signals between them and the send pace they share.

Where the point is real processes, they are: ``artisto run --role worker`` started and killed
as an operator would, and claimers racing from two interpreters. Where the point is the
protocol between processes (a cancel, a double tap, a stale owner), the apps run in this
process but share nothing except PostgreSQL and the emulator, exactly what separate hosts
share; a gated engine holds a job "running" for as long as the test needs.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db import (
    ChatType,
    Job,
    JobStatus,
    MediaKind,
    Repos,
    create_engine,
    create_session_factory,
)
from bot.db.migrate import upgrade_async
from bot.db.repositories.pace import Rate
from bot.roles import Role
from bot.services.signals import QUEUED, Signal, Signals, cancelled
from playground import ALICE, BotApiEmulator
from tests.bot_harness import (
    BotHarness,
    data_with,
    gated,
    jpeg,
    make_registry,
    mp4,
    opened_at_exit,
    replies_to,
    running_bot,
    stylizing,
    until,
)
from tests.fleet.processes import REPO, WorkerProcess, fleet_env

pytestmark = pytest.mark.postgres


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """One emulator for every process of the test, as Telegram is one for the fleet."""
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


async def the_job(h: BotHarness, condition: Callable[[Job], bool], wait_s: float) -> Job:
    """The test's one job, once it meets ``condition``."""
    deadline = time.monotonic() + wait_s
    while True:
        jobs = await h.rows(Job)
        if jobs and condition(jobs[0]):
            return jobs[0]
        assert time.monotonic() < deadline, f"the job never got there: {jobs}"
        await asyncio.sleep(0.1)


def results_for(emulator: BotApiEmulator, original: dict[str, object]) -> list[dict[str, object]]:
    return [m for m in emulator.chat_history(ALICE) if replies_to(original)(m) and "photo" in m]


async def queue_jobs(pg_url: str, count: int) -> list[int]:
    """``count`` queued jobs in a migrated database."""
    await upgrade_async(pg_url)
    engine = create_engine(pg_url)
    try:
        async with create_session_factory(engine).begin() as session:
            repos = Repos(session)
            await repos.users.upsert(ALICE)
            await repos.chats.upsert(ALICE, ChatType.PRIVATE, None)
            media = await repos.media.add(
                chat_id=ALICE, message_id=1, kind=MediaKind.PHOTO, file_id="f", file_unique_id="u"
            )
            jobs = [
                await repos.jobs.create(user_id=ALICE, chat_id=ALICE, media_id=media.id, style="s")
                for _ in range(count)
            ]
            return [job.id for job in jobs]
    finally:
        await engine.dispose()


async def claimer(pg_url: str, name: str, start_at: float) -> list[int]:
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.fleet.claimer", pg_url, name, f"{start_at:.3f}"],
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0
    return [int(line) for line in out.split()]


@pytest.mark.slow
async def test_two_worker_processes_claim_disjoint_jobs_under_contention(pg_url: str) -> None:
    created = await queue_jobs(pg_url, 300)
    start_at = time.time() + 4  # both are connected and waiting by then
    first, second = await asyncio.gather(
        claimer(pg_url, "claimer-a", start_at), claimer(pg_url, "claimer-b", start_at)
    )
    assert first and second, "both claimed: they really raced"
    assert not set(first) & set(second), "no job was taken twice"
    assert sorted(first + second) == created, "none was left behind"


async def test_an_expired_lease_is_requeued_and_the_stale_owner_neither_records_nor_sends(
    pg_url: str, tmp_path: Path, emulator: BotApiEmulator
) -> None:
    registry, gate = make_registry(tmp_path / "packs"), threading.Event()
    common = {"emulator": emulator, "registry": registry, "lease_s": 1.5}
    async with (
        running_bot(pg_url, tmp_path / "bot", role=Role.BOT, **common) as bot,
        running_bot(
            pg_url,
            tmp_path / "stale",
            role=Role.WORKER,
            engine_factory=gated(registry, gate),
            worker_concurrency=1,  # busy with the job: it cannot claim the job again
            **common,
        ) as stale,
        opened_at_exit(gate),
    ):
        photo = emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=21), "s.jpg"))
        keyboard = await bot.keyboard_under(photo)
        bot.press(ALICE, keyboard, bot.style_button(keyboard, "ember"))
        await the_job(bot, lambda job: job.status == JobStatus.RUNNING, 10)
        # The stale worker stalls: it paints on, but renews nothing from here on.
        assert stale.app.worker is not None
        await stale.app.worker.keeper.aclose()

        async with running_bot(pg_url, tmp_path / "fresh", role=Role.WORKER, **common) as fresh:
            await bot.result_for(photo)
            done = await the_job(bot, lambda job: job.status == JobStatus.DONE, 10)
            assert fresh.app.worker is not None
            assert (done.worker_id, done.attempts) == (fresh.app.worker.worker_id, 2)

            gate.set()  # the stale worker's painting is finished only now
            await until(lambda: stale.app.worker is not None and stale.app.worker.running == 0)

        assert len(results_for(emulator, photo)) == 1, "the stale owner sent nothing"
        assert (await bot.rows(Job))[0].finished_at == done.finished_at, "and recorded nothing"
        fenced = stale.app.metrics.registry.get_sample_value("artisto_deliveries_fenced_total")
        assert fenced == 1
        expired = fresh.app.metrics.registry.get_sample_value
        assert expired("artisto_lease_expiries_total", {"outcome": "requeued"}) == 1


@pytest.mark.slow
async def test_a_worker_killed_mid_job_leaves_it_to_the_other_and_one_result_arrives(
    pg_url: str, tmp_path: Path, emulator: BotApiEmulator
) -> None:
    packs = tmp_path / "packs"
    registry = make_registry(packs)
    async with running_bot(
        pg_url, tmp_path / "bot", emulator=emulator, registry=registry, role=Role.BOT
    ) as bot:
        env = fleet_env(pg_url, emulator, tmp_path, packs, ARTISTO_WORKER__LEASE_S="2")

        def worker(name: str) -> WorkerProcess:
            data = {"ARTISTO_DATA_DIR": str(tmp_path / name)}
            return WorkerProcess(env | data, tmp_path / f"{name}.log")

        victim = worker("victim")
        emulator.stall_next("getFile", 300)  # the victim will hang in the job's download
        photo = emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=22), "k.jpg"))
        keyboard = await bot.keyboard_under(photo)
        bot.press(ALICE, keyboard, bot.style_button(keyboard, "frost"))
        running = await the_job(bot, lambda job: job.status == JobStatus.RUNNING, 180)
        await victim.kill()

        survivor = worker("survivor")
        try:
            await bot.result_for(photo, wait_s=180)
            done = await the_job(bot, lambda job: job.status == JobStatus.DONE, 10)
        finally:
            assert await survivor.stop() == 0, survivor.output()
        assert done.worker_id != running.worker_id
        assert done.attempts == 2, "the killed worker's try counts"
        assert len(results_for(emulator, photo)) == 1


async def test_a_cancel_recorded_by_the_bot_process_stops_the_job_on_the_worker(
    pg_url: str, tmp_path: Path, emulator: BotApiEmulator
) -> None:
    registry, gate = make_registry(tmp_path / "packs"), threading.Event()
    common = {"emulator": emulator, "registry": registry, "status_interval_s": 0.0}
    async with (
        running_bot(pg_url, tmp_path / "bot", role=Role.BOT, **common) as bot,
        # Renewals every 20 s: only the signal can reach the worker within the test's wait.
        running_bot(
            pg_url,
            tmp_path / "worker",
            role=Role.WORKER,
            engine_factory=gated(registry, gate),
            lease_s=60.0,
            **common,
        ) as worker,
        opened_at_exit(gate),
    ):
        assert worker.app.worker is not None
        clip = emulator.send_user_message(ALICE, ALICE, video=(mp4(frames=8), "c.mp4"))
        keyboard = await bot.keyboard_under(clip)
        bot.press(ALICE, keyboard, bot.style_button(keyboard, "frost"))
        status = await emulator.wait_for(stylizing(keyboard["message_id"]))
        assert worker.app.worker.running == 1

        answer = await bot.answer(bot.press(ALICE, status, data_with(status, "cx:")))
        assert answer["text"] == "Cancelled."
        await until(lambda: worker.app.worker is not None and worker.app.worker.running == 0)
        (job,) = await bot.rows(Job)
        assert job.status == JobStatus.CANCELLED
        shown = next(
            m for m in emulator.chat_history(ALICE) if m["message_id"] == keyboard["message_id"]
        )
        assert shown["text"] == "Cancelled."
        assert not any(replies_to(clip)(m) and "video" in m for m in emulator.chat_history(ALICE))


async def test_a_double_tap_on_two_bot_processes_starts_one_job(
    pg_url: str, tmp_path: Path, emulator: BotApiEmulator
) -> None:
    """Behind a load balancer each tap may reach another bot process; both are handled at
    the same moment, and the keyboard still becomes one job."""
    registry = make_registry(tmp_path / "packs")
    common = {"emulator": emulator, "registry": registry, "role": Role.BOT, "polling": False}
    async with (
        running_bot(pg_url, tmp_path / "one", **common) as one,
        running_bot(pg_url, tmp_path / "two", **common) as two,
    ):
        photo = emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=23), "d.jpg"))
        await one.feed_pending()
        keyboard = await one.keyboard_under(photo)
        data = one.style_button(keyboard, "ember")
        queries = [one.press(ALICE, keyboard, data), one.press(ALICE, keyboard, data)]
        first, second = await one.app.bot.get_updates(timeout=1)
        await one.app.bot.get_updates(offset=second.update_id + 1, timeout=0)
        await asyncio.gather(
            one.app.dispatcher.feed_update(one.app.bot, first),
            two.app.dispatcher.feed_update(two.app.bot, second),
        )
        (job,) = await one.rows(Job)
        assert job.status == JobStatus.QUEUED
        answers = sorted([(await one.answer(q)).get("text", "") for q in queries])
        assert answers == ["", "Queued"]


async def test_the_bot_role_imports_no_torch(pg_url: str, tmp_path: Path) -> None:
    """In a fresh interpreter: import the bot role, run it through /styles, a photo and a
    tap that queues a job; torch is never loaded."""
    await upgrade_async(pg_url)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tests.fleet.bot_role", pg_url, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["gallery"] and seen["styles"] > 0
    assert seen["queued"].startswith("Queued")
    assert seen["torch"] is False


async def test_signals_survive_a_cut_connection_and_one_process_leads(pg_url: str) -> None:
    engine = create_engine(pg_url)
    heard: dict[str, list[Signal]] = {"a": [], "b": []}
    fleet = {
        name: Signals(engine, pg_url, lead=True, name=f"artisto-test-{name}") for name in heard
    }
    for name, signals in fleet.items():
        signals.subscribe(heard[name].append)
        signals.start()

    def one_leads() -> bool:
        return sum(s.leading for s in fleet.values()) == 1

    try:
        await until(lambda: all(s.listening for s in fleet.values()) and one_leads())
        leader = next(name for name, s in fleet.items() if s.leading)
        other = "b" if leader == "a" else "a"
        await fleet[other].publish(cancelled(7))
        await until(lambda: cancelled(7) in heard[leader])

        heard[leader].clear()
        async with engine.connect() as connection:  # an operator ends the leader's backend
            await connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = :name"),
                {"name": f"artisto-test-{leader}"},
            )  # fmt: skip
        await until(lambda: QUEUED in heard[leader], wait_s=20)  # back, told to catch up
        await until(lambda: all(s.listening for s in fleet.values()) and one_leads(), wait_s=20)
        await fleet[other].publish(cancelled(8))
        await until(lambda: cancelled(8) in heard[leader])

        # The leading process goes away for good: the other takes the lead.
        leader = next(name for name, s in fleet.items() if s.leading)
        await fleet.pop(leader).aclose()
        (survivor,) = fleet.values()
        await until(lambda: survivor.leading, wait_s=20)
    finally:
        for signals in fleet.values():
            await signals.aclose()
        await engine.dispose()


async def test_the_send_pace_is_shared_by_every_process(pg_url: str) -> None:
    """Two processes' reservations count against one pace per chat: after the burst, each
    waits its turn, whichever process it comes from."""
    await upgrade_async(pg_url)
    engines = [create_engine(pg_url) for _ in range(2)]
    rate = Rate(interval_s=10.0, burst=2)

    async def reserve(index: int, key: str) -> float:
        async with create_session_factory(engines[index % 2]).begin() as session:
            return await Repos(session).pace.reserve([(key, rate)])

    try:
        waits = [await reserve(i, "chat:1") for i in range(4)]
        assert waits[:2] == [0.0, 0.0], "the burst goes at once"
        assert 9.0 < waits[2] <= 10.0 < waits[3] <= 20.0
        assert await reserve(0, "chat:2") == 0.0, "another chat has its own pace"
        async with create_session_factory(engines[0]).begin() as session:
            keys = set(await session.scalars(text("SELECT key FROM send_pace")))
        assert keys == {"chat:1", "chat:2"}
    finally:
        for engine in engines:
            await engine.dispose()
