"""The Bot API emulator over real HTTP on 127.0.0.1, driven by a real aiogram ``Bot``."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from fractions import Fraction
from typing import Any

import aiohttp
import av
import numpy as np
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultCachedPhoto,
    ReplyParameters,
)
from aiohttp import web
from PIL import Image

from playground import (
    ALICE,
    BORIS,
    GROUP_ID,
    BotApiEmulator,
    EmulatorConfig,
    PlaygroundError,
    RateLimit,
)

Factory = Callable[..., Awaitable[tuple[BotApiEmulator, Bot]]]


def jpeg(width: int = 64, height: int = 48, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return out.getvalue()


def mp4(frames: int = 12, width: int = 64, height: int = 48, fps: int = 12) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            pixels = np.full((height, width, 3), index * 20 % 255, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode(None))
    return out.getvalue()


def gif(frames: int = 4) -> bytes:
    pictures = [Image.new("RGB", (40, 30), (i * 60, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:], duration=100)
    return out.getvalue()


@pytest.fixture
async def make() -> AsyncIterator[Factory]:
    """Start emulators on real ports, each with an aiogram Bot pointed at it."""
    started: list[tuple[BotApiEmulator, Bot]] = []

    async def factory(**config: Any) -> tuple[BotApiEmulator, Bot]:
        emulator = BotApiEmulator(EmulatorConfig(**config))
        url = await emulator.start()
        session = AiohttpSession(api=TelegramAPIServer.from_base(url))
        bot = Bot(emulator.token, session=session)
        started.append((emulator, bot))
        return emulator, bot

    yield factory
    for emulator, bot in started:
        await bot.session.close()
        await emulator.stop()


@pytest.fixture
async def pair(make: Factory) -> tuple[BotApiEmulator, Bot]:
    return await make()


async def test_get_me_through_aiogram(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    me = await bot.get_me()
    assert me.is_bot and me.username == "artisto_bot"
    assert me.id == bot.id == int(emulator.token.split(":")[0])
    assert me.supports_inline_queries and me.can_read_all_group_messages is False


async def test_user_photo_reaches_get_updates_as_a_parsed_update(
    pair: tuple[BotApiEmulator, Bot],
) -> None:
    emulator, bot = pair
    emulator.send_user_message(ALICE, ALICE, "make it art", photo=(jpeg(1000, 600), "cat.jpg"))
    updates = await bot.get_updates(timeout=1)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.photo is not None
    assert message.caption == "make it art"
    assert message.from_user is not None and message.from_user.language_code == "en"
    assert message.chat.type == "private" and message.chat.id == ALICE
    sides = [(size.width, size.height) for size in message.photo]
    assert sides == [(90, 54), (320, 192), (800, 480), (1000, 600)]
    assert len({size.file_unique_id for size in message.photo}) == 4


async def test_uploaded_photo_downloads_as_the_same_bytes(pair: tuple[BotApiEmulator, Bot]) -> None:
    _, bot = pair
    original = jpeg(120, 80, "blue")
    sent = await bot.send_photo(ALICE, BufferedInputFile(original, "result.jpg"), caption="done")
    assert sent.photo is not None and sent.caption == "done"
    file = await bot.get_file(sent.photo[-1].file_id)
    assert file.file_path is not None and file.file_size == len(original)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == original


async def test_resend_by_file_id_keeps_identity(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    first = await bot.send_photo(ALICE, BufferedInputFile(jpeg(), "a.jpg"))
    assert first.photo is not None
    again = await bot.send_photo(GROUP_ID, first.photo[-1].file_id)
    assert again.photo is not None
    assert again.photo[-1].file_id == first.photo[-1].file_id
    assert again.message_id == 1, "message ids count per chat"
    upload_twice = await bot.send_photo(ALICE, BufferedInputFile(jpeg(), "b.jpg"))
    assert upload_twice.photo is not None
    assert upload_twice.photo[-1].file_unique_id == first.photo[-1].file_unique_id
    assert upload_twice.photo[-1].file_id != first.photo[-1].file_id
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_video(ALICE, first.photo[-1].file_id)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(ALICE, "AgACnot-a-real-id")
    assert [m["message_id"] for m in emulator.chat_history(ALICE)] == [1, 2]


async def test_video_and_gif_get_telegram_metadata(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    video = await bot.send_video(ALICE, BufferedInputFile(mp4(), "clip.mp4"))
    assert video.video is not None
    assert (video.video.width, video.video.height, video.video.duration) == (64, 48, 1)
    assert video.video.thumbnail is not None and video.video.mime_type == "video/mp4"
    emulator.send_user_message(BORIS, BORIS, animation=(gif(), "funny.gif"))
    update = (await bot.get_updates(timeout=1))[0]
    assert update.message is not None and update.message.animation is not None
    animation = update.message.animation
    assert animation.mime_type == "video/mp4" and animation.file_name == "funny.mp4"
    assert (animation.width, animation.height) == (40, 30)
    assert update.message.document is not None
    assert update.message.document.file_id == animation.file_id
    note = await bot.send_video_note(ALICE, BufferedInputFile(mp4(width=48), "note.mp4"))
    assert note.video_note is not None and note.video_note.length == 48


async def test_edit_and_identical_edit(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Cancel", callback_data="cancel")]]
    )
    sent = await bot.send_message(ALICE, "Queued: 3 ahead of you", reply_markup=keyboard)
    edited = await bot.edit_message_text(
        "Stylizing… 40%", chat_id=ALICE, message_id=sent.message_id, reply_markup=keyboard
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Stylizing… 40%" and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Stylizing… 40%", chat_id=ALICE, message_id=sent.message_id, reply_markup=keyboard
        )
    # The same text without the keyboard is a change: Telegram removes the keyboard.
    await bot.edit_message_text("Stylizing… 40%", chat_id=ALICE, message_id=sent.message_id)
    assert "reply_markup" not in emulator.chat_history(ALICE)[0]
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=99)
    with pytest.raises(TelegramBadRequest, match="there is no caption"):
        await bot.edit_message_caption(chat_id=ALICE, message_id=sent.message_id, caption="x")


async def test_callback_data_is_limited_to_64_bytes(pair: tuple[BotApiEmulator, Bot]) -> None:
    _, bot = pair

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data=data)]]
        )

    await bot.send_message(ALICE, "ok", reply_markup=keyboard("x" * 64))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "too long", reply_markup=keyboard("x" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "bytes, not characters", reply_markup=keyboard("я" * 33))


async def test_text_over_4096_characters_is_refused(pair: tuple[BotApiEmulator, Bot]) -> None:
    _, bot = pair
    await bot.send_message(ALICE, "a" * 4096)
    await bot.send_message(ALICE, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ALICE, BufferedInputFile(jpeg(), "a.jpg"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ALICE, "<b>unclosed", parse_mode="HTML")


async def test_flood_gets_429_with_retry_after(make: Factory) -> None:
    emulator, bot = await make(rate_limit=RateLimit(messages=3, per_seconds=2.0))
    for index in range(3):
        await bot.send_message(ALICE, f"message {index}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE, "one too many")
    assert 1 <= caught.value.retry_after <= 2
    await bot.send_message(BORIS, "another chat has its own budget")
    url = f"{emulator.url}/bot{emulator.token}/sendMessage"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json={"chat_id": ALICE, "text": "raw"}) as response,
    ):
        body = await response.json()
    assert response.status == 429
    assert body["ok"] is False and body["error_code"] == 429
    assert body["description"].startswith("Too Many Requests: retry after ")
    assert body["parameters"]["retry_after"] >= 1


async def test_get_updates_offsets_and_long_polling(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    for text in ("one", "two", "three"):
        emulator.send_user_message(ALICE, ALICE, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    ids = [u.update_id for u in first]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:], "offset confirmed one"
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[2:]
    assert [u.update_id for u in await bot.get_updates()] == ids[2:], "-1 forgot the rest"
    assert await bot.get_updates(offset=ids[2] + 1, timeout=0) == []

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=ids[2] + 1, timeout=5))
    await asyncio.sleep(0.2)
    emulator.send_user_message(BORIS, BORIS, "wake up")
    woken = await poll
    assert [u.message.text for u in woken if u.message] == ["wake up"]
    assert time.monotonic() - started < 3


async def test_webhook_makes_get_updates_conflict_and_receives_posts(
    pair: tuple[BotApiEmulator, Bot],
) -> None:
    emulator, bot = pair
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), update))
        # A webhook may answer with a method call, which Telegram then runs.
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "Hello!"})

    hook_app = web.Application()
    hook_app.router.add_post("/hook", hook)
    runner = web.AppRunner(hook_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        emulator.send_user_message(ALICE, ALICE, "/start")
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.05)
        assert received and received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "/start"
        assert received[0][1]["message"]["entities"][0]["type"] == "bot_command"
        reply = await emulator.wait_for(lambda m: m.get("text") == "Hello!", timeout=2)
        assert reply["chat"]["id"] == ALICE
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == []
    finally:
        await runner.cleanup()


async def test_group_privacy_and_replies(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    photo = emulator.send_user_message(ALICE, GROUP_ID, photo=(jpeg(), "dog.jpg"))
    emulator.send_user_message(BORIS, GROUP_ID, "nice dog")
    emulator.send_user_message(ALICE, GROUP_ID, "/art@artisto_bot", reply_to=photo["message_id"])
    emulator.send_user_message(ALICE, GROUP_ID, "/art@other_bot")
    updates = await bot.get_updates()
    assert len(updates) == 1, "privacy mode: only the command addressed to the bot"
    message = updates[0].message
    assert message is not None and message.reply_to_message is not None
    assert message.reply_to_message.photo is not None
    reply = await bot.send_message(
        GROUP_ID, "Pick a style", reply_parameters=ReplyParameters(message_id=message.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == message.message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(GROUP_ID, "x", reply_parameters=ReplyParameters(message_id=999))
    await bot.send_message(
        GROUP_ID,
        "fine without",
        reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True),
    )
    with pytest.raises(PlaygroundError):
        emulator.send_user_message(BORIS, ALICE, "not my chat")


async def test_buttons_answers_and_wait_for(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="🎨 Mosaic", callback_data="st:1:mosaic")]]
    )
    menu = await bot.send_message(GROUP_ID, "Pick a style", reply_markup=keyboard)
    query_id = emulator.press_button(BORIS, GROUP_ID, menu.message_id, "st:1:mosaic")
    with pytest.raises(PlaygroundError):
        emulator.press_button(BORIS, GROUP_ID, menu.message_id, "st:1:other")
    update = (await bot.get_updates())[0]
    assert update.callback_query is not None and update.callback_query.id == query_id
    assert update.callback_query.data == "st:1:mosaic"
    await bot.answer_callback_query(query_id, "Reply /art yourself", show_alert=True)
    answer = await emulator.wait_for_callback_answer(query_id, timeout=1)
    assert answer["show_alert"] is True and answer["user_id"] == BORIS
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)

    since = emulator.cursor

    async def later() -> None:
        await asyncio.sleep(0.1)
        await bot.edit_message_text("Stylizing… 50%", chat_id=GROUP_ID, message_id=menu.message_id)

    task = asyncio.create_task(later())
    found = await emulator.wait_for(lambda m: "50%" in m.get("text", ""), timeout=3, since=since)
    await task
    assert found["message_id"] == menu.message_id and "edit_date" in found
    with pytest.raises(TimeoutError, match="Stylizing"):
        await emulator.wait_for(lambda m: "never" in m.get("text", ""), timeout=0.2)


async def test_inline_query_answer_and_choice(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    sent = await bot.send_photo(ALICE, BufferedInputFile(jpeg(), "result.jpg"))
    assert sent.photo is not None
    query_id = emulator.inline_query(ALICE, "mosaic", chat_id=GROUP_ID)
    update = (await bot.get_updates())[0]
    assert update.inline_query is not None and update.inline_query.query == "mosaic"
    assert update.inline_query.chat_type == "supergroup"
    result = InlineQueryResultCachedPhoto(
        id="r1", photo_file_id=sent.photo[-1].file_id, caption="Mosaic"
    )
    await bot.answer_inline_query(query_id, [result], cache_time=1)
    answer = await emulator.wait_for_inline_answer(query_id, timeout=1)
    assert [r["id"] for r in answer["results"]] == ["r1"]
    message = emulator.choose_inline_result(ALICE, GROUP_ID, query_id, "r1")
    assert message["via_bot"]["username"] == "artisto_bot" and message["caption"] == "Mosaic"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_inline_query(query_id, [result])


async def test_file_limits_and_commands(make: Factory) -> None:
    emulator, bot = await make(max_upload_bytes=4000, max_download_bytes=3000)
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_document(ALICE, BufferedInputFile(b"\0" * 5000, "big.bin"))
    sent = emulator.send_user_message(ALICE, ALICE, document=(b"\1" * 3500, "user.bin"))
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(sent["document"]["file_id"])

    english = [BotCommand(command="start", description="Start")]
    russian = [BotCommand(command="start", description="Начать")]
    await bot.set_my_commands(english, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(russian, scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert [c.description for c in got] == ["Начать"]
    assert await bot.get_my_commands() == []
    chat = emulator.state.world.chats[BORIS]
    assert emulator.state.commands_for(chat, BORIS, "ru")[0]["description"] == "Начать"
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_raw_http_shapes(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, _ = pair
    base = f"{emulator.url}/bot{emulator.token}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emulator.url}/bot1:wrong/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.get(f"{base}/noSuchMethod") as response:
            assert response.status == 404 and (await response.json())["error_code"] == 404
        async with http.get(f"{base}/sendMessage", params={"chat_id": "1001", "text": "q"}) as r:
            assert (await r.json())["result"]["text"] == "q"
        async with http.post(f"{base}/SENDMESSAGE", json={"chat_id": 1001, "text": "j"}) as r:
            assert (await r.json())["result"]["message_id"] == 2
        async with http.post(f"{base}/sendMessage", data={"chat_id": "5", "text": "x"}) as r:
            assert r.status == 400
            assert await r.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }


async def test_page_and_its_api(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    async with aiohttp.ClientSession(base_url=emulator.url) as http:
        async with http.get("/") as response:
            page = await response.text()
            assert response.status == 200 and "/static/app.js" in page
        async with http.get("/static/app.js") as response:
            assert response.status == 200 and "/ui/events" in await response.text()
        async with http.get("/static/app.css") as response:
            assert response.status == 200
        async with http.get("/ui/state") as response:
            state = await response.json()
        assert {p["first_name"] for p in state["people"]} == {"Alice", "Борис"}
        cursor = state["cursor"]

        form = aiohttp.FormData()
        form.add_field("user_id", str(BORIS))
        form.add_field("chat_id", str(BORIS))
        form.add_field("text", "как картина")
        form.add_field("file", jpeg(), filename="me.jpg", content_type="image/jpeg")
        async with http.post("/ui/send", data=form) as response:
            sent = (await response.json())["message"]
        assert sent["photo"] and sent["caption"] == "как картина"

        async with http.get("/ui/events", params={"after": cursor, "timeout": "1"}) as response:
            events = (await response.json())["events"]
        assert events[0]["type"] == "message" and events[0]["message"]["message_id"] == 1
        async with http.get(f"/ui/file/{sent['photo'][-1]['file_id']}") as response:
            assert await response.read() == jpeg()
        async with http.get(
            f"/ui/file/{sent['photo'][-1]['file_id']}", headers={"Range": "bytes=0-9"}
        ) as response:
            assert response.status == 206 and len(await response.read()) == 10

        bad = aiohttp.FormData({"user_id": str(ALICE), "chat_id": str(BORIS), "text": "hi"})
        async with http.post("/ui/send", data=bad) as response:
            assert response.status == 400 and "not in chat" in (await response.json())["error"]

    update = (await bot.get_updates())[0]
    assert update.message is not None and update.message.photo is not None


async def test_markup_is_parsed_like_telegram(pair: tuple[BotApiEmulator, Bot]) -> None:
    _, bot = pair
    sent = await bot.send_message(ALICE, "🎨 *Mosaic* by \\_Signac\\_", parse_mode="MarkdownV2")
    assert sent.text == "🎨 Mosaic by _Signac_"
    assert sent.entities is not None
    bold = sent.entities[0]
    assert (bold.type, bold.offset, bold.length) == ("bold", 3, 6), "offsets count UTF-16 units"
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(ALICE, "Done. 100%", parse_mode="MarkdownV2")
    html = await bot.send_message(ALICE, "  <i>a &lt; b</i>  ", parse_mode="HTML")
    assert html.text == "a < b" and html.entities is not None
    assert (html.entities[0].offset, html.entities[0].length) == (0, 5)
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div"'):
        await bot.send_message(ALICE, "<div>x</div>", parse_mode="HTML")


async def test_chat_actions_failures_and_blocking(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    since = emulator.cursor
    assert await bot.send_chat_action(ALICE, "upload_photo")
    assert emulator.state.events.after(since)[0]["action"] == "upload_photo"
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(ALICE, "dancing")

    emulator.fail_next("sendMessage", 502, "Bad Gateway")
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(ALICE, "lost")
    await bot.send_message(ALICE, "the retry goes through")
    emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(ALICE, "flood")

    emulator.block_bot(BORIS)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(BORIS, "hello?")
    update = (await bot.get_updates())[0]
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    emulator.block_bot(BORIS, blocked=False)
    await bot.send_message(BORIS, "welcome back")


async def test_more_people_and_a_slow_method(pair: tuple[BotApiEmulator, Bot]) -> None:
    """Load runs need many people; fault tests need a call that hangs for a while."""
    emulator, bot = pair
    emulator.add_user(5001, "Carol", "ru")
    with pytest.raises(PlaygroundError, match="taken"):
        emulator.add_user(ALICE, "Alice again")
    emulator.send_user_message(5001, 5001, "hi")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.from_user is not None
    assert (update.message.from_user.first_name, update.message.from_user.language_code) == (
        "Carol",
        "ru",
    )

    emulator.stall_next("sendMessage", 1.0)
    stalled = asyncio.create_task(bot.send_message(5001, "slow"))
    assert (await bot.send_chat_action(5001, "typing")) is True  # other methods answer at once
    assert not stalled.done()
    assert (await stalled).text == "slow"
    assert (await bot.send_message(5001, "fast")).text == "fast"  # once only
