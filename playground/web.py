"""The web chat page and its small JSON API under ``/ui/``.

The page is plain HTML, CSS and JavaScript from ``static/``. It reads the chats, long-polls
``/ui/events`` for new messages, edits and answers, and acts as one of the two people:
sending text and files, pressing buttons, typing inline queries.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from playground import users
from playground.errors import ApiError, PlaygroundError
from playground.params import Upload, read_multipart
from playground.probe import MEDIA_KINDS, guess_kind
from playground.state import State

JsonDict = dict[str, Any]
UiHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATIC_DIR = Path(__file__).parent / "static"
MAX_USER_UPLOAD = 100 * 1024 * 1024  # clients may send far more than a bot may download
EVENTS_WAIT_S = 25.0
_SAMPLE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".mp4", ".mov", ".webm"})
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class WebUi:
    def __init__(self, state: State) -> None:
        self.state = state

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_static("/static/", STATIC_DIR)
        routes: dict[str, tuple[str, UiHandler]] = {
            "state": ("GET", self.overview),
            "history": ("GET", self.history),
            "events": ("GET", self.events),
            "commands": ("GET", self.commands),
            "send": ("POST", self.send),
            "press": ("POST", self.press),
            "inline": ("POST", self.inline),
            "choose": ("POST", self.choose),
        }
        for name, (method, handler) in routes.items():
            app.router.add_route(method, f"/ui/{name}", _guarded(handler))
        app.router.add_get("/ui/file/{file_id}", self.file)
        app.router.add_get("/ui/samples/{name}", self.sample)

    async def index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    async def overview(self, request: web.Request) -> web.Response:
        world = self.state.world
        return web.json_response(
            {
                "bot": world.bot_user,
                "people": [person.as_user() for person in world.people.values()],
                "chats": [
                    {**chat.as_chat(), "member_ids": list(chat.member_ids)}
                    for chat in world.chats.values()
                ],
                "samples": self.samples(),
                "privacy_mode": self.state.config.privacy_mode,
                "cursor": self.state.events.cursor,
            }
        )

    async def history(self, request: web.Request) -> web.Response:
        chat = self.state.world.chats.get(_int(request.query, "chat_id"))
        if chat is None:
            raise PlaygroundError("no such chat")
        messages = [
            {"message": message, "hidden_from_bot": message_id in chat.hidden_from_bot}
            for message_id, message in chat.messages.items()
        ]
        return web.json_response({"messages": messages, "cursor": self.state.events.cursor})

    async def events(self, request: web.Request) -> web.Response:
        after = _int(request.query, "after")
        if after > self.state.events.cursor:
            # The page saw another run of the emulator: it must start over.
            return web.json_response({"events": [], "cursor": 0, "reset": True})
        wait_s = min(float(request.query.get("timeout", EVENTS_WAIT_S)), EVENTS_WAIT_S)
        found = await self.state.events.wait_after(after, wait_s)
        cursor = found[-1]["seq"] if found else max(after, 0)
        return web.json_response({"events": found, "cursor": cursor})

    async def commands(self, request: web.Request) -> web.Response:
        user_id = _int(request.query, "user_id")
        chat = self.state.world.chat_of(user_id, _int(request.query, "chat_id"))
        language = self.state.world.person(user_id).language_code
        return web.json_response({"commands": self.state.commands_for(chat, user_id, language)})

    async def send(self, request: web.Request) -> web.Response:
        if request.content_type == "multipart/form-data":
            fields, uploads = await read_multipart(request, MAX_USER_UPLOAD)
        else:
            fields, uploads = {k: str(v) for k, v in (await request.post()).items()}, {}
        upload = uploads.get("file") or self._sample_upload(fields.get("sample"))
        media = None
        if upload is not None:
            kind = fields.get("kind") or "auto"
            if kind == "auto":
                kind = guess_kind(upload.filename, upload.content_type)
            if kind not in MEDIA_KINDS:
                raise PlaygroundError(f"unknown kind of media: {kind}")
            media = await asyncio.to_thread(
                users.prepare_upload, kind, (upload.data, upload.filename)
            )
        reply_to = int(fields["reply_to"]) if fields.get("reply_to") else None
        message = users.post_user_message(
            self.state,
            _int(fields, "user_id"),
            _int(fields, "chat_id"),
            fields.get("text"),
            media,
            reply_to,
        )
        return web.json_response({"message": message})

    async def press(self, request: web.Request) -> web.Response:
        body = await _json(request)
        query_id = users.press_button(
            self.state,
            _int(body, "user_id"),
            _int(body, "chat_id"),
            _int(body, "message_id"),
            str(body.get("data", "")),
        )
        return web.json_response({"callback_query_id": query_id})

    async def inline(self, request: web.Request) -> web.Response:
        body = await _json(request)
        chat_id = _int(body, "chat_id") if body.get("chat_id") is not None else None
        query_id = users.inline_query(
            self.state, _int(body, "user_id"), str(body.get("query", "")), chat_id
        )
        return web.json_response({"inline_query_id": query_id})

    async def choose(self, request: web.Request) -> web.Response:
        body = await _json(request)
        message = users.choose_inline_result(
            self.state,
            _int(body, "user_id"),
            _int(body, "chat_id"),
            str(body.get("inline_query_id", "")),
            str(body.get("result_id", "")),
        )
        return web.json_response({"message": message})

    async def file(self, request: web.Request) -> web.Response:
        try:
            stored = self.state.files.get(request.match_info["file_id"])
        except ApiError:
            raise web.HTTPNotFound() from None
        return _bytes(request, self.state.files.content(stored), stored.mime_type)

    async def sample(self, request: web.Request) -> web.StreamResponse:
        path = self._sample_path(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    # --- samples ------------------------------------------------------------------------

    def samples(self) -> list[JsonDict]:
        folder = self.state.config.samples_dir
        if folder is None or not folder.is_dir():
            return []
        return [
            {"name": path.name, "kind": guess_kind(path.name), "size": path.stat().st_size}
            for path in sorted(folder.iterdir())
            if path.is_file() and path.suffix.lower() in _SAMPLE_SUFFIXES
        ]

    def _sample_path(self, name: str) -> Path | None:
        """Only a listed sample: a name from the page never reaches the file system as is."""
        folder = self.state.config.samples_dir
        if folder is None or name not in {sample["name"] for sample in self.samples()}:
            return None
        return folder / name

    def _sample_upload(self, name: str | None) -> Upload | None:
        if not name:
            return None
        path = self._sample_path(name)
        if path is None:
            raise PlaygroundError(f"no sample named {name!r}")
        return Upload(path.read_bytes(), path.name, None)


def _guarded(handler: UiHandler) -> UiHandler:
    """A refused action becomes 400 with a message the page shows, never a 500."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except PlaygroundError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except ApiError as exc:
            return web.json_response({"error": exc.description}, status=exc.error_code)

    return guarded


async def _json(request: web.Request) -> JsonDict:
    try:
        body = await request.json()
    except ValueError:
        raise PlaygroundError("the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise PlaygroundError("the request body must be a JSON object")
    return body


def _int(source: Any, name: str) -> int:
    try:
        return int(source[name])
    except (KeyError, TypeError, ValueError):
        raise PlaygroundError(f"{name} must be a whole number") from None


def _bytes(request: web.Request, data: bytes, content_type: str) -> web.Response:
    """Serve bytes with single-range support: browsers seek in videos with Range requests."""
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
    match = _RANGE.match(request.headers.get("Range", ""))
    if match is None or not data:
        return web.Response(body=data, content_type=content_type, headers=headers)
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
    else:
        start, end = max(len(data) - int(last or 0), 0), len(data) - 1
    if start > end:
        headers["Content-Range"] = f"bytes */{len(data)}"
        return web.Response(status=416, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return web.Response(
        status=206, body=data[start : end + 1], content_type=content_type, headers=headers
    )
