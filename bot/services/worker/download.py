"""The user's file from Telegram, refused past the download limit: the size Telegram
reports for the file itself, since the message's metadata the intake checked may lie."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot.db import Media
from bot.services.errors import DownloadFailed, FileTooLarge
from bot.services.intake import IntakeLimits


async def download(bot: Bot, media: Media, dest: Path, limits: IntakeLimits) -> Path:
    """``media``'s file at ``dest``; raises ``FileTooLarge`` or ``DownloadFailed``."""
    try:
        file = await bot.get_file(media.file_id)
        if file.file_size is not None and file.file_size > limits.max_bytes:
            raise FileTooLarge(limits.max_mb)
        if file.file_path is None:
            raise DownloadFailed("Telegram gave no path for the file")
        await bot.download_file(file.file_path, destination=dest)
    except TelegramBadRequest as exc:
        if "too big" in exc.message:
            raise FileTooLarge(limits.max_mb) from None
        raise DownloadFailed(exc.message) from exc
    except (TelegramAPIError, aiohttp.ClientError, OSError) as exc:
        raise DownloadFailed(str(exc)) from exc
    return dest
