"""The bot's update queue, with getUpdates' semantics and webhook delivery.

getUpdates: an update is confirmed (and forgotten) when a call passes an offset above its id;
a negative offset keeps only the last updates; ``allowed_updates`` is remembered and filters
updates created afterwards; a second concurrent long poll ends the first with 409; while a
webhook is set getUpdates answers 409 and updates are POSTed to the webhook instead, one at a
time and in order, with the secret token header, retried with growing pauses on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from playground.errors import ApiError

JsonDict = dict[str, Any]
ReplyHandler = Callable[[JsonDict], Awaitable[None]]

log = logging.getLogger(__name__)

DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
WEBHOOK_TIMEOUT_S = 30.0


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


class UpdateQueue:
    def __init__(self, retry_pauses: tuple[float, ...]) -> None:
        self._pending: list[JsonDict] = []
        self._next_id = 1
        self._allowed: frozenset[str] | None = None
        self._changed = asyncio.Event()
        self._poller = 0
        self._closed = False
        self._retry_pauses = retry_pauses
        self.webhook: Webhook | None = None

    # --- producing ----------------------------------------------------------------------

    def push(self, kind: str, payload: JsonDict) -> JsonDict | None:
        """Queue an update unless the bot's ``allowed_updates`` excludes its type."""
        allowed = self._allowed
        if (allowed is None and kind in DEFAULT_EXCLUDED) or (
            allowed is not None and kind not in allowed
        ):
            return None
        update = {"update_id": self._next_id, kind: copy.deepcopy(payload)}
        self._next_id += 1
        self._pending.append(update)
        self._wake()
        return update

    def set_allowed(self, allowed: list[str] | None) -> None:
        """None keeps the previous choice; an empty list restores the default set."""
        if allowed is not None:
            self._allowed = frozenset(allowed) if allowed else None

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def drop_pending(self) -> None:
        self._pending.clear()

    # --- getUpdates ---------------------------------------------------------------------

    async def get(self, offset: int, limit: int, wait_s: float) -> list[JsonDict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._confirm(offset)
        self._poller += 1
        me = self._poller
        self._wake()  # ends an older long poll: it sees that it is no longer the poller
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            if self._poller != me:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            ready = [u for u in self._pending if offset <= 0 or u["update_id"] >= offset]
            left = deadline - loop.time()
            if ready or left <= 0 or self._closed or self.webhook is not None:
                return ready[:limit]
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), left)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    # --- webhook ------------------------------------------------------------------------

    def set_webhook(self, webhook: Webhook | None) -> None:
        self.webhook = webhook
        self._wake()

    async def deliver(self, execute_reply: ReplyHandler) -> None:
        """Run until closed: POST each pending update to the webhook while one is set."""
        attempt = 0
        async with aiohttp.ClientSession() as session:
            while not self._closed:
                webhook = self.webhook
                if webhook is None or not self._pending:
                    changed = self._changed
                    await changed.wait()
                    continue
                update = self._pending[0]
                error = await self._post(session, webhook, update, execute_reply)
                if error is None:
                    attempt = 0
                    if self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                    continue
                webhook.last_error_date, webhook.last_error_message = int(time.time()), error
                log.warning("playground.webhook_failed", extra={"error": error})
                pause = self._retry_pauses[min(attempt, len(self._retry_pauses) - 1)]
                attempt += 1
                changed = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), pause)

    async def _post(
        self,
        session: aiohttp.ClientSession,
        webhook: Webhook,
        update: JsonDict,
        execute_reply: ReplyHandler,
    ) -> str | None:
        headers = {}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        try:
            async with session.post(
                webhook.url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S),
            ) as response:
                if response.status >= 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                reply = await response.read()
                content_type = response.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"Connection failed: {exc or type(exc).__name__}"
        if content_type == "application/json" and reply.strip():
            await _reply_call(reply, execute_reply)
        return None

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


async def _reply_call(body: bytes, execute_reply: ReplyHandler) -> None:
    """A webhook may answer with a method call in its response body; Telegram runs it."""
    try:
        call = json.loads(body)
    except ValueError:
        return
    if isinstance(call, dict) and isinstance(call.get("method"), str):
        await execute_reply(call)
