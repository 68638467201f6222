"""What the simulated people do, as a Telegram client would do it, turned into updates.

Tests and the web page call these. They refuse what a real client cannot do (write into a
chat one is not in, press a button that is not there) with ``PlaygroundError``.
"""

from __future__ import annotations

import secrets
import time
import zlib
from typing import Any

from playground.errors import ApiError, PlaygroundError
from playground.formatting import format_text, user_entities
from playground.methods.answers import INLINE_MEDIA
from playground.options import CAPTION_LIMIT, TEXT_LIMIT
from playground.probe import MediaError, MediaKind, Prepared, prepare
from playground.state import CallbackRecord, InlineRecord, State
from playground.world import Chat, Person

JsonDict = dict[str, Any]
Upload = bytes | tuple[bytes, str]

INLINE_QUERY_LIMIT = 256


def prepare_upload(kind: MediaKind, upload: Upload) -> Prepared:
    """Process a file the way Telegram's servers would; slow for videos, so off the loop."""
    data, name = upload if isinstance(upload, tuple) else (upload, None)
    try:
        return prepare(kind, data, name)
    except MediaError as exc:
        raise PlaygroundError(
            f"cannot send this {kind}: {exc}; a Telegram client would send it as a document"
        ) from None


def post_user_message(
    state: State,
    user_id: int,
    chat_id: int,
    text: str | None = None,
    media: Prepared | None = None,
    reply_to: int | None = None,
) -> JsonDict:
    """A message from ``user_id``: text, or media with ``text`` as its caption."""
    person = state.world.person(user_id)
    chat = state.world.chat_of(user_id, chat_id)
    replied = None
    if reply_to is not None:
        replied = chat.message(reply_to)
        if replied is None:
            raise PlaygroundError(f"no message {reply_to} in chat {chat_id} to reply to")
    text = (text or "").strip()
    content: JsonDict = {}
    if media is None:
        if not text:
            raise PlaygroundError("a message needs text or a file")
        if len(text) > TEXT_LIMIT:
            raise PlaygroundError(f"a message holds at most {TEXT_LIMIT} characters")
        content["text"] = text
        if entities := user_entities(text):
            content["entities"] = entities
    else:
        if text and media.kind == "video_note":
            raise PlaygroundError("a video note has no caption")
        if len(text) > CAPTION_LIMIT:
            raise PlaygroundError(f"a caption holds at most {CAPTION_LIMIT} characters")
        content = _media_content(state, media)
        if text:
            content["caption"] = text
            if entities := user_entities(text):
                content["caption_entities"] = entities
    return state.user_says(person, chat, content, replied)


def _media_content(state: State, media: Prepared) -> JsonDict:
    field = state.files.add(media)
    content: JsonDict = {media.kind: field}
    if media.kind == "animation":
        content["document"] = _as_document(field)
    return content


def _as_document(media: JsonDict) -> JsonDict:
    return {k: v for k, v in media.items() if k not in ("width", "height", "duration")}


def press_button(
    state: State,
    user_id: int,
    chat_id: int,
    message_id: int,
    callback_data: str,
    *,
    forged: bool = False,
) -> str:
    """Tap an inline button; ``forged`` sends data no button carries, as a tampered client."""
    person = state.world.person(user_id)
    chat = state.world.chat_of(user_id, chat_id)
    message = chat.message(message_id)
    if message is None:
        raise PlaygroundError(f"no message {message_id} in chat {chat_id}")
    if not forged and callback_data not in _callback_data(message):
        raise PlaygroundError(f"message {message_id} has no button with data {callback_data!r}")
    query_id = str(secrets.randbits(63))
    query = {
        "id": query_id,
        "from": person.as_user(),
        "message": message,
        "chat_instance": str(zlib.crc32(f"{chat.id}".encode())),
        "data": callback_data,
    }
    state.callbacks[query_id] = CallbackRecord(query, chat.id)
    state.updates.push("callback_query", query)
    return query_id


def _callback_data(message: JsonDict) -> set[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["callback_data"] for row in rows for button in row if "callback_data" in button}


