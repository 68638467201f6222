"""Who is in the playground: the bot, two people and their chats, and every message.

Two private chats (Alice speaks English, Борис Russian, so both translations get exercised)
and one supergroup with both people and the bot, for the group flow. Message ids count per
chat, as on Telegram; a message is kept as the exact JSON object the Bot API sends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from playground.errors import PlaygroundError, bad_request
from playground.options import EmulatorConfig

JsonDict = dict[str, Any]

GROUP_ID = -1001000000001


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    username: str
    language_code: str

    def as_user(self) -> JsonDict:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": self.username,
            "language_code": self.language_code,
        }


PEOPLE = (
    Person(1001, "Alice", "alice", "en"),
    Person(1002, "Борис", "boris", "ru"),
)


@dataclass
class Chat:
    id: int
    type: Literal["private", "supergroup"]
    title: str
    member_ids: tuple[int, ...]
    messages: dict[int, JsonDict] = field(default_factory=dict)
    hidden_from_bot: set[int] = field(default_factory=set)
    next_message_id: int = 1
    username: str | None = None

    def as_chat(self) -> JsonDict:
        """The short ``Chat`` object inside messages."""
        if self.type == "private":
            return {
                "id": self.id,
                "type": "private",
                "first_name": self.title,
                "username": self.username,
            }
        return {"id": self.id, "type": self.type, "title": self.title}

    def full_info(self) -> JsonDict:
        """The ``ChatFullInfo`` object getChat returns."""
        info = self.as_chat() | {
            "accent_color_id": abs(self.id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if self.type == "supergroup":
            info["description"] = "Try artisto together: reply to a photo with /art."
        return info

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def message(self, message_id: int) -> JsonDict | None:
        return self.messages.get(message_id)

    def history(self) -> list[JsonDict]:
        return list(self.messages.values())


class World:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.bot_user: JsonDict = {
            "id": config.bot_id,
            "is_bot": True,
            "first_name": config.bot_first_name,
            "username": config.bot_username,
        }
        self.people = {person.id: person for person in PEOPLE}
        self.chats: dict[int, Chat] = {
            person.id: Chat(
                person.id, "private", person.first_name, (person.id,), username=person.username
            )
            for person in PEOPLE
        }
        self.chats[GROUP_ID] = Chat(
            GROUP_ID, "supergroup", config.group_title, tuple(p.id for p in PEOPLE)
        )
        self.blocked_by: set[int] = set()

    def add_person(self, person: Person) -> None:
        """Someone else in the playground, with a private chat with the bot."""
        if person.id in self.chats:
            raise PlaygroundError(f"id {person.id} is taken")
        self.people[person.id] = person
        self.chats[person.id] = Chat(
            person.id, "private", person.first_name, (person.id,), username=person.username
        )

    def get_me(self) -> JsonDict:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.config.privacy_mode,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def chat_for_bot(self, chat_id: int | str | None) -> Chat:
        """The chat a Bot API call names, with Telegram's errors.

        Only numeric ids: "@username" addresses public channels and groups, and the
        playground has none.
        """
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = None
        if isinstance(chat_id, int) or chat_id.lstrip("-").isdigit():
            chat = self.chats.get(int(chat_id))
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def person(self, user_id: int) -> Person:
        person = self.people.get(user_id)
        if person is None:
            raise PlaygroundError(f"no playground user with id {user_id}")
        return person

    def chat_of(self, user_id: int, chat_id: int) -> Chat:
        """A chat as a member sees it; a client cannot write anywhere else."""
        self.person(user_id)
        chat = self.chats.get(chat_id)
        if chat is None or user_id not in chat.member_ids:
            raise PlaygroundError(f"user {user_id} is not in chat {chat_id}")
        return chat

    def new_message(self, chat: Chat, sender: JsonDict, content: JsonDict) -> JsonDict:
        message = {
            "message_id": chat.take_message_id(),
            "from": sender,
            "chat": chat.as_chat(),
            "date": int(time.time()),
            **content,
        }
        chat.messages[message["message_id"]] = message
        return message


def quoted(message: JsonDict) -> JsonDict:
    """A message as embedded in ``reply_to_message``: Telegram nests only one level."""
    return {key: value for key, value in message.items() if key != "reply_to_message"}
