"""Text messages, edits, deletion and chat actions."""

from __future__ import annotations

from typing import Any

from playground.errors import bad_request
from playground.methods.common import (
    Handler,
    editable_message,
    inline_keyboard,
    message_text,
    not_modified,
    reply_target,
    target_chat,
    text_fields,
)
from playground.options import CAPTION_LIMIT, TEXT_LIMIT
from playground.params import Params
from playground.state import State
from playground.world import Chat

JsonDict = dict[str, Any]

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_CAPTIONED = ("photo", "video", "animation", "document", "audio", "voice")


async def send_message(state: State, params: Params) -> JsonDict:
    chat = target_chat(state, params)
    text = message_text(
        params,
        "text",
        limit=TEXT_LIMIT,
        too_long="message is too long",
        empty="message text is empty",
    )
    markup = inline_keyboard(params)
    reply_to = reply_target(state, chat, params)
    state.limiter.check(chat.id)
    content = {k: v for k, v in text_fields(text, "text").items() if v is not None}
    if markup:
        content["reply_markup"] = markup
    return state.bot_says(chat, content, reply_to)


async def edit_message_text(state: State, params: Params) -> JsonDict | bool:
    chat, message, inline = editable_message(state, params)
    text = message_text(
        params,
        "text",
        limit=TEXT_LIMIT,
        too_long="message is too long",
        empty="text must be non-empty",
    )
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    changes = text_fields(text, "text") | {"reply_markup": inline_keyboard(params)}
    return _apply(state, chat, message, changes, inline)


async def edit_message_caption(state: State, params: Params) -> JsonDict | bool:
    chat, message, inline = editable_message(state, params)
    caption = message_text(
        params, "caption", limit=CAPTION_LIMIT, too_long="message caption is too long", empty=None
    )
    if not any(kind in message for kind in _CAPTIONED):
        raise bad_request("there is no caption in the message to edit")
    changes = text_fields(caption, "caption") | {"reply_markup": inline_keyboard(params)}
    return _apply(state, chat, message, changes, inline)


async def edit_message_reply_markup(state: State, params: Params) -> JsonDict | bool:
    chat, message, inline = editable_message(state, params)
    return _apply(state, chat, message, {"reply_markup": inline_keyboard(params)}, inline)


def _apply(
    state: State, chat: Chat, message: JsonDict, changes: JsonDict, inline: bool
) -> JsonDict | bool:
    """Telegram refuses an edit that changes nothing, and counts edits against flood limits."""
    if all(message.get(key) == value for key, value in changes.items()):
        raise not_modified()
    state.limiter.check(chat.id)
    edited = state.bot_edits(chat, message, changes)
    return True if inline else edited


async def delete_message(state: State, params: Params) -> bool:
    chat = target_chat(state, params)
    message_id = params.integer("message_id", error="message to delete not found")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = chat.message(message_id)
    if message is None:
        raise bad_request("message to delete not found")
    own = message["from"]["id"] == state.world.bot_user["id"]
    if not own and chat.type != "private":
        raise bad_request("message can't be deleted")
    state.remove(chat, message_id)
    return True


async def send_chat_action(state: State, params: Params) -> bool:
    chat = target_chat(state, params)
    action = params.text("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state.events.add("chat_action", chat_id=chat.id, action=action)
    return True


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "sendChatAction": send_chat_action,
}
