"""The bot's main flows through the real dispatcher, over HTTP to the Bot API emulator, with
the database rows checked: photo, cache hit, another style, original quality, a video."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from bot.db import Job, JobStatus, Media, MediaKind, Result, ResultKind, User
from playground import ALICE, BORIS
from tests.bot_harness import (
    buttons,
    callback_data,
    data_with,
    jpeg,
    mp4,
    replies_to,
    running_bot,
    sqlite_url,
)


async def test_photo_is_painted_and_sent_back_as_a_reply(db_url: str, tmp_path: Path) -> None:
    async with running_bot(db_url, tmp_path) as h:
        original = jpeg(64, 48)
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(original, "cat.jpg"))
        keyboard = await h.keyboard_under(photo)
        assert keyboard["text"] == "Choose a style:"
        rows = buttons(keyboard)
        assert [b["text"] for b in rows[0]] == ["🎨 Ember", "🎨 Frost"]
        assert rows[-1] == [
            {"text": "🎲 Surprise me", "callback_data": rows[-1][0]["callback_data"]}
        ]
        assert all(len(d.encode()) <= 64 for d in callback_data(keyboard))

        query = h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        assert (await h.answer(query))["text"] == "Queued"
        status_id = keyboard["message_id"]
        await h.emulator.wait_for(
            lambda m: m["message_id"] == status_id and m.get("text", "").startswith("Queued")
        )
        result = await h.result_for(photo)
        assert result["caption"] == "🎨 Ember — after Test Painter, 1900"
        labels = [[b["text"] for b in row] for row in buttons(result)]
        assert labels == [["🎨 Another style", "↗ Share"], ["⬇ Original quality"]]
        assert buttons(result)[0][1]["switch_inline_query"] == "ember"
        sent = result["photo"][-1]
        assert (sent["width"], sent["height"]) == (64, 48)
        await h.deleted(ALICE, status_id)  # the status message goes once the result is there

        (job,) = await h.rows(Job)
        assert (job.status, job.style, job.user_id, job.attempts) == (
            JobStatus.DONE,
            "ember",
            ALICE,
            1,
        )
        assert job.progress == 100 and job.error_code is None
        assert (
            job.download_ms is not None
            and job.inference_ms is not None
            and job.upload_ms is not None
        )
        (media,) = await h.rows(Media)
        assert (media.kind, media.chat_id, media.message_id) == (
            MediaKind.PHOTO,
            ALICE,
            photo["message_id"],
        )
        assert media.file_unique_id == photo["photo"][-1]["file_unique_id"]
        (stored,) = await h.rows(Result)
        assert (stored.kind, stored.file_id, stored.job_id) == (
            ResultKind.PHOTO,
            sent["file_id"],
            job.id,
        )
        (user,) = await h.rows(User, User.id == ALICE)
        assert user.language_code == "en" and not user.is_blocked_bot

        # The painting is not the photo: the generator changed the pixels.
        file = await h.app.bot.get_file(sent["file_id"])
        assert file.file_path is not None
        painted = await h.app.bot.download_file(file.file_path)
        assert painted is not None
        before = np.asarray(Image.open(io.BytesIO(original)).convert("RGB"), dtype=np.float32)
        after = np.asarray(Image.open(painted).convert("RGB"), dtype=np.float32)
        assert np.abs(before - after).mean() > 5

        # "Original quality": the stored output itself, as a file, in reply to the result.
        oq = data_with(result, "oq:")
        h.press(ALICE, result, oq)
        document = await h.emulator.wait_for(lambda m: replies_to(result)(m) and "document" in m)
        assert document["document"]["file_name"] == "artisto-ember.jpg"
        actions = [
            e["action"] for e in h.emulator.state.events.after(0) if e["type"] == "chat_action"
        ]
        assert "upload_photo" in actions


async def test_same_photo_and_style_is_answered_from_the_cache(db_url: str, tmp_path: Path) -> None:
    async with running_bot(db_url, tmp_path) as h:
        picture = jpeg(seed=3)
        first = h.emulator.send_user_message(ALICE, ALICE, photo=(picture, "a.jpg"))
        keyboard = await h.keyboard_under(first)
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        painted = await h.result_for(first)
        await h.deleted(ALICE, keyboard["message_id"])

        # Boris sends the same picture: same file_unique_id, so no new painting is made.
        again = h.emulator.send_user_message(BORIS, BORIS, photo=(picture, "b.jpg"))
        assert again["photo"][-1]["file_unique_id"] == first["photo"][-1]["file_unique_id"]
        keyboard = await h.keyboard_under(again)
        assert keyboard["text"] == "Выберите стиль:", "Boris's client speaks Russian"
        h.press(BORIS, keyboard, h.style_button(keyboard, "frost"))
        cached = await h.result_for(again, wait_s=5)
        assert cached["photo"][-1]["file_id"] == painted["photo"][-1]["file_id"], "sent by file_id"
        assert cached["caption"].startswith("🎨 Frost — по мотивам: Test Painter")
        await h.deleted(BORIS, keyboard["message_id"])

        jobs = await h.rows(Job)
        assert [j.status for j in jobs] == [JobStatus.DONE, JobStatus.DONE]
        assert jobs[1].user_id == BORIS and jobs[1].inference_ms is None, "nothing was run"
        assert await h.count(Result) == 1


async def test_another_style_reuses_the_stored_media(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path) as h:
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=5), "c.jpg"))
        keyboard = await h.keyboard_under(photo)
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        first = await h.result_for(photo)
        another = data_with(first, "an:")
        cursor = h.emulator.cursor
        h.press(ALICE, first, another)
        second_keyboard = await h.keyboard_under(photo, since=cursor)
        assert second_keyboard["message_id"] != keyboard["message_id"]
        h.press(ALICE, second_keyboard, h.style_button(second_keyboard, "frost"))
        second = await h.emulator.wait_for(
            lambda m: replies_to(photo)(m) and "photo" in m and "Frost" in m.get("caption", "")
        )
        assert second["photo"][-1]["file_unique_id"] != first["photo"][-1]["file_unique_id"]
        await h.deleted(ALICE, second_keyboard["message_id"])
        assert await h.count(Media) == 1, "no second upload, no second media row"
        jobs = await h.rows(Job)
        assert [(j.style, j.status) for j in jobs] == [
            ("ember", JobStatus.DONE),
            ("frost", JobStatus.DONE),
        ]
        assert jobs[0].media_id == jobs[1].media_id


async def test_video_comes_back_as_a_video_with_progress(tmp_path: Path) -> None:
    # No pause between edits here: the clip is painted faster than any real rate limit.
    async with running_bot(sqlite_url(tmp_path), tmp_path, status_interval_s=0.0) as h:
        clip = h.emulator.send_user_message(ALICE, ALICE, video=(mp4(frames=24), "clip.mp4"))
        keyboard = await h.keyboard_under(clip)
        status_id = keyboard["message_id"]
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        result = await h.result_for(clip, "video", wait_s=60)
        assert result["video"]["width"] == 48 and result["video"]["height"] == 32
        assert result["caption"].startswith("🎨 Frost")
        shown = [
            e["message"].get("text", "")
            for e in h.emulator.state.events.after(0)
            if e["type"] == "edit" and e["message"]["message_id"] == status_id
        ]
        assert any(text.startswith("Stylizing… ") and text.endswith("%") for text in shown), shown
        await h.deleted(ALICE, status_id)
        (job,) = await h.rows(Job)
        assert job.status == JobStatus.DONE and job.priority == 1
        (stored,) = await h.rows(Result)
        assert stored.kind == ResultKind.VIDEO and stored.file_id == result["video"]["file_id"]


async def test_an_image_file_comes_back_as_a_file_in_a_surprise_style(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path) as h:
        png = io.BytesIO()
        Image.fromarray(np.full((40, 56, 3), 120, np.uint8)).save(png, "PNG")
        sent = h.emulator.send_user_message(ALICE, ALICE, document=(png.getvalue(), "art.png"))
        keyboard = await h.keyboard_under(sent)
        h.press(ALICE, keyboard, data_with(keyboard, "sx:"))
        result = await h.result_for(sent, "document")
        (job,) = await h.rows(Job)
        assert job.style in ("ember", "frost")
        assert result["document"]["file_name"] == f"artisto-{job.style}.png"
        assert result["document"]["mime_type"] == "image/png"
        labels = [[b["text"] for b in row] for row in buttons(result)]
        assert labels == [["🎨 Another style", "↗ Share"]], "a file is already full quality"
        (media,) = await h.rows(Media)
        assert media.kind == MediaKind.IMAGE_DOCUMENT
