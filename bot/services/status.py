"""A job's status message, edited in place and no faster than Telegram tolerates.

Telegram answers more than about one edit per second in a chat with 429, and a stream of
progress edits would trip it at once. Each message here gets at most one edit per
``min_interval``: a newer text replaces a waiting one (only the latest is ever sent), the first
edit goes out at once, and the final word (a deletion or an apology) cancels whatever waits.
Edits are best effort: a message the user deleted, or a chat that blocked the bot, ends the
edits for that message without an error reaching the job.

The board is one process's. A fleet keeps one writer per message at a time instead: the
process that records a job writes its first status before anyone else can see the job; the
process that leads the queue positions writes them, each edit under a ``guard`` that holds
the job's row while it is still queued; the worker that holds the job's lease writes its
progress and its last word. So the throttle of the writer of the moment is the message's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup

log = logging.getLogger(__name__)

DEFAULT_MIN_INTERVAL = 2.5
_MAX_IDLE_SLOTS = 10_000


@dataclass(frozen=True)
class MessageRef:
    chat_id: int
    message_id: int


Content = tuple[str, InlineKeyboardMarkup | None]
Guard = Callable[[], AbstractAsyncContextManager[bool]]
"""Entered around an edit: yields whether the edit may still be made, and holds whatever
makes that so until the edit is done."""


@dataclass(eq=False)
class _Slot:
    last_sent: float = float("-inf")
    pending: Content | None = None
    guard: Guard | None = None
    shown: Content | None = None
    closed: bool = False
    task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class StatusBoard:
    def __init__(self, bot: Bot, min_interval: float = DEFAULT_MIN_INTERVAL) -> None:
        self.bot = bot
        self.min_interval = min_interval
        self._slots: dict[MessageRef, _Slot] = {}

    def update(
        self,
        ref: MessageRef,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        guard: Guard | None = None,
    ) -> None:
        """Show ``text`` on the message soon: now if it was not edited lately, else after
        the interval, unless a newer text or the final word comes first; with ``guard``,
        only if the guard still allows it when the edit is due."""
        slot = self._slot(ref)
        if slot.closed:
            return
        slot.pending, slot.guard = (text, markup), guard
        if slot.task is None or slot.task.done():
            slot.task = asyncio.create_task(self._flush(ref, slot), name=f"status-{ref}")

    async def show(
        self, ref: MessageRef, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        """Show ``text`` now, without the throttle, once an edit on its way is done (it
        replaces whatever waits); False when it could not be shown."""
        slot = self._slot(ref)
        if slot.closed:
            return False
        slot.pending = None
        async with slot.lock:
            return await self._edit(ref, slot, (text, markup))

    async def finish(
        self,
        ref: MessageRef,
        text: str | None = None,
        markup: InlineKeyboardMarkup | None = None,
        *,
        delete: bool = False,
    ) -> bool:
        """The last word on this message: delete it, or show ``text``, right away; False
        when neither could be done (the message is gone), so the caller can send anew.

        Waits for an edit already on its way so the two cannot arrive in the wrong order.
        A deletion Telegram refuses (too old, say) falls back to ``text`` when given.
        """
        slot = self._slots.pop(ref, None) or _Slot()
        slot.closed, slot.pending = True, None
        async with slot.lock:
            if slot.task is not None and not slot.task.done():
                slot.task.cancel()
            if delete and await self._delete(ref):
                return True
            if text is None:
                return False
            return await self._edit(ref, slot, (text, markup))

    async def aclose(self) -> None:
        """Drop every waiting edit (shutdown)."""
        tasks = [s.task for s in self._slots.values() if s.task is not None]
        self._slots.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _slot(self, ref: MessageRef) -> _Slot:
        slot = self._slots.get(ref)
        if slot is None:
            self._prune()
            slot = self._slots[ref] = _Slot()
        return slot

    async def _flush(self, ref: MessageRef, slot: _Slot) -> None:
        while slot.pending is not None and not slot.closed:
            wait = slot.last_sent + self.min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            async with slot.lock:
                content, guard, slot.pending = slot.pending, slot.guard, None
                if slot.closed or content is None:
                    return
                if guard is None:
                    await self._edit(ref, slot, content)
                    continue
                try:
                    async with guard() as allowed:
                        if allowed:
                            await self._edit(ref, slot, content)
                except Exception:  # the guard's database is away: skip this edit
                    log.warning(
                        "status.guard_failed", extra={"chat_id": ref.chat_id}, exc_info=True
                    )

    async def _edit(self, ref: MessageRef, slot: _Slot, content: Content) -> bool:
        """True when the message shows ``content`` afterwards."""
        if content == slot.shown:
            return True
        text, markup = content
        slot.last_sent = time.monotonic()
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=ref.chat_id, message_id=ref.message_id, reply_markup=markup
            )
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                slot.shown = content
                return True
            # Deleted by the user, or no longer editable: nothing more to show there.
            slot.closed = True
            log.info("status.gone", extra={"chat_id": ref.chat_id, "error": exc.message})
            return False
        except TelegramForbiddenError:
            slot.closed = True
            return False
        except TelegramAPIError as exc:
            log.warning("status.edit_failed", extra={"chat_id": ref.chat_id, "error": repr(exc)})
            return False
        slot.shown = content
        return True

    async def _delete(self, ref: MessageRef) -> bool:
        try:
            await self.bot.delete_message(chat_id=ref.chat_id, message_id=ref.message_id)
        except TelegramBadRequest as exc:
            return "not found" in exc.message  # already gone is as good as deleted
        except TelegramAPIError as exc:
            log.info("status.delete_failed", extra={"chat_id": ref.chat_id, "error": repr(exc)})
            return False
        return True

    def _prune(self) -> None:
        if len(self._slots) < _MAX_IDLE_SLOTS:
            return
        now = time.monotonic()
        idle = [
            ref
            for ref, slot in self._slots.items()
            if (slot.task is None or slot.task.done()) and now - slot.last_sent > self.min_interval
        ]
        for ref in idle:
            del self._slots[ref]
