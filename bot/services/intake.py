"""Media intake: what a message offers to paint, whether it is within the limits, and its row.

The limits are checked on the metadata Telegram sends with the message, before anything is
downloaded, so a refusal is instant and names the limit. The pipelines check again on the real
bytes (metadata can lie).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LOCAL_SERVER_MAX_MB, Settings
from bot.db import MediaKind, Repos
from bot.services.errors import FileTooLarge, TooManyPixels, VideoTooLong, WrongFileType

MB = 1024 * 1024

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/x-matroska"})

VIDEO_KINDS = frozenset(
    {MediaKind.VIDEO, MediaKind.ANIMATION, MediaKind.VIDEO_NOTE, MediaKind.VIDEO_DOCUMENT}
)


@dataclass(frozen=True)
class IncomingMedia:
    """The paintable file of a message, as Telegram describes it."""

    kind: MediaKind
    file_id: str
    file_unique_id: str
    mime_type: str | None = None
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    duration_s: int | None = None


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int
    max_mb: int
    max_video_s: float
    max_note_s: float
    max_megapixels: float

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeLimits:
        limits = settings.limits
        max_mb = LOCAL_SERVER_MAX_MB if settings.bot.api_local_mode else limits.max_download_mb
        return cls(
            max_bytes=max_mb * MB,
            max_mb=max_mb,
            max_video_s=limits.max_video_seconds,
            max_note_s=limits.max_video_note_seconds,
            max_megapixels=limits.max_megapixels,
        )


def media_of(message: Message) -> IncomingMedia | None:
    """The message's paintable media; None when it has none at all (text, sticker, voice...).

    Raises ``WrongFileType`` for a document that is neither a supported image nor a video.
    An animation comes before the document Telegram attaches to it as well.
    """
    if message.photo:
        size = message.photo[-1]
        return IncomingMedia(
            MediaKind.PHOTO,
            size.file_id,
            size.file_unique_id,
            "image/jpeg",
            size.file_size,
            size.width,
            size.height,
        )
    if message.animation:
        a = message.animation
        return IncomingMedia(
            MediaKind.ANIMATION,
            a.file_id,
            a.file_unique_id,
            a.mime_type,
            a.file_size,
            a.width,
            a.height,
            a.duration,
        )
    if message.video:
        v = message.video
        return IncomingMedia(
            MediaKind.VIDEO,
            v.file_id,
            v.file_unique_id,
            v.mime_type,
            v.file_size,
            v.width,
            v.height,
            v.duration,
        )
    if message.video_note:
        n = message.video_note
        return IncomingMedia(
            MediaKind.VIDEO_NOTE,
            n.file_id,
            n.file_unique_id,
            "video/mp4",
            n.file_size,
            n.length,
            n.length,
            n.duration,
        )
    if message.document:
        d = message.document
        mime = (d.mime_type or "").lower()
        if mime in IMAGE_TYPES:
            kind = MediaKind.IMAGE_DOCUMENT
        elif mime in VIDEO_TYPES:
            kind = MediaKind.VIDEO_DOCUMENT
        else:
            raise WrongFileType(_describe_type(d.file_name, mime))
        return IncomingMedia(kind, d.file_id, d.file_unique_id, mime, d.file_size)
    return None


def _describe_type(file_name: str | None, mime: str) -> str:
    """``PDF``, ``ZIP``...: the extension people know, else the MIME subtype."""
    suffix = PurePath(file_name or "").suffix.lstrip(".")
    if suffix:
        return suffix.upper()
    if "/" in mime:
        return mime.split("/", 1)[1].upper()
    return "these"


def check_limits(media: IncomingMedia, limits: IntakeLimits) -> None:
    """Raise the refusal that applies, if any."""
    if media.size_bytes is not None and media.size_bytes > limits.max_bytes:
        raise FileTooLarge(limits.max_mb)
    if media.kind in VIDEO_KINDS and media.duration_s is not None:
        limit = limits.max_note_s if media.kind == MediaKind.VIDEO_NOTE else limits.max_video_s
        if media.duration_s > limit:
            raise VideoTooLong(int(limit))
    if (
        media.kind not in VIDEO_KINDS
        and media.width is not None
        and media.height is not None
        and media.width * media.height > limits.max_megapixels * 1e6
    ):
        raise TooManyPixels(limits.max_megapixels)


class IntakeService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], limits: IntakeLimits) -> None:
        self.sessions = sessions
        self.limits = limits

    async def accept(self, message: Message) -> int | None:
        """Check ``message``'s media and store it; returns the media id, or None when the
        message has nothing to paint. Raises a ``Refusal`` when it breaks a limit.

        Idempotent per message: the same message gives the same id.
        """
        media = media_of(message)
        if media is None:
            return None
        check_limits(media, self.limits)
        async with self.sessions.begin() as session:
            row = await Repos(session).media.add(
                chat_id=message.chat.id,
                message_id=message.message_id,
                kind=media.kind,
                file_id=media.file_id,
                file_unique_id=media.file_unique_id,
                mime_type=media.mime_type,
                size_bytes=media.size_bytes,
                width=media.width,
                height=media.height,
                duration_s=media.duration_s,
            )
            return row.id
