"""``BotApiEmulator``: a local Telegram Bot API with simulated users and a web chat page.

The real bot talks to it over HTTP exactly as to Telegram (point aiogram at it with
``TelegramAPIServer.from_base(emulator.url)``); tests and the page play the users::

    emulator = BotApiEmulator()
    url = await emulator.start()                 # or mount emulator.app yourself
    emulator.send_user_message(ALICE, ALICE, photo=(jpeg_bytes, "cat.jpg"))
    reply = await emulator.wait_for(lambda m: "reply_markup" in m)
    emulator.press_button(ALICE, ALICE, reply["message_id"], "st:1:mosaic")
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable
from typing import Any

from aiohttp import web

from playground import users
from playground.api import BotApi
from playground.errors import PlaygroundError
from playground.options import MB, EmulatorConfig
from playground.probe import MediaKind
from playground.state import Failure, Stall, State
from playground.web import WebUi
from playground.world import Person

JsonDict = dict[str, Any]
Upload = users.Upload

_STATE_KEY = web.AppKey("playground_state", State)


class BotApiEmulator:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.state = State(self.config)
        self.api = BotApi(self.state)
        self.app = web.Application(client_max_size=self.config.max_upload_bytes + MB)
        self.app[_STATE_KEY] = self.state
        self.api.add_routes(self.app)
        WebUi(self.state).add_routes(self.app)
        self.app.cleanup_ctx.append(self._webhook_delivery)
        self.app.on_shutdown.append(self._release_waiters)
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def bot_user(self) -> JsonDict:
        return dict(self.state.world.bot_user)

    # --- serving ------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: any free port); returns the base URL."""
        runner = web.AppRunner(self.app, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        reachable = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.url = f"http://{reachable}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _webhook_delivery(self, app: web.Application) -> Any:
        task = asyncio.create_task(self.state.updates.deliver(self.api.call_from_webhook_reply))
        yield
        self.state.updates.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _release_waiters(self, app: web.Application) -> None:
        """Long polls (the bot's and the page's) end at once instead of holding shutdown."""
        self.state.updates.close()
        self.state.events.wake()

    # --- the users' side ----------------------------------------------------------------

    def send_user_message(
        self,
        user_id: int,
        chat_id: int,
        text: str | None = None,
        *,
        photo: Upload | None = None,
        video: Upload | None = None,
        animation: Upload | None = None,
        video_note: Upload | None = None,
        document: Upload | None = None,
        reply_to: int | None = None,
    ) -> JsonDict:
        """A message from ``user_id`` in ``chat_id``; with a file, ``text`` is its caption.

        A file is ``bytes`` or ``(bytes, file_name)``; it is processed as Telegram would
        (photo sizes, video metadata, GIF to MP4), which blocks for a moment on big videos.
        """
        files: dict[MediaKind, Upload | None] = {
            "photo": photo,
            "video": video,
            "animation": animation,
            "video_note": video_note,
            "document": document,
        }
        given = [(kind, upload) for kind, upload in files.items() if upload is not None]
        if len(given) > 1:
            raise PlaygroundError("one file per message")
        media = users.prepare_upload(*given[0]) if given else None
        message = users.post_user_message(self.state, user_id, chat_id, text, media, reply_to)
        return copy.deepcopy(message)

    def press_button(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        forged: bool = False,
    ) -> str:
        """Tap the inline button carrying ``callback_data``; returns the callback query id."""
        return users.press_button(
            self.state, user_id, chat_id, message_id, callback_data, forged=forged
        )

    def inline_query(self, user_id: int, query: str, chat_id: int | None = None) -> str:
        """Type ``@artisto_bot query``; returns the inline query id."""
        return users.inline_query(self.state, user_id, query, chat_id)

    def choose_inline_result(
        self, user_id: int, chat_id: int, inline_query_id: str, result_id: str
    ) -> JsonDict:
        message = users.choose_inline_result(
            self.state, user_id, chat_id, inline_query_id, result_id
        )
        return copy.deepcopy(message)

    def add_user(self, user_id: int, first_name: str, language_code: str = "en") -> None:
        """Another person, beside Alice and Boris, with a private chat with the bot: for
        tests and load runs that need many users."""
        username = f"user{user_id}"
        self.state.world.add_person(Person(user_id, first_name, username, language_code))

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        users.set_blocked(self.state, user_id, blocked)

    # --- what happened ------------------------------------------------------------------

    def chat_history(self, chat_id: int) -> list[JsonDict]:
        """The chat's messages as they are now (edits applied, deleted ones gone)."""
        chat = self.state.world.chats.get(chat_id)
        if chat is None:
            raise PlaygroundError(f"no chat {chat_id}")
        return copy.deepcopy(chat.history())

    @property
    def callback_answers(self) -> list[JsonDict]:
        """Every answerCallbackQuery so far, oldest first."""
        return [
            copy.deepcopy(record.answer)
            for record in self.state.callbacks.values()
            if record.answer is not None
        ]

    def inline_answer(self, inline_query_id: str) -> JsonDict | None:
        record = self.state.inline_queries.get(inline_query_id)
        return copy.deepcopy(record.answer) if record and record.answer else None

    @property
    def cursor(self) -> int:
        """A point in time for ``wait_for(..., since=cursor)``."""
        return self.state.events.cursor

    async def wait_for(
        self,
        predicate: Callable[[JsonDict], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented test API
        *,
        since: int = 0,
    ) -> JsonDict:
        """The first bot message, sent or edited after ``since``, that ``predicate`` accepts.

        ``since=0`` also looks at everything already sent, so a fast reply is never missed;
        pass ``since=emulator.cursor`` taken before acting to look only at what follows.
        Each edit is checked as the whole message after the edit (it has ``edit_date``).
        """
        bot_id = self.state.world.bot_user["id"]

        def match(event: JsonDict) -> bool:
            if event["type"] not in ("message", "edit"):
                return False
            message: JsonDict = event["message"]
            return bool(message["from"]["id"] == bot_id and predicate(message))

        try:
            event = await self.state.events.wait_until(match, timeout, since)
        except TimeoutError:
            raise TimeoutError(
                f"no bot message matched within {timeout} s; the bot's last messages: "
                f"{self._recent_bot_texts()}"
            ) from None
        return dict(event["message"])

    async def wait_for_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented test API
    ) -> JsonDict:
        event = await self.state.events.wait_until(
            lambda e: (
                e["type"] == "callback_answer" and e["callback_query_id"] == callback_query_id
            ),
            timeout,
            0,
        )
        return {k: v for k, v in event.items() if k not in ("seq", "type", "time")}

    async def wait_for_inline_answer(
        self,
        inline_query_id: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented test API
    ) -> JsonDict:
        event = await self.state.events.wait_until(
            lambda e: e["type"] == "inline_answer" and e["inline_query_id"] == inline_query_id,
            timeout,
            0,
        )
        return {k: v for k, v in event.items() if k not in ("seq", "type", "time")}

    def _recent_bot_texts(self, count: int = 5) -> list[str]:
        bot_id = self.state.world.bot_user["id"]
        texts = [
            str(e["message"].get("text") or e["message"].get("caption") or sorted(e["message"]))
            for e in self.state.events.after(0)
            if e["type"] in ("message", "edit") and e["message"]["from"]["id"] == bot_id
        ]
        return texts[-count:]

    # --- making the bot's life hard -----------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int = 500,
        description: str = "Internal Server Error",
        *,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` fail with this error (429 with retry_after)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self.state.failures.append(Failure(method, error_code, description, times, parameters))

    def stall_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are answered only after ``seconds``."""
        self.state.stalls.append(Stall(method, seconds, times))
