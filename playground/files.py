"""Stored files and their identifiers, with Telegram's identity rules.

Telegram gives every upload a new ``file_id`` (usable to send the file again) and a
``file_unique_id`` that is the same for the same content everywhere. A bot's cache must key
on the unique id and send by file id; keeping the two distinct here makes a bot that confuses
them fail in tests. Content is kept once per unique id, in memory.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import secrets
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from playground.errors import bad_request
from playground.probe import Picture, Prepared

JsonDict = dict[str, Any]

_ID_PREFIX = {
    "photo": "AgAC",
    "video": "BAAC",
    "document": "BQAC",
    "animation": "CgAC",
    "video_note": "DQAC",
    "thumbnail": "AAMC",
}
_FOLDER = {
    "photo": "photos",
    "video": "videos",
    "document": "documents",
    "animation": "animations",
    "video_note": "video_notes",
    "thumbnail": "thumbnails",
}
# A file of one kind may be sent again as these kinds (Telegram keeps animations as documents).
_SENDABLE_AS: dict[str, frozenset[str]] = {
    "photo": frozenset({"photo"}),
    "video": frozenset({"video"}),
    "animation": frozenset({"animation", "document"}),
    "document": frozenset({"document"}),
    "video_note": frozenset({"video_note"}),
    "thumbnail": frozenset(),
}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    file_size: int
    file_path: str
    mime_type: str
    media: Any = None  # the message field this file was sent as (a PhotoSize list for photos)

    def as_file(self) -> JsonDict:
        """The ``File`` object getFile returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._blobs: dict[str, bytes] = {}
        self._counter = 0

    def add(self, prepared: Prepared) -> Any:
        """Store an upload; returns the message field: a PhotoSize list or a media object."""
        if prepared.kind == "photo":
            sizes = [self._photo_size(picture) for picture in prepared.sizes]
            for size in sizes:
                self._by_id[size["file_id"]].media = sizes
            return sizes
        stored = self._store(prepared.data, prepared.kind, prepared.file_name, prepared.mime_type)
        media: JsonDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if prepared.kind == "video_note":
            media |= {"length": prepared.width, "duration": prepared.duration}
        elif prepared.kind in ("video", "animation"):
            media |= {
                "width": prepared.width,
                "height": prepared.height,
                "duration": prepared.duration,
            }
        if prepared.thumbnail is not None:
            media["thumbnail"] = self._photo_size(prepared.thumbnail, kind="thumbnail")
        if prepared.file_name is not None:
            media["file_name"] = prepared.file_name
        if prepared.mime_type is not None:
            media["mime_type"] = prepared.mime_type
        media["file_size"] = stored.file_size
        stored.media = media
        return media

    def resend(self, file_id: str, kind: str) -> Any:
        """The message field for sending an existing file again as ``kind``."""
        stored = self._by_id.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if kind not in _SENDABLE_AS[stored.kind]:
            raise bad_request("type of file mismatch")
        if stored.kind == kind:
            return stored.media
        dropped = ("width", "height", "duration")
        return {key: value for key, value in stored.media.items() if key not in dropped}

    def get(self, file_id: str) -> StoredFile:
        stored = self._by_id.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return stored

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def content(self, stored: StoredFile) -> bytes:
        return self._blobs[stored.file_unique_id]

    def _photo_size(self, picture: Picture, kind: str = "photo") -> JsonDict:
        stored = self._store(picture.data, kind, "photo.jpg", None)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "width": picture.width,
            "height": picture.height,
        }

    def _store(self, data: bytes, kind: str, name: str | None, mime: str | None) -> StoredFile:
        unique_id = _unique_id(data)
        self._blobs.setdefault(unique_id, data)
        self._counter += 1
        suffix = PurePath(name or "").suffix.lower() or ".bin"
        file_path = f"{_FOLDER[kind]}/file_{self._counter}{suffix}"
        stored = StoredFile(
            file_id=_ID_PREFIX[kind] + secrets.token_urlsafe(36),
            file_unique_id=unique_id,
            kind=kind,
            file_size=len(data),
            file_path=file_path,
            mime_type=mime or mimetypes.guess_type(file_path)[0] or "application/octet-stream",
        )
        self._by_id[stored.file_id] = stored
        self._by_path[file_path] = stored
        return stored


def _unique_id(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()[:12]
    return "AQAD" + base64.urlsafe_b64encode(digest).decode().rstrip("=")
