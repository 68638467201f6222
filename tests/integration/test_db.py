"""Repositories on a real, migrated database: SQLite and PostgreSQL (see ``db_url``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import ChatType, Job, JobStatus, MediaKind, Repos, ResultKind
from bot.db.engine import DatabaseConfigError, create_engine
from bot.db.repositories import ATTEMPTS_EXHAUSTED, Claim

Sessions = async_sessionmaker[AsyncSession]

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WORKER = "host-a:41:0a0b0c"
LEASE = timedelta(seconds=30)
ALICE, BOB = 111_000_000_001, 222_000_000_002
GROUP = -1_001_234_567_890  # a supergroup id: below -2**31, needs BIGINT


async def seed_media(
    sessions: Sessions,
    *,
    user_id: int = ALICE,
    chat_id: int = GROUP,
    message_id: int = 1,
    unique_id: str = "AQADsrc1",
    kind: MediaKind = MediaKind.PHOTO,
) -> int:
    """A user, a chat and one media message in it; returns the media id."""
    async with sessions.begin() as session:
        repos = Repos(session)
        await repos.users.upsert(user_id, username="u", first_name="U", language_code="en")
        await repos.chats.upsert(chat_id, ChatType.SUPERGROUP, "painters")
        media = await repos.media.add(
            chat_id=chat_id,
            message_id=message_id,
            kind=kind,
            file_id=f"file-{unique_id}-{message_id}",
            file_unique_id=unique_id,
            width=640,
            height=480,
        )
        return media.id


async def create_jobs(
    sessions: Sessions,
    media_id: int,
    count: int,
    *,
    user_id: int = ALICE,
    priority: int = 0,
    style: str = "mosaic",
    now: datetime = T0,
) -> list[int]:
    async with sessions.begin() as session:
        jobs = Repos(session).jobs
        created = [
            await jobs.create(
                user_id=user_id,
                chat_id=GROUP,
                media_id=media_id,
                style=style,
                priority=priority,
                now=now + timedelta(seconds=i),
            )
            for i in range(count)
        ]
        return [job.id for job in created]


async def claim(
    sessions: Sessions, now: datetime = T0, worker: str = WORKER, **options: Any
) -> Job | None:
    async with sessions.begin() as session:
        return await Repos(session).leases.claim_next(worker, LEASE, now=now, **options)


async def get_job(sessions: Sessions, job_id: int) -> Job:
    async with sessions() as session:
        job = await Repos(session).jobs.get(job_id)
        assert job is not None
        return job


# --- engine and schema ------------------------------------------------------------------


async def test_sqlite_connections_get_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'folder' / 'a.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 10_000
    finally:
        await engine.dispose()


async def test_foreign_keys_are_enforced(db_sessions: Sessions) -> None:
    with pytest.raises(IntegrityError):
        async with db_sessions.begin() as session:
            await Repos(session).jobs.create(user_id=1, chat_id=2, media_id=3, style="x")


async def test_status_outside_the_enum_is_refused_by_the_database(
    db_sessions: Sessions,
) -> None:
    media_id = await seed_media(db_sessions)
    [job_id] = await create_jobs(db_sessions, media_id, 1)
    with pytest.raises(IntegrityError):
        async with db_sessions.begin() as session:
            await session.execute(
                text("UPDATE jobs SET status = 'lost' WHERE id = :id"), {"id": job_id}
            )


def test_bad_urls_are_typed_errors() -> None:
    with pytest.raises(DatabaseConfigError, match="not a database URL"):
        create_engine("no url at all")
    with pytest.raises(DatabaseConfigError, match="unsupported database"):
        create_engine("mysql+aiomysql://u@h/db")
    with pytest.raises(DatabaseConfigError, match="not an async driver"):
        create_engine("sqlite:///x.db")


async def test_timestamps_come_back_as_the_same_instant_in_utc(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    moscow = datetime(2026, 3, 1, 15, 30, 5, 123456, tzinfo=timezone(timedelta(hours=3)))
    [job_id] = await create_jobs(db_sessions, media_id, 1, now=moscow)
    job = await get_job(db_sessions, job_id)
    assert job.created_at == moscow
    assert job.created_at.tzinfo == UTC
    assert job.created_at.hour == 12


async def test_naive_timestamps_are_refused(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    with pytest.raises(StatementError, match="naive datetime"):
        await create_jobs(db_sessions, media_id, 1, now=datetime(2026, 1, 1))


# --- users, chats, media ----------------------------------------------------------------


async def test_user_upsert_refreshes_profile_keeps_language_and_clears_block(
    db_sessions: Sessions,
) -> None:
    async with db_sessions.begin() as session:
        users = Repos(session).users
        await users.upsert(ALICE, username="alice", first_name="Alice", language_code="ru-RU")
        assert await users.set_language(ALICE, "en")
        assert await users.set_blocked(ALICE)
        assert not await users.set_language(BOB, "en")
    async with db_sessions.begin() as session:
        user = await Repos(session).users.upsert(
            ALICE, username="alice2", first_name="Alice", language_code="ru"
        )
    assert (user.username, user.language_code, user.language) == ("alice2", "ru", "en")
    assert user.is_blocked_bot is False


async def test_chat_upsert_follows_title_changes(db_sessions: Sessions) -> None:
    async with db_sessions.begin() as session:
        chats = Repos(session).chats
        await chats.upsert(GROUP, ChatType.GROUP, "old")
        await chats.upsert(GROUP, ChatType.SUPERGROUP, "new")
    async with db_sessions() as session:
        chat = await Repos(session).chats.get(GROUP)
    assert chat is not None
    assert (chat.type, chat.title) == (ChatType.SUPERGROUP, "new")


async def test_media_is_one_row_per_message(db_sessions: Sessions) -> None:
    first = await seed_media(db_sessions, message_id=10)
    again = await seed_media(db_sessions, message_id=10)
    forwarded = await seed_media(db_sessions, message_id=11)
    assert first == again
    assert forwarded != first
    async with db_sessions() as session:
        media = await Repos(session).media.get(forwarded)
    assert media is not None
    assert (media.kind, media.file_unique_id, media.message_id) == (
        MediaKind.PHOTO,
        "AQADsrc1",
        11,
    )


# --- the queue --------------------------------------------------------------------------


async def test_claim_takes_lowest_priority_then_oldest(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    video = await create_jobs(db_sessions, media_id, 1, priority=10)
    photos = await create_jobs(db_sessions, media_id, 2, priority=0)
    started = T0 + timedelta(minutes=5)
    claimed = [await claim(db_sessions, now=started) for _ in range(3)]
    assert [job.id for job in claimed if job] == [*photos, *video]
    assert await claim(db_sessions) is None
    job = await get_job(db_sessions, photos[0])
    assert (job.status, job.attempts, job.started_at) == (JobStatus.RUNNING, 1, started)


async def test_concurrent_claimers_never_take_the_same_job(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    created = await create_jobs(db_sessions, media_id, 24)

    async def worker() -> list[int]:
        taken: list[int] = []
        while (job := await claim(db_sessions)) is not None:
            taken.append(job.id)
        return taken

    per_worker = await asyncio.gather(*(worker() for _ in range(4)))
    taken = [job_id for ids in per_worker for job_id in ids]
    assert sorted(taken) == created  # every job once: none twice, none lost
    async with db_sessions() as session:
        assert await Repos(session).jobs.queue_depth() == 0


async def test_a_claim_in_flight_is_skipped_not_shared(db_sessions: Sessions) -> None:
    """Claimer A holds its transaction open; B must get another job, never A's.

    On PostgreSQL B must not even wait for A (SKIP LOCKED); on SQLite the write lock makes
    B wait for A's commit, and then it takes the next job.
    """
    media_id = await seed_media(db_sessions)
    created = await create_jobs(db_sessions, media_id, 3)
    async with db_sessions() as session_a:
        await session_a.begin()
        job_a = await Repos(session_a).leases.claim_next(WORKER, LEASE)
        assert job_a is not None
        other = asyncio.create_task(claim(db_sessions))
        if session_a.get_bind().dialect.name == "postgresql":
            job_b = await asyncio.wait_for(other, timeout=5)
        else:
            await asyncio.sleep(0.2)
            assert not other.done()
        await session_a.commit()
    job_b = await other
    assert job_b is not None
    assert (job_a.id, job_b.id) == (created[0], created[1])


async def test_transitions_only_from_the_right_state(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    first, second = await create_jobs(db_sessions, media_id, 2)
    async with db_sessions.begin() as session:
        jobs, leases = Repos(session).jobs, Repos(session).leases
        assert await jobs.mark_done(first) is None  # queued, not running
        assert not await jobs.set_progress(first, 50)
        claimed = await leases.claim_next(WORKER, LEASE, now=T0)
        assert claimed is not None and claimed.id == first
        assert await jobs.set_progress(first, 140)
        assert await jobs.set_status_message(first, 777)
        done = await jobs.mark_done(
            first, download_ms=120, inference_ms=900, upload_ms=300, now=T0 + timedelta(seconds=2)
        )
        assert done is not None
        assert await jobs.mark_failed(first, "decode") is None  # final stays final
        assert await jobs.mark_cancelled(first) is None

        assert await leases.claim_next(WORKER, LEASE) is not None
        cancelled = await jobs.mark_cancelled(second, now=T0)
        assert cancelled is not None and cancelled.status == JobStatus.CANCELLED
        assert await jobs.mark_done(second) is None  # the user cancelled while it ran

    job = await get_job(db_sessions, first)
    assert job.status == JobStatus.DONE
    assert (job.download_ms, job.inference_ms, job.upload_ms) == (120, 900, 300)
    assert (job.progress, job.status_message_id) == (100, 777)
    assert job.finished_at == T0 + timedelta(seconds=2)


async def test_mark_failed_records_the_reason(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    [job_id] = await create_jobs(db_sessions, media_id, 1)
    await claim(db_sessions)
    async with db_sessions.begin() as session:
        failed = await Repos(session).jobs.mark_failed(job_id, "too_large", download_ms=40)
    assert failed is not None
    assert (failed.status, failed.error_code, failed.download_ms) == (
        JobStatus.FAILED,
        "too_large",
        40,
    )


async def test_a_lapsed_lease_goes_back_and_attempts_are_bounded(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    [job_id] = await create_jobs(db_sessions, media_id, 1)

    async def worker_dies(at: datetime) -> tuple[list[int], list[int]]:
        assert (await claim(db_sessions, now=at)) is not None
        async with db_sessions.begin() as session:
            leases = Repos(session).leases
            assert await leases.requeue_lapsed(2, now=at + LEASE) == ([], [])  # not yet
            requeued, failed = await leases.requeue_lapsed(2, now=at + LEASE * 2)
        return requeued, failed

    assert await worker_dies(T0) == ([job_id], [])
    job = await get_job(db_sessions, job_id)
    assert (job.status, job.attempts, job.started_at, job.lease_until) == (
        JobStatus.QUEUED,
        1,  # the try is spent
        None,
        None,
    )
    assert await worker_dies(T0 + timedelta(hours=1)) == ([], [job_id])
    job = await get_job(db_sessions, job_id)
    assert (job.status, job.attempts, job.error_code) == (JobStatus.FAILED, 2, ATTEMPTS_EXHAUSTED)
    assert job.finished_at is not None


async def test_a_live_lease_is_left_to_its_worker_and_renewing_keeps_it(
    db_sessions: Sessions,
) -> None:
    media_id = await seed_media(db_sessions)
    kept, lapsed = await create_jobs(db_sessions, media_id, 2)
    first, second = await claim(db_sessions, now=T0), await claim(db_sessions, now=T0)
    assert first is not None and second is not None
    async with db_sessions.begin() as session:
        leases = Repos(session).leases
        later = T0 + LEASE - timedelta(seconds=1)
        assert await leases.renew([Claim.of(first)], LEASE, now=later) == {kept}
        assert await leases.requeue_lapsed(3, now=T0 + LEASE + timedelta(seconds=1)) == (
            [lapsed],
            [],
        )
        # Its worker comes back to life: the renewal says it no longer holds that job.
        assert await leases.renew([Claim.of(first), Claim.of(second)], LEASE) == {kept}
    assert (await get_job(db_sessions, kept)).status == JobStatus.RUNNING


async def test_every_running_takes_back_even_live_leases(db_sessions: Sessions) -> None:
    """A single process on SQLite, at its start: nothing else can be running anything."""
    media_id = await seed_media(db_sessions)
    [job_id] = await create_jobs(db_sessions, media_id, 1)
    await claim(db_sessions, now=T0)
    async with db_sessions.begin() as session:
        recovered = await Repos(session).leases.requeue_lapsed(3, every_running=True, now=T0)
    assert recovered == ([job_id], [])


async def test_a_claim_is_one_try_and_its_moves_need_it_still_held(
    db_sessions: Sessions,
) -> None:
    """The stale claim of a job put back and taken again (here by the same worker) moves
    nothing: no progress, no fence, no result, no failure, no release."""
    media_id = await seed_media(db_sessions)
    [job_id] = await create_jobs(db_sessions, media_id, 1)
    stale_job = await claim(db_sessions, now=T0)
    assert stale_job is not None
    stale = Claim.of(stale_job)
    async with db_sessions.begin() as session:
        await Repos(session).leases.requeue_lapsed(3, now=T0 + LEASE * 2)
    fresh_job = await claim(db_sessions, now=T0 + LEASE * 2)
    assert fresh_job is not None and fresh_job.worker_id == stale.worker
    fresh = Claim.of(fresh_job)
    assert (stale.attempt, fresh.attempt) == (1, 2)
    async with db_sessions.begin() as session:
        repos = Repos(session)
        assert not await repos.jobs.set_progress(job_id, 50, claim=stale)
        assert await repos.leases.fence(stale, LEASE) is None
        assert await repos.jobs.mark_done(job_id, claim=stale) is None
        assert await repos.jobs.mark_failed(job_id, "decode", claim=stale) is None
        assert not await repos.leases.release(stale)
        fenced = await repos.leases.fence(fresh, LEASE, now=T0 + LEASE * 3)
        assert fenced is not None and fenced.delivering_at == T0 + LEASE * 3
        assert fenced.lease_until == T0 + LEASE * 4
        assert await repos.jobs.mark_done(job_id, claim=fresh) is not None


async def test_a_worker_claims_only_the_styles_it_has(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    [new_style] = await create_jobs(db_sessions, media_id, 1, style="fresh")
    [known] = await create_jobs(db_sessions, media_id, 1, style="mosaic")
    old = await claim(db_sessions, styles=["mosaic", "candy"])
    assert old is not None and old.id == known
    assert await claim(db_sessions, styles=["mosaic", "candy"]) is None
    new = await claim(db_sessions, worker="host-b:7:ffffff", styles=["fresh"])
    assert new is not None and new.id == new_style


async def test_release_puts_a_job_back_without_spending_a_try(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    [job_id] = await create_jobs(db_sessions, media_id, 1)
    claimed = await claim(db_sessions)
    assert claimed is not None
    async with db_sessions.begin() as session:
        leases = Repos(session).leases
        assert await leases.release(Claim.of(claimed))
        assert not await leases.release(Claim.of(claimed))  # already queued
    job = await get_job(db_sessions, job_id)
    assert (job.status, job.attempts, job.started_at) == (JobStatus.QUEUED, 0, None)


async def test_cancel_user_queued_spares_running_and_other_users(db_sessions: Sessions) -> None:
    alice_media = await seed_media(db_sessions)
    bob_media = await seed_media(db_sessions, user_id=BOB, message_id=2)
    running, *queued = await create_jobs(db_sessions, alice_media, 3)
    [bobs] = await create_jobs(db_sessions, bob_media, 1, user_id=BOB)
    assert (await claim(db_sessions)) is not None
    async with db_sessions.begin() as session:
        cancelled = await Repos(session).jobs.cancel_user_queued(ALICE, now=T0)
    assert [job.id for job in cancelled] == queued
    assert all(job.status == JobStatus.CANCELLED and job.finished_at == T0 for job in cancelled)
    assert (await get_job(db_sessions, running)).status == JobStatus.RUNNING
    assert (await get_job(db_sessions, bobs)).status == JobStatus.QUEUED


async def test_counts_for_limits_and_the_queue_position(db_sessions: Sessions) -> None:
    alice_media = await seed_media(db_sessions)
    bob_media = await seed_media(db_sessions, user_id=BOB, message_id=2)
    a1, a2 = await create_jobs(db_sessions, alice_media, 2, now=T0)
    [b_video] = await create_jobs(db_sessions, bob_media, 1, user_id=BOB, priority=10, now=T0)
    [b_photo] = await create_jobs(
        db_sessions, bob_media, 1, user_id=BOB, now=T0 + timedelta(minutes=2)
    )
    await claim(db_sessions)  # a1 runs
    async with db_sessions() as session:
        jobs = Repos(session).jobs
        by_id = {job.id: job for job in await jobs.get_many([a1, a2, b_video, b_photo])}
        assert await jobs.queue_depth() == 3
        assert await jobs.count_ahead(by_id[a2]) == 0
        assert await jobs.count_ahead(by_id[b_photo]) == 1  # a2, not the video behind it
        assert await jobs.count_ahead(by_id[b_video]) == 2
        assert await jobs.user_active_count(ALICE) == 2
        assert await jobs.user_active_count(BOB) == 2
        assert await jobs.user_started_since(BOB, T0 + timedelta(minutes=1)) == 1
        assert await jobs.user_started_since(ALICE, T0 + timedelta(minutes=1)) == 0


async def test_stats_over_a_window(db_sessions: Sessions) -> None:
    photo = await seed_media(db_sessions)
    video = await seed_media(db_sessions, message_id=2, unique_id="AQADvid", kind=MediaKind.VIDEO)
    now = T0 + timedelta(hours=2)
    photo_jobs = await create_jobs(db_sessions, photo, 3, now=now - timedelta(minutes=30))
    video_jobs = await create_jobs(
        db_sessions, video, 2, priority=10, now=now - timedelta(minutes=20)
    )
    [old] = await create_jobs(db_sessions, photo, 1, now=T0)
    await create_jobs(db_sessions, photo, 1, priority=20, now=now)  # stays queued
    async with db_sessions.begin() as session:
        jobs, leases = Repos(session).jobs, Repos(session).leases
        for _ in [*photo_jobs, *video_jobs, old]:
            assert await leases.claim_next(WORKER, LEASE, now=now - timedelta(minutes=15))
        created = {job.id: job.created_at for job in await jobs.get_many(photo_jobs)}
        for job_id, latency in zip(photo_jobs[:2], (10, 30), strict=True):
            await jobs.mark_done(job_id, now=created[job_id] + timedelta(seconds=latency))
        await jobs.mark_failed(photo_jobs[2], "decode", now=now)
        await jobs.mark_done(video_jobs[0], now=now - timedelta(minutes=1))
        await jobs.mark_failed(video_jobs[1], "timeout", now=now)
        await jobs.mark_done(old, now=T0 + timedelta(minutes=1))  # outside the window
        stats = await jobs.stats(window=timedelta(hours=1), now=now)
    assert (stats.queued, stats.running, stats.done, stats.failed) == (1, 0, 3, 2)
    assert stats.jobs_per_hour == 3.0
    assert stats.median_latency_s == {MediaKind.PHOTO: 20.0, MediaKind.VIDEO: 19 * 60.0}
    assert stats.failures_by_code == {"decode": 1, "timeout": 1}


# --- results cache and updates ----------------------------------------------------------


async def test_result_cache_by_source_file_and_style(db_sessions: Sessions) -> None:
    media_id = await seed_media(db_sessions)
    first, racer = await create_jobs(db_sessions, media_id, 2)
    async with db_sessions.begin() as session:
        results = Repos(session).results
        assert await results.get_cached("AQADsrc1", "mosaic") is None
        stored = await results.add(
            job_id=first,
            source_unique_id="AQADsrc1",
            style="mosaic",
            kind=ResultKind.PHOTO,
            file_id="out-1",
            file_unique_id="AQADout1",
            size_bytes=123_456,
        )
        kept = await results.add(
            job_id=racer,
            source_unique_id="AQADsrc1",
            style="mosaic",
            kind=ResultKind.PHOTO,
            file_id="out-2",
            file_unique_id="AQADout2",
        )
    assert kept.id == stored.id and kept.file_id == "out-1"
    async with db_sessions() as session:
        results = Repos(session).results
        hit = await results.get_cached("AQADsrc1", "mosaic")
        assert hit is not None and (hit.file_id, hit.size_bytes) == ("out-1", 123_456)
        assert await results.get_cached("AQADsrc1", "candy") is None
        assert await results.get_cached("AQADother", "mosaic") is None


async def test_recent_results_reach_every_user_served_from_the_cache(
    db_sessions: Sessions,
) -> None:
    alice_media = await seed_media(db_sessions)
    bob_forward = await seed_media(db_sessions, user_id=BOB, message_id=2)  # same file
    [mosaic] = await create_jobs(db_sessions, alice_media, 1, style="mosaic")
    [candy] = await create_jobs(db_sessions, alice_media, 1, style="candy", now=T0 + timedelta(1))
    [bob_job] = await create_jobs(db_sessions, bob_forward, 1, user_id=BOB, style="mosaic")
    async with db_sessions.begin() as session:
        repos = Repos(session)
        for job_id, style in ((mosaic, "mosaic"), (candy, "candy")):
            await repos.leases.claim_next(WORKER, LEASE, now=T0)
            await repos.jobs.mark_done(job_id, now=T0 + timedelta(minutes=job_id))
            await repos.results.add(
                job_id=job_id,
                source_unique_id="AQADsrc1",
                style=style,
                kind=ResultKind.PHOTO,
                file_id=f"out-{style}",
                file_unique_id=f"AQAD{style}",
            )
        await repos.leases.claim_next(WORKER, LEASE, now=T0)
        await repos.jobs.mark_done(bob_job, now=T0 + timedelta(hours=1))  # a cache hit
    async with db_sessions() as session:
        results = Repos(session).results
        alice = [r.style for r in await results.recent_for_user(ALICE)]
        bob = [r.style for r in await results.recent_for_user(BOB)]
        only_candy = [r.style for r in await results.recent_for_user(ALICE, styles=["candy"])]
        one = await results.recent_for_user(ALICE, limit=1)
    assert alice == ["candy", "mosaic"]
    assert bob == ["mosaic"]
    assert only_candy == ["candy"]
    assert [r.style for r in one] == ["candy"]


async def test_update_dedup(db_sessions: Sessions) -> None:
    async with db_sessions.begin() as session:
        updates = Repos(session).updates
        assert await updates.mark_update_processed(9_000_000_001, now=T0)
        assert not await updates.mark_update_processed(9_000_000_001, now=T0)
        assert await updates.mark_update_processed(9_000_000_002, now=T0 + timedelta(hours=1))
    async with db_sessions.begin() as session:
        assert not await Repos(session).updates.mark_update_processed(9_000_000_001)
    # Work that fails rolls its mark back, so Telegram's redelivery is handled again.
    with pytest.raises(RuntimeError):
        async with db_sessions.begin() as session:
            assert await Repos(session).updates.mark_update_processed(9_000_000_003)
            raise RuntimeError("handler failed")
    async with db_sessions.begin() as session:
        updates = Repos(session).updates
        assert await updates.mark_update_processed(9_000_000_003, now=T0 + timedelta(hours=2))
        assert await updates.prune(before=T0 + timedelta(minutes=30)) == 1
        assert await updates.mark_update_processed(9_000_000_001)  # forgotten, hence new


async def test_concurrent_duplicate_updates_make_one_job(db_sessions: Sessions) -> None:
    """Two deliveries of one update handled at once: exactly one creates the job."""
    media_id = await seed_media(db_sessions)

    async def handle(update_id: int) -> bool:
        async with db_sessions.begin() as session:
            repos = Repos(session)
            if not await repos.updates.mark_update_processed(update_id):
                return False
            await repos.jobs.create(user_id=ALICE, chat_id=GROUP, media_id=media_id, style="x")
            await asyncio.sleep(0.05)  # the other delivery arrives while this one works
            return True

    outcomes = await asyncio.gather(handle(42), handle(42))
    assert sorted(outcomes) == [False, True]
    async with db_sessions() as session:
        assert await Repos(session).jobs.queue_depth() == 1


async def test_a_keyboard_becomes_at_most_one_job(db_sessions: Sessions) -> None:
    """The double-tap guard is the database's: one job per (chat, status message)."""
    media_id = await seed_media(db_sessions)

    async def tap(message_id: int | None) -> int:
        async with db_sessions.begin() as session:
            job = await Repos(session).jobs.create(
                user_id=ALICE, chat_id=GROUP, media_id=media_id, style="x",
                status_message_id=message_id,
            )  # fmt: skip
            return job.id

    first = await tap(77)
    with pytest.raises(IntegrityError):
        await tap(77)
    await tap(78)
    await tap(None)
    await tap(None)  # cached results' jobs before they took their keyboard
    async with db_sessions() as session:
        found = await Repos(session).jobs.for_keyboard(GROUP, 77)
        assert found is not None and found.id == first
        assert await Repos(session).jobs.for_keyboard(GROUP, 79) is None


async def test_a_style_pick_is_taken_once_and_lapses(db_sessions: Sessions) -> None:
    await seed_media(db_sessions)
    async with db_sessions.begin() as session:
        users = Repos(session).users
        assert await users.pick_style(ALICE, "mosaic", T0 + timedelta(minutes=15))
        assert not await users.pick_style(BOB, "mosaic", T0)  # no such user
    async with db_sessions.begin() as session:
        users = Repos(session).users
        assert await users.take_pick(ALICE, now=T0) == "mosaic"
        assert await users.take_pick(ALICE, now=T0) is None
        await users.pick_style(ALICE, "candy", T0 + timedelta(minutes=15))
        assert await users.take_pick(ALICE, now=T0 + timedelta(minutes=16)) is None
        assert await users.take_pick(ALICE, now=T0) is None  # a lapsed pick is used up too
