"""Groups (reply /art; only the requester may press) and buttons that must not act:
someone else's, an unknown style, malformed or forged data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.db import Job, JobStatus
from playground import ALICE, BORIS, GROUP_ID
from tests.bot_harness import (
    data_with,
    jpeg,
    replies_to,
    running_bot,
    sqlite_url,
)

NOT_YOURS = "This is someone else's request: reply /art to the photo yourself."


async def test_group_art_flow_refuses_other_users_taps(db_url: str, tmp_path: Path) -> None:
    async with running_bot(db_url, tmp_path) as h:
        photo = h.emulator.send_user_message(ALICE, GROUP_ID, photo=(jpeg(seed=7), "g.jpg"))
        art = h.emulator.send_user_message(
            ALICE, GROUP_ID, "/art@artisto_bot", reply_to=photo["message_id"]
        )
        keyboard = await h.keyboard_under(art)
        style = h.style_button(keyboard, "ember")

        query = h.press(BORIS, keyboard, style)
        answer = await h.answer(query)
        assert answer["show_alert"] is True
        assert (
            answer["text"] == "Это чужой запрос: ответьте /art на фото сами."
        )  # Boris reads Russian
        assert await h.count(Job) == 0

        h.press(ALICE, keyboard, style)
        result = await h.result_for(photo)
        assert result["chat"]["id"] == GROUP_ID and result["caption"].startswith("🎨 Ember")
        await h.deleted(GROUP_ID, keyboard["message_id"])
        bot_id = h.emulator.bot_user["id"]
        from_bot = [m for m in h.emulator.chat_history(GROUP_ID) if m["from"]["id"] == bot_id]
        assert [m["message_id"] for m in from_bot] == [result["message_id"]], (
            "one message per request"
        )

        # Another user's buttons under the result are refused too.
        for prefix in ("an:", "oq:"):
            query = h.press(BORIS, result, data_with(result, prefix))
            assert (await h.answer(query))[
                "text"
            ] == "Это чужой запрос: ответьте /art на фото сами."
        (job,) = await h.rows(Job)
        assert job.status == JobStatus.DONE and job.user_id == ALICE and job.chat_id == GROUP_ID


async def test_art_needs_a_reply_to_media(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path) as h:
        alone = h.emulator.send_user_message(ALICE, GROUP_ID, "/art")
        usage = await h.emulator.wait_for(replies_to(alone))
        assert usage["text"] == "Reply /art to a photo or a video, and I'll offer the styles."
        text = h.emulator.send_user_message(ALICE, GROUP_ID, "look at this")
        art = h.emulator.send_user_message(ALICE, GROUP_ID, "/art", reply_to=text["message_id"])
        usage = await h.emulator.wait_for(replies_to(art))
        assert "Reply /art" in usage["text"]
        captioned = h.emulator.send_user_message(BORIS, GROUP_ID, "/art", photo=(jpeg(), "p.jpg"))
        keyboard = await h.keyboard_under(captioned)
        assert f":{BORIS}:" in h.style_button(keyboard, "ember"), "the sender's own keyboard"


async def test_forged_and_malformed_buttons_are_refused(db_url: str, tmp_path: Path) -> None:
    async with running_bot(db_url, tmp_path, start_worker=False) as h:
        photo = h.emulator.send_user_message(ALICE, GROUP_ID, photo=(jpeg(seed=8), "f.jpg"))
        art = h.emulator.send_user_message(ALICE, GROUP_ID, "/art", reply_to=photo["message_id"])
        keyboard = await h.keyboard_under(art)
        media_id = int(h.style_button(keyboard, "ember").split(":")[1])
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        queued = await h.emulator.wait_for(
            lambda m: m["message_id"] == keyboard["message_id"] and "Queued" in m.get("text", "")
        )
        alice_job = int(data_with(queued, "cx:").split(":")[1])

        # Boris's own chat: a bot message he can press forged data on.
        start = h.emulator.send_user_message(BORIS, BORIS, "/start")
        greeting = await h.emulator.wait_for(lambda m: m["chat"]["id"] == BORIS and "text" in m)
        assert start["message_id"] < greeting["message_id"]

        async def refused(message: dict[str, Any], data: str) -> str:
            query = h.press(BORIS, message, data, forged=True)
            answer = await h.answer(query)
            assert answer["show_alert"] is True
            return str(answer["text"])

        stale, not_yours = (
            "Эта кнопка больше не работает.",
            "Это чужой запрос: ответьте /art на фото сами.",
        )
        assert (
            await refused(greeting, f"st:{media_id}:{BORIS}:ember") == stale
        )  # media of another chat
        assert await refused(keyboard, f"st:{media_id}:{ALICE}:ember") == not_yours
        assert (
            await refused(keyboard, f"st:{media_id}:{BORIS}:no_such_style")
            == "Этого стиля больше нет."
        )
        assert await refused(keyboard, f"st:999999:{BORIS}:ember") == stale
        assert await refused(queued, f"cx:{alice_job}") == not_yours
        assert await refused(greeting, f"cx:{alice_job}") == stale  # the job lives in the group
        assert await refused(greeting, f"oq:{alice_job}") == stale
        for malformed in ("st:zz:yy", "cx:", "\x00\xff junk", "st:1:2:3:4:5", "lg"):
            assert await refused(greeting, malformed) == stale

        jobs = await h.rows(Job)
        assert [(j.id, j.user_id, j.status) for j in jobs] == [(alice_job, ALICE, JobStatus.QUEUED)]

        # Alice may cancel her own queued job with the same button.
        query = h.press(ALICE, queued, f"cx:{alice_job}")
        assert (await h.answer(query))["text"] == "Cancelled."
        await h.emulator.wait_for(
            lambda m: m["message_id"] == keyboard["message_id"] and m.get("text") == "Cancelled."
        )
        (job,) = await h.rows(Job)
        assert job.status == JobStatus.CANCELLED
        assert "reply_markup" not in h.emulator.chat_history(GROUP_ID)[-1]
