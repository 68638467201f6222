"""The playground's whole state and the few operations both sides share.

The bot side (Bot API methods) and the user side (tests, the web page) change the same
chats. Every change goes through here so that it is stored, shown on the page (an event)
and, when the bot is meant to see it, queued as an update.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from playground.events import EventLog
from playground.files import FileStore
from playground.options import EmulatorConfig
from playground.ratelimit import ChatRateLimiter
from playground.updates import UpdateQueue
from playground.world import Chat, Person, World, quoted

JsonDict = dict[str, Any]


@dataclass
class Failure:
    """An error the next calls of a method will get, to test a bot's retries."""

    method: str
    error_code: int
    description: str
    times: int
    parameters: dict[str, Any] | None = None


@dataclass
class Stall:
    """A pause before the next calls of a method are answered: Telegram having a slow day."""

    method: str
    seconds: float
    times: int


@dataclass
class CallbackRecord:
    query: JsonDict
    chat_id: int
    answer: JsonDict | None = None


@dataclass
class InlineRecord:
    query: JsonDict
    chat_id: int | None
    answer: JsonDict | None = None


@dataclass
class State:
    config: EmulatorConfig
    world: World = field(init=False)
    files: FileStore = field(default_factory=FileStore)
    events: EventLog = field(default_factory=EventLog)
    updates: UpdateQueue = field(init=False)
    limiter: ChatRateLimiter = field(init=False)
    callbacks: dict[str, CallbackRecord] = field(default_factory=dict)
    inline_queries: dict[str, InlineRecord] = field(default_factory=dict)
    inline_messages: dict[str, tuple[int, int]] = field(default_factory=dict)
    commands: dict[tuple[str, str], list[JsonDict]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    stalls: list[Stall] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.world = World(self.config)
        self.updates = UpdateQueue(self.config.webhook_retry_s)
        self.limiter = ChatRateLimiter(self.config.rate_limit)

    # --- messages -----------------------------------------------------------------------

    def bot_says(self, chat: Chat, content: JsonDict, reply_to: JsonDict | None) -> JsonDict:
        message = self.world.new_message(chat, self.world.bot_user, _with_reply(content, reply_to))
        self.events.add("message", chat_id=chat.id, message=message)
        return message

    def user_says(
        self, person: Person, chat: Chat, content: JsonDict, reply_to: JsonDict | None
    ) -> JsonDict:
        message = self.world.new_message(chat, person.as_user(), _with_reply(content, reply_to))
        seen = self.visible_to_bot(chat, message)
        if not seen:
            chat.hidden_from_bot.add(message["message_id"])
        self.events.add("message", chat_id=chat.id, message=message, hidden_from_bot=not seen)
        if seen:
            self.updates.push("message", message)
        return message

    def bot_edits(self, chat: Chat, message: JsonDict, changes: JsonDict) -> JsonDict:
        """Apply ``changes`` (a None value removes the field) and stamp ``edit_date``."""
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        self.events.add("edit", chat_id=chat.id, message=message)
        return message

    def remove(self, chat: Chat, message_id: int) -> None:
        chat.messages.pop(message_id, None)
        self.events.add("delete", chat_id=chat.id, message_id=message_id)

    def visible_to_bot(self, chat: Chat, message: JsonDict) -> bool:
        """Privacy mode: in groups the bot sees commands, replies to it and its inline sends."""
        if chat.type == "private" or not self.config.privacy_mode:
            return True
        bot = self.world.bot_user
        replied = message.get("reply_to_message")
        if replied and replied.get("from", {}).get("id") == bot["id"]:
            return True
        if message.get("via_bot", {}).get("id") == bot["id"]:
            return True
        text = message.get("text") or message.get("caption") or ""
        if not text.startswith("/"):
            return False
        command = text.split(maxsplit=1)[0]
        _, _, addressee = command.partition("@")
        return addressee in ("", bot["username"])

    # --- bot commands -------------------------------------------------------------------

    def commands_for(self, chat: Chat, user_id: int, language: str) -> list[JsonDict]:
        """The command menu a client shows, resolved like Telegram's clients do."""
        scopes = [f"chat_member:{chat.id}:{user_id}", f"chat:{chat.id}"]
        scopes.append("all_private_chats" if chat.type == "private" else "all_group_chats")
        scopes.append("default")
        for scope in scopes:
            for lang in (language, ""):
                if (scope, lang) in self.commands:
                    return self.commands[(scope, lang)]
        return []


def _with_reply(content: JsonDict, reply_to: JsonDict | None) -> JsonDict:
    if reply_to is None:
        return content
    return content | {"reply_to_message": quoted(reply_to)}
