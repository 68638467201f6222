"""Bot API request parameters, however they arrive.

Telegram accepts the same parameters in the query string, as a urlencoded form, as JSON, or
as multipart/form-data with files; aiogram sends forms, curl users send anything. Values from
forms are strings (objects JSON-encoded); from JSON bodies they are native. The getters below
hide the difference and turn malformed values into Telegram's 400 replies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from playground.errors import ApiError, bad_request

_TRUE = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    data: bytes
    filename: str
    content_type: str | None


class Params:
    """The parameters of one Bot API call."""

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, Upload]) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads)

    @classmethod
    async def read(cls, request: web.Request, max_upload: int) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        content_type = request.content_type
        if request.method == "POST" and request.can_read_body:
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON request body") from None
                if isinstance(body, dict):
                    values.update(body)
            elif content_type == "multipart/form-data":
                fields, uploads = await read_multipart(request, max_upload)
                values.update(fields)
            elif content_type == "application/x-www-form-urlencoded":
                values.update(await request.post())
        return cls(values, uploads)

    def has(self, name: str) -> bool:
        value = self._values.get(name)
        return value is not None and value != ""

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str, *, error: str | None = None) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(error or f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(error or f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in _TRUE
        return bool(value)

    def json(self, name: str, *, error: str) -> Any:
        """A structured value: JSON text in forms, native in JSON bodies."""
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file (directly or by ``attach://``), or a file_id / URL string."""
        if name in self._uploads:
            return self._uploads[name]
        value = self.text(name)
        if value is None or value == "":
            return None
        if value.startswith("attach://"):
            return self._uploads.get(value.removeprefix("attach://"))
        return value


def entity_too_large() -> ApiError:
    """Telegram's reply to a body over the upload limit (no ``Bad Request`` prefix)."""
    return ApiError(413, "Request Entity Too Large")


async def read_multipart(
    request: web.Request, max_upload: int
) -> tuple[dict[str, str], dict[str, Upload]]:
    """Plain fields and files; streamed, so an oversized file is refused before it is all read."""
    values: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is None:
            values[part.name] = await part.text()
            continue
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read_chunk(1 << 16):
            size += len(chunk)
            if size > max_upload:
                raise entity_too_large()
            chunks.append(chunk)
        content_type = part.headers.get("Content-Type")
        uploads[part.name] = Upload(b"".join(chunks), part.filename, content_type)
    return values, uploads
