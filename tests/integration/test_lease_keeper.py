"""The worker's lease keeper on a real database: what it renews, what it stops, and what it
leaves to the task that is ending it."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.db import Repos, utcnow
from bot.db.repositories import Claim
from bot.services.worker.lease import Lease, LeaseKeeper
from tests.integration.test_db import LEASE, WORKER, Sessions, create_jobs, seed_media


async def test_the_keeper_renews_stops_the_lost_and_leaves_what_its_own_task_ended(
    db_sessions: Sessions,
) -> None:
    media_id = await seed_media(db_sessions)
    running, done, cancelled, taken = await create_jobs(db_sessions, media_id, 4)
    leases: dict[int, Lease] = {}
    async with db_sessions.begin() as session:
        repos = Repos(session)
        for lease in (LEASE, LEASE, LEASE, timedelta(0)):  # the last one lapses at once
            job = await repos.leases.claim_next(WORKER, lease)
            assert job is not None
            leases[job.id] = Lease(Claim.of(job), held_until=0.0)
    async with db_sessions.begin() as session:
        repos = Repos(session)
        # Its own task has just recorded this one; the user cancelled that one; the last one
        # lapsed, was put back and is another worker's now.
        assert await repos.jobs.mark_done(done, claim=leases[done].claim)
        assert await repos.jobs.mark_cancelled(cancelled)
        assert await repos.leases.requeue_lapsed(3, now=utcnow() + timedelta(seconds=1)) == (
            [taken],
            [],
        )
        assert await repos.leases.claim_next("host-b:2:bbbbbb", LEASE) is not None

    stopped: list[tuple[int, bool]] = []

    def stop(job_id: int, by_user: bool) -> None:
        stopped.append((job_id, by_user))

    async def no_sweep() -> None:
        return None

    keeper = LeaseKeeper(db_sessions, 30.0, lambda: leases, stop, no_sweep)
    before = time.monotonic()
    await keeper.renew()
    assert sorted(stopped) == [(cancelled, True), (taken, False)]
    assert leases[running].held_until >= before + 30.0, "renewed, by its own clock too"
    assert leases[done].held_until == 0.0
    async with db_sessions() as session:
        row = await Repos(session).jobs.get(running)
    assert row is not None and row.lease_until is not None
    assert row.lease_until > utcnow() + timedelta(seconds=25)
