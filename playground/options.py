"""What a playground emulates: the bot's identity, Telegram's limits and optional flood control.

The defaults are the public Bot API's numbers, so a bot that passes against the emulator
respects the limits it will meet on Telegram. A local ``telegram-bot-api`` server lifts the
file limits; set them higher here to emulate one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
INLINE_RESULTS_LIMIT = 50
INLINE_RESULT_ID_LIMIT = 64

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
"""Bundled photos and a clip for the page, so nobody needs a file at hand to try the bot."""


@dataclass(frozen=True)
class RateLimit:
    """At most ``messages`` sends and edits per chat within any ``per_seconds`` window.

    Telegram answers a flood with 429 and ``parameters.retry_after``; a bot must wait that long.
    """

    messages: int
    per_seconds: float


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that can differ between two playgrounds."""

    token: str = "7000000001:playground-token"
    bot_first_name: str = "Artisto"
    bot_username: str = "artisto_bot"
    group_title: str = "Artisto playground"
    privacy_mode: bool = True
    inline_feedback: bool = False
    max_download_bytes: int = 20 * MB
    max_upload_bytes: int = 50 * MB
    max_poll_timeout_s: float = 50.0
    rate_limit: RateLimit | None = None
    samples_dir: Path | None = SAMPLES_DIR
    webhook_retry_s: tuple[float, ...] = field(default=(0.5, 1.0, 2.0, 5.0, 10.0))

    @property
    def bot_id(self) -> int:
        """The id aiogram derives from the token: the digits before the colon."""
        return int(self.token.split(":", 1)[0])
