"""Sending photos, videos, animations, video notes and documents; getFile."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from playground.errors import bad_request
from playground.methods.common import (
    Handler,
    inline_keyboard,
    message_text,
    reply_target,
    target_chat,
    text_fields,
)
from playground.options import CAPTION_LIMIT
from playground.params import Params, Upload
from playground.probe import MediaError, MediaKind, prepare
from playground.state import State

JsonDict = dict[str, Any]


async def _send_media(kind: MediaKind, state: State, params: Params) -> JsonDict:
    chat = target_chat(state, params)
    source = params.file(kind)
    if source is None:
        raise bad_request(f"there is no {kind} in the request")
    content: JsonDict = {}
    if kind != "video_note":
        caption = message_text(
            params,
            "caption",
            limit=CAPTION_LIMIT,
            too_long="message caption is too long",
            empty=None,
        )
        content |= {k: v for k, v in text_fields(caption, "caption").items() if v is not None}
    markup = inline_keyboard(params)
    reply_to = reply_target(state, chat, params)
    state.limiter.check(chat.id)
    content[kind] = await _media_field(state, kind, source)
    if kind == "animation":
        dropped = ("width", "height", "duration")
        content["document"] = {k: v for k, v in content[kind].items() if k not in dropped}
    if markup:
        content["reply_markup"] = markup
    return state.bot_says(chat, content, reply_to)


async def _media_field(state: State, kind: MediaKind, source: Upload | str) -> Any:
    if isinstance(source, str):
        if source.startswith(("http://", "https://")):
            raise bad_request("wrong file identifier/HTTP URL specified")
        return state.files.resend(source, kind)
    try:
        prepared = await asyncio.to_thread(prepare, kind, source.data, source.filename)
    except MediaError as exc:
        raise bad_request(str(exc)) from None
    return state.files.add(prepared)


async def get_file(state: State, params: Params) -> JsonDict:
    file_id = params.text("file_id")
    if not file_id:
        raise bad_request("file_id is empty")
    stored = state.files.get(file_id)
    if stored.file_size > state.config.max_download_bytes:
        raise bad_request("file is too big")
    return stored.as_file()


METHODS: dict[str, Handler] = {
    "sendPhoto": partial(_send_media, "photo"),
    "sendVideo": partial(_send_media, "video"),
    "sendAnimation": partial(_send_media, "animation"),
    "sendVideoNote": partial(_send_media, "video_note"),
    "sendDocument": partial(_send_media, "document"),
    "getFile": get_file,
}
