"""End to end, durability: the process dies in the middle of a job, a new one starts on the
same database, and the user still gets the painting (the emulator, like Telegram, lives on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.db import Job, JobStatus, Repos
from playground import ALICE, BotApiEmulator
from tests.bot_harness import jpeg
from tests.e2e.running import playground

pytestmark = pytest.mark.e2e


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


async def test_a_job_left_running_by_a_crash_is_finished_after_the_restart(
    tmp_path: Path, styles_dir: Path, emulator: BotApiEmulator
) -> None:
    # The first process takes the job and dies while painting it: the row stays 'running'.
    async with playground(tmp_path, styles_dir, emulator=emulator, start_worker=False) as h:
        photo = emulator.send_user_message(ALICE, ALICE, photo=(jpeg(72, 56, seed=11), "r.jpg"))
        keyboard = await h.keyboard_under(photo)
        assert (await h.answer(h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))))[
            "text"
        ] == "Queued"
        await emulator.wait_for(
            lambda m: (
                m["message_id"] == keyboard["message_id"]
                and m.get("text", "") == ("Queued: you're next.")
            )
        )
        async with h.sessions.begin() as session:  # what the worker does first
            claimed = await Repos(session).leases.claim_next("w:1:0", timedelta(seconds=30))
        assert claimed is not None
        (job,) = await h.rows(Job)
        assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)

    # A new process on the same database: the job goes back in the queue and is painted.
    async with playground(tmp_path, styles_dir, emulator=emulator) as h:
        await emulator.wait_for(
            lambda m: (
                m["message_id"] == keyboard["message_id"]
                and m.get("text", "") == ("I restarted; your request is back in the queue.")
            )
        )
        result = await h.result_for(photo)
        assert result["caption"] == "🎨 Frost — after Test Painter, 1900"
        await h.deleted(ALICE, keyboard["message_id"])
        (job,) = await h.rows(Job)
        assert (job.id, job.status, job.attempts) == (claimed.id, JobStatus.DONE, 2)
