"""The bot's identity, how it receives updates, its chats and its command menus."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from playground.errors import bad_request
from playground.methods.common import Handler, target_chat
from playground.params import Params
from playground.state import State
from playground.updates import Webhook

JsonDict = dict[str, Any]

_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE = re.compile(r"^([a-z]{2})?$")
_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


async def get_me(state: State, params: Params) -> JsonDict:
    return state.world.get_me()


async def get_updates(state: State, params: Params) -> list[JsonDict]:
    allowed = _allowed_updates(params)
    offset = params.integer("offset") or 0
    limit = min(max(params.integer("limit") or 100, 1), 100)
    timeout = min(max(params.number("timeout") or 0.0, 0.0), state.config.max_poll_timeout_s)
    state.updates.set_allowed(allowed)
    return await state.updates.get(offset, limit, timeout)


async def set_webhook(state: State, params: Params) -> bool:
    url = params.text("url") or ""
    allowed = _allowed_updates(params)
    if params.flag("drop_pending_updates"):
        state.updates.drop_pending()
    if not url:
        state.updates.set_webhook(None)
        return True
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.text("secret_token")
    if secret is not None and not _SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    state.updates.set_allowed(allowed)
    state.updates.set_webhook(Webhook(url, secret, max_connections, allowed))
    return True


async def delete_webhook(state: State, params: Params) -> bool:
    if params.flag("drop_pending_updates"):
        state.updates.drop_pending()
    state.updates.set_webhook(None)
    return True


async def get_webhook_info(state: State, params: Params) -> JsonDict:
    webhook = state.updates.webhook
    info: JsonDict = {
        "url": webhook.url if webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": state.updates.pending_count,
    }
    if webhook is not None:
        info |= {"max_connections": webhook.max_connections, "ip_address": "127.0.0.1"}
        if webhook.allowed_updates is not None:
            info["allowed_updates"] = webhook.allowed_updates
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
    return info


def _allowed_updates(params: Params) -> list[str] | None:
    allowed = params.json("allowed_updates", error="can't parse allowed_updates JSON object")
    if allowed is not None and (
        not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed)
    ):
        raise bad_request("can't parse allowed_updates JSON object")
    return allowed


async def get_chat(state: State, params: Params) -> JsonDict:
    return target_chat(state, params).full_info()


async def set_my_commands(state: State, params: Params) -> bool:
    commands = params.json("commands", error="can't parse commands JSON object")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    checked = [_command(command) for command in commands]
    key = _command_key(state, params)
    if checked:
        state.commands[key] = checked
    else:
        state.commands.pop(key, None)
    state.events.add("commands", scope=key[0], language_code=key[1])
    return True


async def get_my_commands(state: State, params: Params) -> list[JsonDict]:
    return state.commands.get(_command_key(state, params), [])


async def delete_my_commands(state: State, params: Params) -> bool:
    key = _command_key(state, params)
    state.commands.pop(key, None)
    state.events.add("commands", scope=key[0], language_code=key[1])
    return True


def _command(command: Any) -> JsonDict:
    if not isinstance(command, dict):
        raise bad_request("can't parse BotCommand JSON object")
    name, description = command.get("command"), command.get("description")
    if not isinstance(name, str) or not _COMMAND.match(name.removeprefix("/")):
        raise bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": name.removeprefix("/"), "description": description.strip()}


def _command_key(state: State, params: Params) -> tuple[str, str]:
    """Commands are stored per (scope, language); lookups are exact, as on Telegram."""
    language = params.text("language_code") or ""
    if not _LANGUAGE.match(language):
        raise bad_request("invalid language code specified")
    scope = params.json("scope", error="can't parse BotCommandScope JSON object") or {}
    if not isinstance(scope, dict) or scope.get("type", "default") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope.get("type", "default")
    if kind in ("chat", "chat_administrators", "chat_member"):
        chat = state.world.chat_for_bot(scope.get("chat_id"))
        kind = f"{kind}:{chat.id}"
        if scope["type"] == "chat_member":
            kind = f"{kind}:{scope.get('user_id')}"
    return kind, language


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "getChat": get_chat,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
}
