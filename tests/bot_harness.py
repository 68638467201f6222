"""The real bot against the playground's Bot API emulator over 127.0.0.1, for tests.

Everything is real except Telegram: the aiogram Bot talks HTTP to the emulator, updates
arrive by long polling, the database is the test's (SQLite or PostgreSQL), and the inference
pool runs the real engine on tiny generated style packs.

    async with running_bot(db_url, tmp_path) as h:
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(), "cat.jpg"))
        keyboard = await h.keyboard_under(photo)
        h.press(ALICE, keyboard, "st:...")
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np
from PIL import Image
from pydantic import SecretStr
from sqlalchemy import func, inspect, select

from bot.app import AppOptions, ArtistoApp
from bot.config import BotSettings, DbSettings, InferenceSettings, LimitsSettings, Settings
from bot.db import Base
from bot.middlewares.retry import RetryPolicy
from bot.roles import Role
from bot.services.worker.loop import WorkerConfig
from inference.engine import Engine
from inference.frames import Frames
from inference.pool_engine import BatchEngine
from inference.registry import StyleRegistry
from playground import BotApiEmulator, EmulatorConfig
from tests.fixtures_packs import make_tiny_pack

JsonDict = dict[str, Any]
M = TypeVar("M", bound=Base)

STYLES = ("ember", "frost")
"""Two tiny packs: titles "Ember" and "Frost", artist "Test Painter"."""


def jpeg(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A small photo with some structure (so the generator has something to change)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def mp4(frames: int = 8, width: int = 48, height: int = 32, fps: int = 8) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            pixels = np.full((height, width, 3), index * 25 % 255, dtype=np.uint8)
            pixels[:, : width // 2] = 200
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode(None))
    return out.getvalue()


def noisy_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 * side**2 bytes."""
    pixels = np.random.default_rng(1).integers(0, 255, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=0)
    return out.getvalue()


def sqlite_url(tmp_path: Path) -> str:
    """A new SQLite database, for flows whose database work the tests that take ``db_url``
    (SQLite and PostgreSQL) already cover."""
    return f"sqlite+aiosqlite:///{tmp_path / 'artisto.db'}"


def make_registry(folder: Path) -> StyleRegistry:
    packs = [make_tiny_pack(folder, name, seed=i) for i, name in enumerate(STYLES)]
    return StyleRegistry(packs)


def tiny_engine(registry: StyleRegistry) -> Engine:
    return Engine(registry, device="cpu", backend="eager", cpu_threads=1)


class GatedEngine:
    """The real engine, whose every batch first waits for ``gate``."""

    def __init__(self, engine: Engine, gate: threading.Event) -> None:
        self.engine = engine
        self.gate = gate

    def stylize_batch(self, style: str, frames: Frames, /) -> Frames:
        if not self.gate.wait(timeout=60):
            raise TimeoutError("the test never opened the gate")
        return self.engine.stylize_batch(style, frames)

    def begin_warmup(self, styles: Iterable[str] | None, /) -> list[str]:
        return self.engine.begin_warmup(styles)

    def warm(self, style: str, /) -> None:
        self.engine.warm(style)


def gated(registry: StyleRegistry, gate: threading.Event) -> Callable[[], GatedEngine]:
    return lambda: GatedEngine(tiny_engine(registry), gate)


@contextlib.asynccontextmanager
async def opened_at_exit(gate: threading.Event) -> AsyncIterator[None]:
    """Open the gate before the bot shuts down, so the pool's thread can end."""
    try:
        yield
    finally:
        gate.set()