def inline_query(state: State, user_id: int, query: str, chat_id: int | None = None) -> str:
    """Type ``@bot query`` in a chat (or with no chat: from the share sheet)."""
    person = state.world.person(user_id)
    if len(query) > INLINE_QUERY_LIMIT:
        raise PlaygroundError(f"an inline query holds at most {INLINE_QUERY_LIMIT} characters")
    payload: JsonDict = {
        "id": str(secrets.randbits(63)),
        "from": person.as_user(),
        "query": query,
        "offset": "",
    }
    if chat_id is not None:
        chat = state.world.chat_of(user_id, chat_id)
        payload["chat_type"] = "sender" if chat.type == "private" else chat.type
    state.inline_queries[payload["id"]] = InlineRecord(payload, chat_id)
    state.updates.push("inline_query", payload)
    return str(payload["id"])


def choose_inline_result(
    state: State, user_id: int, chat_id: int, query_id: str, result_id: str
) -> JsonDict:
    """Send one of the bot's inline results into a chat, ``via_bot`` the bot."""
    person = state.world.person(user_id)
    chat = state.world.chat_of(user_id, chat_id)
    record = state.inline_queries.get(query_id)
    if record is None or record.answer is None or record.query["from"]["id"] != user_id:
        raise PlaygroundError(f"inline query {query_id} has no answer for user {user_id}")
    result = next((r for r in record.answer["results"] if r["id"] == result_id), None)
    if result is None:
        raise PlaygroundError(f"inline query {query_id} has no result {result_id!r}")
    content = _inline_content(state, result) | {"via_bot": state.world.bot_user}
    inline_message_id = None
    if "reply_markup" in result:
        content["reply_markup"] = result["reply_markup"]
        inline_message_id = secrets.token_urlsafe(18)
    message = state.user_says(person, chat, content, None)
    if inline_message_id is not None:
        state.inline_messages[inline_message_id] = (chat.id, message["message_id"])
    if state.config.inline_feedback:
        chosen = {"result_id": result_id, "from": person.as_user(), "query": record.query["query"]}
        if inline_message_id is not None:
            chosen["inline_message_id"] = inline_message_id
        state.updates.push("chosen_inline_result", chosen)
    return message


def _inline_content(state: State, result: JsonDict) -> JsonDict:
    try:
        if "input_message_content" in result:
            source = result["input_message_content"]
            formatted = format_text(
                str(source.get("message_text", "")),
                source.get("parse_mode"),
                source.get("entities"),
            )
            return _text_content("text", formatted.text, formatted.entities)
        file_field, kind, _ = INLINE_MEDIA[result["type"]]
        if file_field not in result:
            raise PlaygroundError("the playground cannot fetch URLs; answer with cached file ids")
        media = state.files.resend(result[file_field], kind)
        content: JsonDict = {kind: media}
        if kind == "animation":
            content["document"] = _as_document(media)
        formatted = format_text(
            str(result.get("caption", "")), result.get("parse_mode"), result.get("caption_entities")
        )
        return content | _text_content("caption", formatted.text, formatted.entities)
    except ApiError as exc:
        raise PlaygroundError(f"this inline result cannot be sent: {exc.description}") from None


def _text_content(field: str, text: str, entities: list[JsonDict]) -> JsonDict:
    content: JsonDict = {field: text} if text else {}
    if entities:
        content["entities" if field == "text" else "caption_entities"] = entities
    return content


def set_blocked(state: State, user_id: int, blocked: bool) -> None:
    """Block (or unblock) the bot in the user's private chat, as from the chat's menu."""
    person = state.world.person(user_id)
    chat = state.world.chats[user_id]
    if blocked:
        state.world.blocked_by.add(user_id)
    else:
        state.world.blocked_by.discard(user_id)
    state.updates.push("my_chat_member", _member_change(state, person, chat, blocked))


def _member_change(state: State, person: Person, chat: Chat, blocked: bool) -> JsonDict:
    bot = state.world.bot_user
    member = {"status": "member", "user": bot}
    kicked = {"status": "kicked", "user": bot, "until_date": 0}
    return {
        "chat": chat.as_chat(),
        "from": person.as_user(),
        "date": int(time.time()),
        "old_chat_member": member if blocked else kicked,
        "new_chat_member": kicked if blocked else member,
    }
