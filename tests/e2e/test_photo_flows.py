"""End to end, photos: the bot as ``artisto run`` starts it, over HTTP to the emulator.

What a user sees (messages, captions, buttons, alerts) is checked first; the rows in the
database where they prove something the chat cannot show (no second painting, one media).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.db import Job, JobStatus, Media, Result, ResultKind
from inference.registry import StyleRegistry
from playground import ALICE, BORIS
from tests.bot_harness import buttons, data_with, jpeg, replies_to
from tests.e2e.running import download, playground

pytestmark = pytest.mark.e2e

CAPTION_EMBER = "🎨 Ember — after Test Painter, 1900"
CAPTION_FROST = "🎨 Frost — after Test Painter, 1900"


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32)


async def test_a_photo_comes_back_painted(tmp_path: Path, styles_dir: Path) -> None:
    async with playground(tmp_path, styles_dir) as h:
        original = jpeg(96, 64, seed=1)
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(original, "cat.jpg"))
        keyboard = await h.keyboard_under(photo)
        assert keyboard["text"] == "Choose a style:"
        labels = [[b["text"] for b in row] for row in buttons(keyboard)]
        offered = {label for row in labels[:-1] for label in row}  # shipped styles beside
        assert {"🎨 Ember", "🎨 Frost"} <= offered and labels[-1] == ["🎲 Surprise me"]

        query = h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        assert (await h.answer(query))["text"] == "Queued"
        result = await h.result_for(photo)
        assert result["caption"] == CAPTION_EMBER
        assert [[b["text"] for b in row] for row in buttons(result)] == [
            ["🎨 Another style", "↗ Share"],
            ["⬇ Original quality"],
        ]
        await h.deleted(ALICE, keyboard["message_id"])  # the status goes once the result is in
        bot_id = h.emulator.bot_user["id"]
        from_bot = [m for m in h.emulator.chat_history(ALICE) if m["from"]["id"] == bot_id]
        assert [m["message_id"] for m in from_bot] == [result["message_id"]]

        sent = result["photo"][-1]
        painted = _pixels(await download(h, sent["file_id"]))
        assert painted.shape == (64, 96, 3)
        assert np.abs(painted - _pixels(original)).mean() > 5, "the painting is not the photo"

        (job,) = await h.rows(Job)
        assert (job.status, job.style, job.attempts, job.progress) == (
            JobStatus.DONE,
            "ember",
            1,
            100,
        )
        (stored,) = await h.rows(Result)
        assert (stored.kind, stored.file_id) == (ResultKind.PHOTO, sent["file_id"])


async def test_another_style_then_the_inline_query_lists_both(
    tmp_path: Path, styles_dir: Path
) -> None:
    async with playground(tmp_path, styles_dir) as h:
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(80, 80, seed=2), "p.jpg"))
        keyboard = await h.keyboard_under(photo)
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        first = await h.result_for(photo)

        cursor = h.emulator.cursor
        h.press(ALICE, first, data_with(first, "an:"))
        again = await h.keyboard_under(photo, since=cursor)
        assert again["text"] == "Choose a style:" and again["message_id"] != keyboard["message_id"]
        h.press(ALICE, again, h.style_button(again, "frost"))
        second = await h.emulator.wait_for(
            lambda m: replies_to(photo)(m) and m.get("caption") == CAPTION_FROST, 30
        )
        assert second["photo"][-1]["file_id"] != first["photo"][-1]["file_id"]
        assert await h.count(Media) == 1, "the stored photo is reused: no second upload"

        everything = h.emulator.inline_query(ALICE, "")
        answer = await h.emulator.wait_for_inline_answer(everything)
        listed = {r["photo_file_id"] for r in answer["results"] if r["type"] == "photo"}
        assert listed == {first["photo"][-1]["file_id"], second["photo"][-1]["file_id"]}
        assert answer["is_personal"] is True

        only_frost = h.emulator.inline_query(ALICE, "frost")
        (item,) = (await h.emulator.wait_for_inline_answer(only_frost))["results"]
        assert item["photo_file_id"] == second["photo"][-1]["file_id"]

        theirs = h.emulator.inline_query(BORIS, "")
        answer = await h.emulator.wait_for_inline_answer(theirs)
        assert answer["results"] == [], "Boris has painted nothing"
        assert answer["button"]["text"].startswith("Картин пока нет"), "in his language"


async def test_a_repeat_is_answered_from_the_cache_at_once(
    tmp_path: Path, styles_dir: Path
) -> None:
    async with playground(tmp_path, styles_dir) as h:
        picture = jpeg(64, 64, seed=3)
        first = h.emulator.send_user_message(ALICE, ALICE, photo=(picture, "a.jpg"))
        keyboard = await h.keyboard_under(first)
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        painted = await h.result_for(first)

        # The same picture again (same file_unique_id), and the same style.
        repeat = h.emulator.send_user_message(ALICE, ALICE, photo=(picture, "b.jpg"))
        keyboard = await h.keyboard_under(repeat)
        cursor = h.emulator.cursor
        query = h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        cached = await h.result_for(repeat, wait_s=10)
        assert cached["caption"] == CAPTION_FROST
        assert cached["photo"][-1]["file_id"] == painted["photo"][-1]["file_id"], "no re-upload"
        await h.answer(query)
        # At once: the result was sent while the tap was being handled, before its answer,
        # and the keyboard never turned into a "Queued" status.
        events = h.emulator.state.events.after(cursor)
        kinds = [
            e["type"]
            for e in events
            if e["type"] == "callback_answer"
            or (e["type"] == "message" and e["message"]["message_id"] == cached["message_id"])
        ]
        assert kinds == ["message", "callback_answer"]
        assert not any(
            e["type"] == "edit" and e["message"]["message_id"] == keyboard["message_id"]
            for e in events
        )
        await h.deleted(ALICE, keyboard["message_id"])

        # No second painting: one result; the repeat's job row is born done and never ran,
        # and holds its keyboard, so a second tap on it finds the job.
        assert await h.count(Result) == 1
        jobs = await h.rows(Job)
        assert [j.status for j in jobs] == [JobStatus.DONE, JobStatus.DONE]
        assert jobs[0].inference_ms is not None
        assert (jobs[1].inference_ms, jobs[1].attempts, jobs[1].status_message_id) == (
            None,
            0,
            keyboard["message_id"],
        )


@pytest.mark.skipif(not len(StyleRegistry.discover()), reason="no shipped style yet")
async def test_a_shipped_style_paints_a_small_photo(tmp_path: Path) -> None:
    shipped = StyleRegistry.discover().names()[0]
    async with playground(tmp_path, None) as h:
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(128, 96, seed=4), "s.jpg"))
        keyboard = await h.keyboard_under(photo)
        h.press(ALICE, keyboard, h.style_button(keyboard, shipped))
        result = await h.result_for(photo, wait_s=60)
        meta = StyleRegistry.discover().get(shipped).meta
        assert result["caption"].startswith(f"{meta.emoji} {meta.title} — after {meta.artist}")
        assert (result["photo"][-1]["width"], result["photo"][-1]["height"]) == (128, 96)
