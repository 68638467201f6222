"""The status board against the emulator: edits coalesced and spaced, the final word first."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.services.status import MessageRef, StatusBoard
from playground import ALICE, BotApiEmulator, EmulatorConfig, RateLimit


@pytest.fixture
async def pair() -> AsyncIterator[tuple[BotApiEmulator, Bot]]:
    # Telegram-like flood control: more than 3 edits a second in a chat is answered with 429.
    emulator = BotApiEmulator(EmulatorConfig(rate_limit=RateLimit(messages=3, per_seconds=1.0)))
    url = await emulator.start()
    bot = Bot(emulator.token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
    yield emulator, bot
    await bot.session.close()
    await emulator.stop()


def edits_of(emulator: BotApiEmulator, message_id: int) -> list[tuple[float, str]]:
    return [
        (e["time"], e["message"]["text"])
        for e in emulator.state.events.after(0)
        if e["type"] == "edit" and e["message"]["message_id"] == message_id
    ]


async def test_progress_edits_are_coalesced_and_spaced(pair: tuple[BotApiEmulator, Bot]) -> None:
    emulator, bot = pair
    sent = await bot.send_message(ALICE, "Queued")
    ref = MessageRef(ALICE, sent.message_id)
    board = StatusBoard(bot, min_interval=0.4)
    started = time.monotonic()
    for percent in range(0, 100, 2):  # 50 updates in about a second
        board.update(ref, f"Stylizing… {percent}%")
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)
    edits = edits_of(emulator, sent.message_id)
    assert edits[0][1] == "Stylizing… 0%", "the first update goes out at once"
    assert edits[-1][1] == "Stylizing… 98%", "the latest text wins"
    assert 2 <= len(edits) <= (time.monotonic() - started) / 0.4 + 1
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(edits)]
    assert min(gaps) >= 0.3

    board.update(ref, "Stylizing… 99%")
    assert await board.finish(ref, delete=True)
    await asyncio.sleep(0.5)
    assert edits_of(emulator, sent.message_id)[-1][1] == "Stylizing… 98%", "nothing after the end"
    assert sent.message_id not in [m["message_id"] for m in emulator.chat_history(ALICE)]


async def test_a_message_deleted_by_the_user_ends_its_edits(
    pair: tuple[BotApiEmulator, Bot],
) -> None:
    _, bot = pair
    sent = await bot.send_message(ALICE, "Queued")
    await bot.delete_message(ALICE, sent.message_id)
    board = StatusBoard(bot, min_interval=0.0)
    ref = MessageRef(ALICE, sent.message_id)
    board.update(ref, "Stylizing…")
    await asyncio.sleep(0.2)
    assert await board.finish(ref, "Sorry") is False, "the caller must send its apology anew"
    await board.aclose()