async def until(condition: Callable[[], bool], wait_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + wait_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def stylizing(message_id: int) -> Callable[[dict[str, object]], bool]:
    def check(m: dict[str, object]) -> bool:
        text = m.get("text")
        return m["message_id"] == message_id and isinstance(text, str) and "Stylizing" in text

    return check


def callback_data(message: JsonDict) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def data_with(message: JsonDict, prefix: str) -> str:
    """The callback data of the message's button whose data starts with ``prefix``."""
    found = [d for d in callback_data(message) if d.startswith(prefix)]
    assert found, f"no {prefix!r} button in {callback_data(message)}"
    return found[0]


def buttons(message: JsonDict) -> list[list[JsonDict]]:
    return list(message.get("reply_markup", {}).get("inline_keyboard", []))


def replies_to(message: JsonDict) -> Callable[[JsonDict], bool]:
    def check(candidate: JsonDict) -> bool:
        replied = candidate.get("reply_to_message") or {}
        return bool(
            candidate["chat"]["id"] == message["chat"]["id"]
            and replied.get("message_id") == message["message_id"]
        )

    return check


@dataclass
class BotHarness:
    emulator: BotApiEmulator
    app: ArtistoApp
    polling: asyncio.Task[None] | None = None
    seen_answers: set[str] = field(default_factory=set)

    @property
    def sessions(self) -> Any:
        return self.app.sessions

    async def keyboard_under(
        self, message: JsonDict, wait_s: float = 10.0, *, since: int = 0
    ) -> JsonDict:
        """The bot's style keyboard sent in reply to ``message`` (after ``since``)."""
        return await self.emulator.wait_for(
            lambda m: replies_to(message)(m) and any(d.startswith("st:") for d in callback_data(m)),
            wait_s,
            since=since,
        )

    def press(self, user_id: int, message: JsonDict, data: str, *, forged: bool = False) -> str:
        return self.emulator.press_button(
            user_id, message["chat"]["id"], message["message_id"], data, forged=forged
        )

    def style_button(self, keyboard: JsonDict, style: str) -> str:
        found = [
            d for d in callback_data(keyboard) if d.startswith("st:") and d.endswith(f":{style}")
        ]
        assert found, f"no {style} button in {callback_data(keyboard)}"
        return found[0]

    async def answer(self, query_id: str, wait_s: float = 10.0) -> JsonDict:
        return await self.emulator.wait_for_callback_answer(query_id, wait_s)

    async def result_for(
        self, original: JsonDict, kind: str = "photo", wait_s: float = 30.0
    ) -> JsonDict:
        return await self.emulator.wait_for(lambda m: replies_to(original)(m) and kind in m, wait_s)

    async def rows(self, model: type[M], *where: Any) -> list[M]:
        async with self.app.sessions() as session:
            # By key: PostgreSQL returns updated rows in no particular order otherwise.
            stmt = select(model).where(*where).order_by(*inspect(model).primary_key)
            return list((await session.scalars(stmt)).all())

    async def count(self, model: type[Base]) -> int:
        async with self.app.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def deleted(self, chat_id: int, message_id: int, wait_s: float = 10.0) -> None:
        """Wait until the bot deleted the message."""
        await self.emulator.state.events.wait_until(
            lambda e: (
                e["type"] == "delete" and e["chat_id"] == chat_id and e["message_id"] == message_id
            ),
            wait_s,
            0,
        )

    def history_ids(self, chat_id: int) -> list[int]:
        return [m["message_id"] for m in self.emulator.chat_history(chat_id)]

    async def stop_polling(self) -> None:
        if self.polling is not None:
            await self.app.dispatcher.stop_polling()
            await self.polling
            self.polling = None

    async def feed_pending(self) -> list[JsonDict]:
        """Without polling: fetch what the emulator has queued and feed each update through
        the dispatcher, returning the raw updates (to feed again)."""
        updates = await self.app.bot.get_updates(timeout=1)
        raw = [u.model_dump(mode="json", exclude_none=True) for u in updates]
        for update in updates:
            await self.app.dispatcher.feed_update(self.app.bot, update)
        if updates:
            await self.app.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        return raw


def harness_settings(
    db_url: str,
    data_dir: Path,
    emulator: BotApiEmulator,
    admins: tuple[int, ...] = (),
    *,
    bot: JsonDict | None = None,
    inference: JsonDict | None = None,
    **limits: Any,
) -> Settings:
    """Settings for the bot against ``emulator``; ``bot`` and ``inference`` override fields
    of those sections."""
    assert emulator.url is not None
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        bot=BotSettings(
            token=SecretStr(emulator.token),
            api_base=emulator.url,
            admins=list(admins),
            **(bot or {}),
        ),
        db=DbSettings(url=SecretStr(db_url)),
        inference=InferenceSettings(
            **{"device": "cpu", "cpu_threads": 1, "warmup": False, "max_wait_ms": 0}
            | (inference or {})
        ),
        limits=LimitsSettings(**limits),
    )


@contextlib.asynccontextmanager
async def running_bot(
    db_url: str,
    tmp_path: Path,
    *,
    emulator: BotApiEmulator | None = None,
    registry: StyleRegistry | None = None,
    polling: bool = True,
    start_worker: bool = True,
    emulator_config: EmulatorConfig | None = None,
    status_interval_s: float = 0.3,
    admins: tuple[int, ...] = (),
    shutdown_grace_s: float = 2.0,
    busy_retry_s: float = 0.3,
    bot: JsonDict | None = None,
    inference: JsonDict | None = None,
    engine_factory: Callable[[], BatchEngine] | None = None,
    role: Role = Role.ALL,
    lease_s: float = 30.0,
    worker_concurrency: int = 2,
    warmed: bool = True,
    **limits: Any,
) -> AsyncIterator[BotHarness]:
    """Start (or reuse) an emulator and run the real bot against it until the block ends.

    ``bot`` and ``inference`` override settings; ``engine_factory`` replaces the real engine
    on the tiny packs (to wrap it, say); ``role`` runs one part of the fleet (on PostgreSQL),
    a worker without polling. ``warmed`` waits for the pool's warm-up (so that one thread
    serves, as in a steady state) before the block begins."""
    own_emulator = emulator is None
    if emulator is None:
        emulator = BotApiEmulator(emulator_config)
        await emulator.start()
    registry = registry or make_registry(tmp_path / "packs")
    settings = harness_settings(
        db_url, tmp_path / "data", emulator, admins, bot=bot, inference=inference, **limits
    )
    app = ArtistoApp(
        settings,
        role=role,
        registry=registry,
        engine_factory=engine_factory or (lambda: tiny_engine(registry)),
        options=AppOptions(
            status_interval_s=status_interval_s,
            worker=WorkerConfig(
                concurrency=worker_concurrency,
                poll_interval_s=0.5,
                lease_s=lease_s,
                shutdown_grace_s=shutdown_grace_s,
                busy_retry_s=busy_retry_s,
            ),
            retry=RetryPolicy(base_delay_s=0.05),
            start_worker=start_worker,
        ),
    )
    harness = BotHarness(emulator, app)
    try:
        await app.start()
        if warmed and app.pool is not None:
            await app.pool.warmed()
        if own_emulator:  # as `artisto run` does for a new playground
            await app.forget_seen_updates()
        if polling and role.receives_updates:
            harness.polling = asyncio.create_task(
                app.run_polling(handle_signals=False, polling_timeout=1)
            )
        yield harness
    finally:
        await harness.stop_polling()
        await app.aclose()
        if own_emulator:
            await emulator.stop()
