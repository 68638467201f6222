"""Simulated users of the load test: each sends a photo or a short clip, picks a style, and
waits for the painting; some tap twice, some cancel.

They act through the playground's emulator as a Telegram client would, and watch the bot's
answers through one ``Observer``, which reads the emulator's event feed once for all of them
(hundreds of users each scanning the feed would cost more than the bot does).
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import numpy as np
from PIL import Image

from playground import BotApiEmulator, PlaygroundError
from playground.options import SAMPLES_DIR

JsonDict = dict[str, Any]
SAMPLES = ("citrus.jpg", "eiffel-tower.jpg", "mariachi.jpg", "red-panda.jpg")


def photo(seed: int) -> bytes:
    """A 320x240 crop of a bundled sample photo, different for every seed (so no two users
    share a file, and the bot's result cache never answers)."""
    rng = random.Random(seed)
    with Image.open(SAMPLES_DIR / rng.choice(SAMPLES)) as image:
        source = image.convert("RGB")
    x = rng.randrange(max(1, source.width - 320))
    y = rng.randrange(max(1, source.height - 240))
    crop = source.crop((x, y, x + 320, y + 240))
    crop.putpixel((0, 0), (seed % 256, seed // 256 % 256, 7))
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=88)
    return out.getvalue()


def clip(seed: int, frames: int = 12) -> bytes:
    """A one-second 128x96 clip of moving bars."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for index in range(frames):
            pixels = np.zeros((96, 128, 3), np.uint8)
            pixels[:, (index * 8 + seed) % 128 :] = (200, 120, seed % 256)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode(None))
    return out.getvalue()


class Observer:
    """The emulator's feed read once: bot messages by chat, callback answers by query."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.bot_id = emulator.bot_user["id"]
        self.messages: dict[int, list[JsonDict]] = defaultdict(list)
        """Every bot message and edit per chat, with the event's time."""
        self.answers: dict[str, JsonDict] = {}
        self._seen = 0
        self._changed = asyncio.Event()

    async def run(self) -> None:
        events = self.emulator.state.events
        while True:
            for event in await events.wait_after(self._seen, 1.0):
                self._seen = event["seq"]
                if event["type"] in ("message", "edit"):
                    message = event["message"]
                    if message["from"]["id"] == self.bot_id:
                        self.messages[message["chat"]["id"]].append(
                            message | {"_time": event["time"], "_edit": event["type"] == "edit"}
                        )
                elif event["type"] == "callback_answer":
                    self.answers[event["callback_query_id"]] = event
            self._changed.set()
            self._changed = asyncio.Event()

    async def until(self, found: Any, wait_s: float) -> Any:
        """The first non-None value of ``found()``, re-checked as events arrive."""
        deadline = time.monotonic() + wait_s
        while (value := found()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), left)
            except TimeoutError:
                continue
        return value


def replies_to(message: JsonDict, original: JsonDict) -> bool:
    return (message.get("reply_to_message") or {}).get("message_id") == original["message_id"]


def buttons(message: JsonDict, prefix: str) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [
        b["callback_data"] for row in rows for b in row if b["callback_data"].startswith(prefix)
    ]


@dataclass
class User:
    """One simulated person and what happened to their request."""

    id: int
    video: bool = False
    double_tap: bool = False
    cancels: bool = False
    style: str = ""
    tapped_at: float | None = None
    answer: str | None = None
    second_answer: str | None = None
    cancel_answer: str | None = None
    media: JsonDict = field(default_factory=dict)
    keyboard: JsonDict = field(default_factory=dict)
    error: str | None = None


async def act(user: User, emulator: BotApiEmulator, observer: Observer) -> None:
    """Send, pick, maybe tap twice, maybe cancel. The outcome is read later from the feed and
    the database; here only what the user did, and the answers to their taps."""
    try:
        upload = (clip(user.id), "clip.mp4") if user.video else (photo(user.id), "photo.jpg")
        kind = "video" if user.video else "photo"
        user.media = emulator.send_user_message(user.id, user.id, **{kind: upload})

        def keyboard() -> JsonDict | None:
            for message in observer.messages[user.id]:
                if replies_to(message, user.media) and buttons(message, "st:"):
                    return message
            return None

        user.keyboard = await observer.until(keyboard, 120)
        (choice,) = [d for d in buttons(user.keyboard, "st:") if d.endswith(f":{user.style}")]
        user.tapped_at = time.time()
        first = emulator.press_button(user.id, user.id, user.keyboard["message_id"], choice)
        second = None
        if user.double_tap:
            second = emulator.press_button(user.id, user.id, user.keyboard["message_id"], choice)
        user.answer = await answered(observer, first)
        if second is not None:
            user.second_answer = await answered(observer, second)
        if user.cancels:
            await cancel(user, emulator, observer)
    except (TimeoutError, ValueError) as exc:
        user.error = repr(exc)


async def answered(observer: Observer, query_id: str) -> str:
    answer = await observer.until(lambda: observer.answers.get(query_id), 120)
    return str(answer.get("text") or "")


async def cancel(user: User, emulator: BotApiEmulator, observer: Observer) -> None:
    """Press cancel on the status message once it offers it, after a moment's thought."""

    def status() -> JsonDict | None:
        for message in reversed(observer.messages[user.id]):
            if message["message_id"] == user.keyboard["message_id"] and buttons(message, "cx:"):
                return message
        return None

    shown = await observer.until(status, 120)
    await asyncio.sleep(random.uniform(0.0, 2.0))
    (data,) = buttons(shown, "cx:")
    try:
        query = emulator.press_button(user.id, user.id, user.keyboard["message_id"], data)
    except PlaygroundError:  # the status message is gone already: the painting came first
        return
    user.cancel_answer = await answered(observer, query)
