"""The app as ``artisto run`` builds it without a token, for the end-to-end tests.

Nothing is injected: the settings name an extra styles folder, and the registry, the engine
and the pool are the ones ``ArtistoApp`` makes from them; the database is a SQLite file in the
test's folder; the bot reaches the emulator through ``bot.runner.playground_settings`` over
127.0.0.1 and receives updates by long polling, started the way the runner starts it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.app import AppOptions, ArtistoApp
from bot.config import InferenceSettings, LimitsSettings, Settings
from bot.runner import playground_settings
from playground import BotApiEmulator
from tests.bot_harness import BotHarness


def app_settings(data_dir: Path, styles_dir: Path | None, **limits: Any) -> Settings:
    """The user's settings for a small machine: the CPU, one thread, no warm-up."""
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        inference=InferenceSettings(
            device="cpu", cpu_threads=1, warmup=False, styles_dir=styles_dir, max_side=256
        ),
        limits=LimitsSettings(**limits),
    )


@contextlib.asynccontextmanager
async def playground(
    tmp_path: Path,
    styles_dir: Path | None,
    *,
    emulator: BotApiEmulator | None = None,
    start_worker: bool = True,
    **limits: Any,
) -> AsyncIterator[BotHarness]:
    """A started emulator (or the one given, to outlive a restart) and the real bot on it,
    polling, until the block ends; then a graceful stop, as on Ctrl+C."""
    own_emulator = emulator is None
    if emulator is None:
        emulator = BotApiEmulator()
        await emulator.start()
    settings = playground_settings(app_settings(tmp_path / "data", styles_dir, **limits), emulator)
    app = ArtistoApp(settings, options=AppOptions(start_worker=start_worker))
    harness = BotHarness(emulator, app)
    try:
        await app.start()
        if own_emulator:
            await app.forget_seen_updates()
        harness.polling = asyncio.create_task(
            app.run_polling(handle_signals=False, polling_timeout=1)
        )
        yield harness
    finally:
        await harness.stop_polling()
        await app.aclose()
        if own_emulator:
            await emulator.stop()


async def download(harness: BotHarness, file_id: str) -> bytes:
    """A file the bot sent, fetched over HTTP as any Bot API client would (getFile, then
    the file URL)."""
    bot = harness.app.bot
    file = await bot.get_file(file_id)
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None
    return data.read()
