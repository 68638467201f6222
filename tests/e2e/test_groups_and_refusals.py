"""End to end, what the bot turns away and how it says so: another user's tap in a group, a
file over the size limit, a file that cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db import Job, JobStatus, Media
from playground import ALICE, BORIS, GROUP_ID
from tests.bot_harness import jpeg, noisy_png, replies_to
from tests.e2e.running import playground
from tests.fixtures_video import make_headless

pytestmark = pytest.mark.e2e


async def test_in_a_group_only_the_requester_may_choose(tmp_path: Path, styles_dir: Path) -> None:
    async with playground(tmp_path, styles_dir) as h:
        photo = h.emulator.send_user_message(ALICE, GROUP_ID, photo=(jpeg(seed=7), "g.jpg"))
        art = h.emulator.send_user_message(
            ALICE, GROUP_ID, "/art@artisto_bot", reply_to=photo["message_id"]
        )
        keyboard = await h.keyboard_under(art)
        style = h.style_button(keyboard, "ember")

        refused = await h.answer(h.press(BORIS, keyboard, style))
        assert refused["show_alert"] is True
        assert refused["text"] == "Это чужой запрос: ответьте /art на фото сами."  # his language
        assert await h.count(Job) == 0

        h.press(ALICE, keyboard, style)
        result = await h.result_for(photo)
        assert result["chat"]["id"] == GROUP_ID
        assert result["caption"] == "🎨 Ember — after Test Painter, 1900"
        await h.deleted(GROUP_ID, keyboard["message_id"])
        (job,) = await h.rows(Job)
        assert (job.user_id, job.chat_id, job.status) == (ALICE, GROUP_ID, JobStatus.DONE)


async def test_a_file_over_the_limit_is_refused_with_the_limit(
    tmp_path: Path, styles_dir: Path
) -> None:
    async with playground(tmp_path, styles_dir, max_download_mb=1) as h:
        big = noisy_png(640)  # about 1.2 MB that does not compress
        assert len(big) > 1024 * 1024
        document = h.emulator.send_user_message(ALICE, ALICE, document=(big, "huge.png"))
        reply = await h.emulator.wait_for(replies_to(document))
        assert reply["text"] == "This file is too large: I can take files up to 1 MB."
        assert "reply_markup" not in reply, "nothing to choose"
        assert await h.count(Media) == 0 and await h.count(Job) == 0


async def test_a_damaged_video_gets_an_apology(tmp_path: Path, styles_dir: Path) -> None:
    broken = make_headless(tmp_path / "broken.mp4")  # cut before its index: nothing readable
    async with playground(tmp_path, styles_dir) as h:
        video = h.emulator.send_user_message(ALICE, ALICE, video=(broken.read_bytes(), "b.mp4"))
        keyboard = await h.keyboard_under(video)  # Telegram takes it; the bot finds out later
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        apology = await h.emulator.wait_for(
            lambda m: m["message_id"] == keyboard["message_id"] and "Sorry" in m.get("text", ""),
            30,
        )
        assert apology["text"] == (
            "😔 Sorry, I couldn't paint this: the file could not be read "
            "(it may be damaged, or in a format I don't know)."
        )
        assert "reply_markup" not in apology
        (job,) = await h.rows(Job)
        assert (job.status, job.error_code) == (JobStatus.FAILED, "decode")
