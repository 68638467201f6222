"""``python -m tests.fleet.bot_role URL DATA_DIR``: the bot role, imported and run in a fresh
process against an emulator of its own: /styles shows the gallery, a photo gets the style
keyboard, a tap queues a job. Prints, as JSON, whether torch was ever imported.

Nothing here imports the test harness, which loads the engine (and so torch) itself."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import SecretStr

from bot.app import ArtistoApp
from bot.config import BotSettings, DbSettings, Settings
from bot.roles import Role
from playground import ALICE, BotApiEmulator


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "JPEG")
    return out.getvalue()


def style_button(message: dict[str, Any]) -> str:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return next(b["callback_data"] for row in rows for b in row if b["callback_data"][:3] == "st:")


async def run_bot_role(url: str, data_dir: Path) -> dict[str, Any]:
    emulator = BotApiEmulator()
    await emulator.start()
    assert emulator.url is not None
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        bot=BotSettings(token=SecretStr(emulator.token), api_base=emulator.url),
        db=DbSettings(url=SecretStr(url)),
    )
    app = ArtistoApp(settings, role=Role.BOT)
    try:
        await app.start()
        await app.forget_seen_updates()
        polling = asyncio.create_task(app.run_polling(handle_signals=False, polling_timeout=1))
        emulator.send_user_message(ALICE, ALICE, "/styles")
        gallery = await emulator.wait_for(lambda m: "photo" in m, 30)
        sent = emulator.send_user_message(ALICE, ALICE, photo=(photo(), "p.jpg"))
        keyboard = await emulator.wait_for(
            lambda m: (m.get("reply_to_message") or {}).get("message_id") == sent["message_id"],
            30,
        )
        emulator.press_button(ALICE, ALICE, keyboard["message_id"], style_button(keyboard))
        queued = await emulator.wait_for(
            lambda m: m["message_id"] == keyboard["message_id"] and "Queued" in m.get("text", ""),
            30,
        )
        await app.dispatcher.stop_polling()
        await polling
    finally:
        await app.aclose()
        await emulator.stop()
    return {
        "torch": "torch" in sys.modules,
        "gallery": bool(gallery["photo"]),
        "queued": queued["text"],
        "styles": len(app.registry),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run_bot_role(sys.argv[1], Path(sys.argv[2])))))
