"""Commands, the language switch, the command menus and inline sharing.

These flows touch the database only through paths the other bot tests already run on both
backends, so they run on SQLite alone to keep the suite quick.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.db import Job, User
from playground import ALICE, BORIS, GROUP_ID
from tests.bot_harness import (
    callback_data,
    jpeg,
    running_bot,
    sqlite_url,
)


def after(message: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A predicate: a bot message in the same chat, later than ``message``."""
    chat, message_id = message["chat"]["id"], message["message_id"]
    return lambda m: bool(m["chat"]["id"] == chat and m["message_id"] > message_id)


async def test_commands_menus_and_language(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path, admins=(ALICE,)) as h:
        menus = h.emulator.state.commands
        assert [c["command"] for c in menus[("default", "")]] == [
            "start",
            "help",
            "styles",
            "lang",
            "cancel",
        ]
        assert menus[("default", "ru")][0]["description"] == "Начать и узнать, как это работает"
        assert menus[("all_group_chats", "")][0]["command"] == "art"

        start = h.emulator.send_user_message(ALICE, ALICE, "/start")
        greeting = await h.emulator.wait_for(after(start))
        assert greeting["text"].startswith("Hi, Alice! I turn photos")
        assert "🎨 Ember — Test Painter\n🎨 Frost — Test Painter" in greeting["text"]

        help_ = h.emulator.send_user_message(BORIS, BORIS, "/help")
        reply = await h.emulator.wait_for(after(help_))
        assert "файлы до 20 МБ, видео до 30 с" in reply["text"]

        lang = h.emulator.send_user_message(ALICE, ALICE, "/lang")
        chooser = await h.emulator.wait_for(after(lang))
        assert callback_data(chooser) == ["lg:en", "lg:ru"]
        answer = await h.answer(h.press(ALICE, chooser, "lg:ru"))
        assert answer["text"] == "Готово: говорю по-русски."
        (alice,) = await h.rows(User, User.id == ALICE)
        assert alice.language == "ru"
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(), "x.jpg"))
        keyboard = await h.keyboard_under(photo)
        assert keyboard["text"] == "Выберите стиль:"

        stats = h.emulator.send_user_message(ALICE, ALICE, "/stats")
        reply = await h.emulator.wait_for(after(stats))
        assert reply["text"].startswith("Очередь: 0 ждут, 0 в работе.")
        not_admin = h.emulator.send_user_message(BORIS, BORIS, "/stats")
        refusal = await h.emulator.wait_for(after(not_admin))
        assert refusal["text"] == "Извините, /stats доступна только администраторам бота."


async def test_styles_gallery_is_one_collage_uploaded_once(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path) as h:
        first = h.emulator.send_user_message(ALICE, ALICE, "/styles")
        gallery = await h.emulator.wait_for(after(first))
        assert gallery["caption"] == "Styles:\n🎨 Ember — Test Painter\n🎨 Frost — Test Painter"
        assert gallery["photo"][-1]["width"] == 2 * 256
        assert callback_data(gallery) == ["gp:ember", "gp:frost"]
        again = h.emulator.send_user_message(BORIS, GROUP_ID, "/styles")
        second = await h.emulator.wait_for(after(again))
        assert second["photo"][-1]["file_id"] == gallery["photo"][-1]["file_id"], "sent by file_id"
        assert callback_data(second) == [], "no buttons in a group: media there comes by /art"


async def test_a_style_picked_in_the_gallery_paints_the_next_photo(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path) as h:
        gallery = await h.emulator.wait_for(
            after(h.emulator.send_user_message(ALICE, ALICE, "/styles"))
        )
        forged = await h.answer(h.press(ALICE, gallery, "gp:cubism", forged=True))
        assert forged["show_alert"] and forged["text"] == "That style is not available any more."
        cursor = h.emulator.cursor
        await h.answer(h.press(ALICE, gallery, "gp:frost"))
        prompt = await h.emulator.wait_for(lambda m: m["chat"]["id"] == ALICE, since=cursor)
        assert prompt["text"] == "Send me a photo or a video, and I'll paint it in 🎨 Frost."

        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=3), "p.jpg"))
        keyboard = await h.keyboard_under(photo)
        result = await h.result_for(photo)  # nobody pressed anything
        assert result["caption"].startswith("🎨 Frost")
        await h.deleted(ALICE, keyboard["message_id"])
        (job,) = await h.rows(Job)
        assert (job.style, job.status_message_id) == ("frost", keyboard["message_id"])

        second = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=4), "q.jpg"))
        await h.keyboard_under(second)
        assert await h.count(Job) == 1, "a pick is used once; the next photo gets the keyboard"


async def test_inline_mode_lists_the_users_results(tmp_path: Path) -> None:
    async with running_bot(sqlite_url(tmp_path), tmp_path) as h:
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=2), "i.jpg"))
        keyboard = await h.keyboard_under(photo)
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        result = await h.result_for(photo)
        await h.deleted(ALICE, keyboard["message_id"])

        query = h.emulator.inline_query(ALICE, "frost", GROUP_ID)
        answer = await h.emulator.wait_for_inline_answer(query)
        (item,) = answer["results"]
        assert item["type"] == "photo" and item["photo_file_id"] == result["photo"][-1]["file_id"]
        assert answer["is_personal"] is True
        shared = h.emulator.choose_inline_result(ALICE, GROUP_ID, query, item["id"])
        assert shared["photo"][-1]["file_id"] == result["photo"][-1]["file_id"]

        nothing = h.emulator.inline_query(ALICE, "ember")
        answer = await h.emulator.wait_for_inline_answer(nothing)
        assert answer["results"] == []
        assert answer["button"]["text"].startswith("No paintings yet")
        theirs = h.emulator.inline_query(BORIS, "")
        assert (await h.emulator.wait_for_inline_answer(theirs))["results"] == []
