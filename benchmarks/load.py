"""The load and fault test: hundreds of simulated users against a fleet of real processes (one
``artisto run --role bot``, two ``--role worker``) on a real PostgreSQL, through the
playground's Bot API emulator.

    python -m benchmarks.load [--users 200] [--scaling-jobs 30] [--postgres URL]

First the scaling: ``--scaling-jobs`` photos at once with one worker, then as many with two,
each worker on one CPU thread (so that two show scaling, not two workers fighting over the
same cores). Then the faults, with both workers: ``--users`` people arrive over
``--spread-s`` seconds, each with a photo or a short clip (15%), some tapping the style twice
(10%), some cancelling (10%). When 30% of the jobs are done the first worker is SIGKILLed and
started again; at 60% every worker's database connection is ended (``pg_terminate_backend``).
Prints what was accepted, done, failed (by reason), cancelled, lost and delivered twice, the
time to result (p50, p95) and the throughput of one worker and of two.

A database of its own is made on the server and dropped at the end; the processes' logs stay
in a temporary folder, named at the end. Workers warm their models up before they report
healthy, so the throughput is the steady state's. Leases are ``--lease-s`` (10 s) so that a
killed worker's jobs come back within the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from benchmarks.load_fleet import Database, Fleet
from benchmarks.load_report import Scaling, count, results, table
from benchmarks.load_users import Observer, User, act
from playground import BotApiEmulator

STYLES = ("starry_night", "great_wave", "the_scream")
SCALING_USERS, FAULT_USERS = 100_000, 300_000
"""The first user id of each phase."""
WINDOW_METRICS = (
    "artisto_delivery_retries_total",
    "artisto_deliveries_fenced_total",
    "artisto_lease_expiries_total",
    "artisto_leases_lost_total",
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--users", type=int, default=200, help="people in the fault run")
    parser.add_argument("--scaling-jobs", type=int, default=60, help="photos per scaling run")
    parser.add_argument("--spread-s", type=float, default=40.0, help="arrivals spread over")
    parser.add_argument("--lease-s", type=float, default=10.0, help="the workers' lease")
    parser.add_argument("--drain-s", type=float, default=900.0, help="longest wait at the end")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "ARTISTO_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL server (any database on it): the test makes its own database",
    )
    return parser.parse_args(argv)


async def until(
    condition: Callable[[], Awaitable[bool]], wait_s: float, step_s: float = 1.0
) -> bool:
    deadline = time.monotonic() + wait_s
    while not await condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step_s)
    return True


async def final_jobs(database: Database) -> list[asyncpg.Record]:
    return await database.fetch(
        "SELECT m.chat_id, j.status, j.error_code, j.attempts "
        "FROM jobs j JOIN media m ON m.id = j.media_id"
    )


async def scaling(
    workers: int, ids: range, emulator: BotApiEmulator, observer: Observer
) -> Scaling:
    """Every user of ``ids`` sends a photo at once; seconds from the first tap to the last
    painting."""
    users = [User(uid, style=random.choice(STYLES)) for uid in ids]
    await asyncio.gather(*(act(user, emulator, observer) for user in users))

    def all_painted() -> bool | None:
        return all(results(observer, user) for user in users) or None

    await observer.until(all_painted, 900)
    first = min(user.tapped_at for user in users if user.tapped_at is not None)
    last = max(results(observer, user)[0]["_time"] for user in users)
    return Scaling(workers, len(users), last - first)


async def faults(
    args: argparse.Namespace, fleet: Fleet, observer: Observer, log: list[str]
) -> list[User]:
    rng = random.Random(20)
    users = [
        User(
            FAULT_USERS + i,
            video=rng.random() < 0.15,
            double_tap=rng.random() < 0.10,
            cancels=rng.random() < 0.10,
            style=rng.choice(STYLES),
        )
        for i in range(args.users)
    ]
    for user in users:
        fleet.emulator.add_user(user.id, f"User {user.id}")
    started = time.monotonic()

    async def arrive(user: User) -> None:
        await asyncio.sleep(rng.uniform(0, args.spread_s))
        await act(user, fleet.emulator, observer)

    async def done_share() -> float:
        rows = await fleet.database.fetch(
            "SELECT count(*) AS n FROM jobs j JOIN media m ON m.id = j.media_id "
            "WHERE j.status = 'done' AND m.chat_id >= $1",
            FAULT_USERS,
        )
        return int(rows[0]["n"]) / max(1, args.users)

    async def inject() -> None:
        await until(lambda: _at_least(done_share, 0.3), args.drain_s)
        victim = next(p for p in fleet.processes if p.name == "worker-1")
        victim.kill()
        log.append(f"{time.monotonic() - started:.0f} s: worker-1 SIGKILLed")
        await asyncio.sleep(3)
        fleet.start("worker", "worker-1b")
        log.append(f"{time.monotonic() - started:.0f} s: worker-1 started again")
        await until(lambda: _at_least(done_share, 0.6), args.drain_s)
        cut = await fleet.database.cut("artisto-worker")
        log.append(f"{time.monotonic() - started:.0f} s: {cut} worker connections terminated")

    injector = asyncio.create_task(inject())
    await asyncio.gather(*(arrive(user) for user in users))

    async def drained() -> bool:
        rows = await fleet.database.fetch(
            "SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')"
        )
        return int(rows[0]["n"]) == 0

    if not await until(drained, args.drain_s):
        log.append(f"not drained after {args.drain_s:.0f} s")
    await asyncio.sleep(3)  # the last messages on their way
    injector.cancel()
    log.append(f"{time.monotonic() - started:.0f} s: drained")
    return users


async def _at_least(share: Callable[[], Awaitable[float]], threshold: float) -> bool:
    return await share() >= threshold


async def run(args: argparse.Namespace) -> int:
    database = Database(args.postgres)
    await database.create()
    emulator = BotApiEmulator()
    await emulator.start()
    folder = Path(tempfile.mkdtemp(prefix="artisto-load-"))
    fleet = Fleet(
        database,
        emulator,
        folder,
        settings={
            "ARTISTO_INFERENCE__DEVICE": "cpu",
            "ARTISTO_INFERENCE__CPU_THREADS": "1",
            "ARTISTO_INFERENCE__WARMUP": "true",  # steady state: models loaded before work
            "ARTISTO_WORKER__LEASE_S": str(args.lease_s),
            "ARTISTO_LIMITS__QUEUE_MAX": "100000",
        },
    )
    observer = Observer(emulator)
    watching = asyncio.create_task(observer.run())
    log: list[str] = []
    try:
        bot, first = fleet.start("bot", "bot"), fleet.start("worker", "worker-1")
        await fleet.wait_healthy(bot, first)
        jobs = args.scaling_jobs
        for uid in range(SCALING_USERS, SCALING_USERS + 2 * jobs):
            emulator.add_user(uid, f"User {uid}")
        one = await scaling(1, range(SCALING_USERS, SCALING_USERS + jobs), emulator, observer)
        await fleet.wait_healthy(fleet.start("worker", "worker-2"))
        second = range(SCALING_USERS + jobs, SCALING_USERS + 2 * jobs)
        two = await scaling(2, second, emulator, observer)

        users = await faults(args, fleet, observer, log)
        window = {name: await fleet.metric(name) for name in WINDOW_METRICS}
        outcome = count(users, await final_jobs(database), observer)
    finally:
        watching.cancel()
        await fleet.stop()
        await emulator.stop()
        await database.drop()

    print(f"\n### Load and faults ({args.users} users, lease {args.lease_s:g} s)\n")
    print(table(outcome, [one, two], window))
    print("\nFaults and leases: " + "; ".join(log) + ".")
    fenced = window["artisto_deliveries_fenced_total"]
    expired = window["artisto_lease_expiries_total"]
    lost = window["artisto_leases_lost_total"]
    print(
        f"Jobs run more than once: {outcome.retried}. Seen by the live workers at the end: "
        f"{expired:.0f} lease expiries, {lost:.0f} leases lost, {fenced:.0f} results held back "
        f"at the fence. Logs: {folder}"
    )
    return 1 if outcome.lost else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
