"""What the bot turns away, and how it says so: per-user limits, a full queue, files over a
limit, and messages it cannot paint."""

from __future__ import annotations

from pathlib import Path

from bot.db import Job, JobStatus, Media
from playground import ALICE, BORIS
from tests.bot_harness import (
    jpeg,
    mp4,
    noisy_png,
    replies_to,
    running_bot,
    sqlite_url,
)


async def test_concurrent_rate_and_queue_limits(db_url: str, tmp_path: Path) -> None:
    # No worker: queued jobs stay queued, so the counts are exact.
    async with running_bot(
        db_url,
        tmp_path,
        start_worker=False,
        user_concurrent_jobs=1,
        user_jobs_per_minute=2,
        queue_max=2,
        admins=(BORIS,),
    ) as h:

        async def tap(user: int, seed: int) -> dict[str, object]:
            photo = h.emulator.send_user_message(user, user, photo=(jpeg(seed=seed), f"{seed}.jpg"))
            keyboard = await h.keyboard_under(photo)
            return await h.answer(h.press(user, keyboard, h.style_button(keyboard, "ember")))

        assert (await tap(ALICE, 1))["text"] == "Queued"
        answer = await tap(ALICE, 2)
        assert answer["show_alert"] is True
        assert answer["text"] == (
            "You already have 1 request in progress. Please wait for them to finish."
        )
        # Boris is an admin: exempt from his own limits, but he fills the queue.
        assert (await tap(BORIS, 3))["text"] == "В очереди"
        assert (await tap(BORIS, 4))["text"] == "В очереди"
        jobs = await h.rows(Job)
        assert [(j.user_id, j.status) for j in jobs] == [
            (ALICE, JobStatus.QUEUED),
            (BORIS, JobStatus.QUEUED),
            (BORIS, JobStatus.QUEUED),
        ]
        # Alice cancels hers; now the queue bound (2 queued) stops her.
        cancel = h.emulator.send_user_message(ALICE, ALICE, "/cancel")
        reply = await h.emulator.wait_for(
            lambda m: m["chat"]["id"] == ALICE and m["message_id"] > cancel["message_id"]
        )
        assert reply["text"] == "Cancelled 1 queued request."
        assert (await h.rows(Job, Job.user_id == ALICE))[0].status == JobStatus.CANCELLED
        answer = await tap(ALICE, 5)
        assert answer["text"] == "I'm very busy right now. Please try again in about 1 minute."
        assert await h.count(Job) == 3


async def test_per_minute_rate(tmp_path: Path) -> None:
    async with running_bot(
        sqlite_url(tmp_path),
        tmp_path,
        start_worker=False,
        user_concurrent_jobs=5,
        user_jobs_per_minute=1,
    ) as h:
        answers = []
        for seed in (1, 2):
            photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=seed), "p.jpg"))
            keyboard = await h.keyboard_under(photo)
            answers.append(
                await h.answer(h.press(ALICE, keyboard, h.style_button(keyboard, "frost")))
            )
        assert answers[0]["text"] == "Queued"
        assert answers[1]["text"] == (
            "Too many requests: the limit is 1 a minute. Please try again shortly."
        )


async def test_unpaintable_and_oversized_input_get_clear_replies(tmp_path: Path) -> None:
    async with running_bot(
        sqlite_url(tmp_path), tmp_path, max_download_mb=1, max_video_seconds=1
    ) as h:
        text = h.emulator.send_user_message(ALICE, ALICE, "hello there")
        hint = await h.emulator.wait_for(lambda m: m["chat"]["id"] == ALICE and "text" in m)
        assert hint["text"].startswith("Send me a photo or a short video")
        assert text["message_id"] < hint["message_id"]

        pdf = h.emulator.send_user_message(ALICE, ALICE, document=(b"%PDF-1.4\n%%EOF\n", "cv.pdf"))
        reply = await h.emulator.wait_for(replies_to(pdf))
        assert reply["text"].startswith("I can't paint PDF files.")

        big = noisy_png(700)  # about 1.5 MB
        assert len(big) > 1024 * 1024
        document = h.emulator.send_user_message(ALICE, ALICE, document=(big, "huge.png"))
        reply = await h.emulator.wait_for(replies_to(document))
        assert reply["text"] == "This file is too large: I can take files up to 1 MB."

        long_clip = h.emulator.send_user_message(ALICE, ALICE, video=(mp4(frames=24), "long.mp4"))
        reply = await h.emulator.wait_for(replies_to(long_clip))
        assert reply["text"] == "This video is too long: I can paint up to 1 second."

        russian = h.emulator.send_user_message(BORIS, BORIS, document=(big, "huge.png"))
        reply = await h.emulator.wait_for(replies_to(russian))
        assert reply["text"] == "Файл слишком большой: я принимаю файлы до 1 МБ."
        assert await h.count(Media) == 0, "nothing refused is stored"
