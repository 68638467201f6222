"""Parameter checks shared by the sending and editing methods, with Telegram's wording."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from playground.errors import ApiError, bad_request
from playground.formatting import Formatted, format_text
from playground.options import CALLBACK_DATA_LIMIT
from playground.params import Params
from playground.state import State
from playground.world import Chat

JsonDict = dict[str, Any]
Handler = Callable[[State, Params], Awaitable[Any]]

_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "web_app",
    "login_url",
    "callback_game",
    "pay",
)
_URL = re.compile(r"^(https?|tg)://\S+$", re.IGNORECASE)


def target_chat(state: State, params: Params) -> Chat:
    """The chat named by ``chat_id``, refusing a private chat whose user blocked the bot."""
    chat_id: int | str | None = params.integer("chat_id", error="chat not found")
    if chat_id is None:
        chat_id = params.text("chat_id")
    chat = state.world.chat_for_bot(chat_id)
    if chat.type == "private" and chat.id in state.world.blocked_by:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    return chat


def message_text(
    params: Params, field: str, *, limit: int, too_long: str, empty: str | None
) -> Formatted:
    """``field`` parsed with its parse_mode (or entities) and checked against ``limit``."""
    prefix = "caption_" if field == "caption" else ""
    entities = params.json(f"{prefix}entities", error="can't parse entities JSON object")
    formatted = format_text(params.text(field) or "", params.text("parse_mode"), entities)
    if empty is not None and not formatted.text:
        raise bad_request(empty)
    if len(formatted.text) > limit:
        raise bad_request(too_long)
    return formatted


def text_fields(formatted: Formatted, field: str) -> JsonDict:
    """Message fields for a text or caption: absent fields are None, so edits remove them."""
    entities_field = "entities" if field == "text" else "caption_entities"
    return {
        field: formatted.text or None,
        entities_field: formatted.entities or None,
    }


def inline_keyboard(params: Params) -> JsonDict | None:
    """The inline keyboard a message will carry; other keyboards are accepted, not attached."""
    return keyboard_markup(
        params.json("reply_markup", error="can't parse reply keyboard markup JSON object")
    )


def keyboard_markup(markup: Any) -> JsonDict | None:
    """A checked inline keyboard, None for no keyboard or a non-inline one."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    return {"inline_keyboard": [[_button(button) for button in row] for row in rows if row]}


def _button(button: Any) -> JsonDict:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not any(name in button for name in _BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    data = button.get("callback_data")
    if "callback_data" in button and (
        not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT
    ):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if "url" in button and (not isinstance(url, str) or not _URL.match(url)):
        raise bad_request("BUTTON_URL_INVALID")
    return dict(button)


def reply_target(state: State, chat: Chat, params: Params) -> JsonDict | None:
    """The message to reply to, from reply_parameters or the older reply_to_message_id."""
    reply = params.json("reply_parameters", error="can't parse reply parameters JSON object")
    if reply is not None and not isinstance(reply, dict):
        raise bad_request("can't parse reply parameters JSON object")
    if reply:
        message_id, allow_missing = (
            reply.get("message_id"),
            bool(reply.get("allow_sending_without_reply")),
        )
        if reply.get("chat_id") not in (None, chat.id, str(chat.id)):
            raise bad_request("message to be replied not found")
    else:
        message_id = params.integer("reply_to_message_id")
        allow_missing = params.flag("allow_sending_without_reply")
    if message_id is None:
        return None
    if not isinstance(message_id, int):
        raise bad_request("can't parse reply parameters JSON object")
    replied = chat.message(message_id)
    if replied is None and not allow_missing:
        raise bad_request("message to be replied not found")
    return replied


def editable_message(state: State, params: Params) -> tuple[Chat, JsonDict, bool]:
    """The bot's own message to edit, and whether it was named by inline_message_id."""
    inline_id = params.text("inline_message_id")
    if inline_id:
        where = state.inline_messages.get(inline_id)
        if where is None:
            raise bad_request("MESSAGE_ID_INVALID")
        chat, message_id = state.world.chats[where[0]], where[1]
    else:
        chat = target_chat(state, params)
        named = params.integer("message_id", error="message to edit not found")
        if named is None:
            raise bad_request("message identifier is not specified")
        message_id = named
    message = chat.message(message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if message["from"]["id"] != state.world.bot_user["id"] and not inline_id:
        raise bad_request("message can't be edited")
    return chat, message, bool(inline_id)


def not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
