"""Durability and Telegram's bad days: a restart mid-job, a redelivered update, 429 and 5xx
answers, a user who blocked the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.db import Job, JobStatus, Repos, User
from bot.db.repositories import ATTEMPTS_EXHAUSTED
from playground import ALICE, BORIS, BotApiEmulator
from tests.bot_harness import (
    jpeg,
    mp4,
    replies_to,
    running_bot,
    sqlite_url,
)

DEAD = "gone-host:1:000000"
"""The worker of a process that died."""


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """One emulator that outlives a bot process, as Telegram outlives a restart."""
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


async def test_restart_requeues_running_jobs_and_gives_up_after_max_attempts(
    db_url: str, tmp_path: Path, emulator: BotApiEmulator
) -> None:
    async with running_bot(db_url, tmp_path, emulator=emulator, start_worker=False) as h:
        photos, keyboards = [], []
        for seed in (1, 2):
            photo = emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=seed), "r.jpg"))
            keyboard = await h.keyboard_under(photo)
            await h.answer(h.press(ALICE, keyboard, h.style_button(keyboard, "ember")))
            photos.append(photo)
            keyboards.append(keyboard)
        # The process dies with both jobs running, the first one on its second try already;
        # their leases lapse at once.
        async with h.sessions.begin() as session:
            leases = Repos(session).leases
            doomed = await leases.claim_next(DEAD, timedelta(0))
            assert doomed is not None
            await leases.requeue_lapsed(max_attempts=99, every_running=True)
            assert (await leases.claim_next(DEAD, timedelta(0))) is not None
            survivor = await leases.claim_next(DEAD, timedelta(0))
            assert survivor is not None
        assert {j.id: j.attempts for j in await h.rows(Job)} == {doomed.id: 2, survivor.id: 1}

    # A new process: lapsed leases are taken back (on SQLite, every running job at start);
    # two tries is the limit.
    async with running_bot(db_url, tmp_path, emulator=emulator, max_attempts=2) as h:
        apology = await emulator.wait_for(
            lambda m: m["message_id"] == keyboards[0]["message_id"] and "Sorry" in m.get("text", "")
        )
        assert apology["text"] == (
            "😔 Sorry, I couldn't paint this: I restarted several times while working on it."
        )
        result = await h.result_for(photos[1])
        assert result["caption"].startswith("🎨 Ember")
        await h.deleted(ALICE, keyboards[1]["message_id"])
        rows = {j.id: j for j in await h.rows(Job)}
        assert rows[doomed.id].status == JobStatus.FAILED
        assert rows[doomed.id].error_code == ATTEMPTS_EXHAUSTED
        assert (rows[survivor.id].status, rows[survivor.id].attempts) == (JobStatus.DONE, 2)


async def test_a_redelivered_update_does_not_make_a_second_job(db_url: str, tmp_path: Path) -> None:
    async with running_bot(db_url, tmp_path, polling=False, start_worker=False) as h:
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=4), "d.jpg"))
        (update,) = await h.feed_pending()
        await h.app.dispatcher.feed_raw_update(h.app.bot, update)  # Telegram sends it again
        bot_replies = [m for m in h.emulator.chat_history(ALICE) if replies_to(photo)(m)]
        assert len(bot_replies) == 1
        keyboard = bot_replies[0]
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        (tap,) = await h.feed_pending()
        await h.app.dispatcher.feed_raw_update(h.app.bot, tap)
        await h.app.dispatcher.feed_raw_update(h.app.bot, tap)
        (job,) = await h.rows(Job)
        assert job.status == JobStatus.QUEUED and job.style == "frost"


async def test_flood_waits_and_server_errors_are_retried(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path) as h:
        h.emulator.fail_next("sendPhoto", 429, "Too Many Requests: retry after 1", retry_after=1)
        h.emulator.fail_next("getFile", 502, "Bad Gateway", times=2)
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=6), "e.jpg"))
        keyboard = await h.keyboard_under(photo)
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        result = await h.result_for(photo)
        assert "photo" in result
        await h.deleted(ALICE, keyboard["message_id"])
        (job,) = await h.rows(Job)
        assert job.status == JobStatus.DONE and job.upload_ms is not None and job.upload_ms >= 1000


async def test_a_user_who_blocked_the_bot_is_recorded_and_nothing_breaks(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path, start_worker=False) as h:
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=9), "b.jpg"))
        keyboard = await h.keyboard_under(photo)
        await h.answer(h.press(ALICE, keyboard, h.style_button(keyboard, "ember")))
        h.emulator.block_bot(ALICE)
        await h.app.worker.start()
        # Boris is still served while Alice's job meets her block.
        other = h.emulator.send_user_message(BORIS, BORIS, photo=(jpeg(seed=10), "o.jpg"))
        keyboard = await h.keyboard_under(other)
        h.press(BORIS, keyboard, h.style_button(keyboard, "frost"))
        await h.result_for(other)
        await h.deleted(BORIS, keyboard["message_id"])
        jobs = {j.user_id: j for j in await h.rows(Job)}
        assert (jobs[ALICE].status, jobs[ALICE].error_code) == (JobStatus.FAILED, "blocked")
        assert jobs[BORIS].status == JobStatus.DONE
        (alice,) = await h.rows(User, User.id == ALICE)
        assert alice.is_blocked_bot


async def test_shutdown_puts_a_running_job_back_and_the_next_start_finishes_it(
    tmp_path: Path, emulator: BotApiEmulator
) -> None:
    url = sqlite_url(tmp_path)
    async with running_bot(
        url, tmp_path, emulator=emulator, shutdown_grace_s=0.0, status_interval_s=0.0
    ) as h:
        clip = emulator.send_user_message(ALICE, ALICE, video=(mp4(frames=60), "long.mp4"))
        keyboard = await h.keyboard_under(clip)
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        await emulator.wait_for(
            lambda m: (
                m["message_id"] == keyboard["message_id"]
                and m.get("text", "").startswith("Stylizing")
            )
        )
    (job,) = await h.rows(Job)
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0), "released, the try not counted"

    async with running_bot(url, tmp_path, emulator=emulator) as h:
        result = await h.result_for(clip, "video", wait_s=60)
        assert result["caption"].startswith("🎨 Ember")
        await h.deleted(ALICE, keyboard["message_id"])
        (job,) = await h.rows(Job)
        assert (job.status, job.attempts) == (JobStatus.DONE, 1)


async def test_a_new_playground_on_an_old_database_is_heard(tmp_path: Path) -> None:
    """Each playground's update ids start at 1; the database remembers the last run's."""
    url = sqlite_url(tmp_path)
    for run in range(2):
        async with running_bot(url, tmp_path) as h:
            photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=run), "n.jpg"))
            assert (await h.keyboard_under(photo))["text"] == "Choose a style:"
