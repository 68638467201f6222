"""What happened in the chats, in order: the feed behind the web page and ``wait_for``.

Every event gets a sequence number. The page long-polls for events after the last one it
saw; tests wait until a bot message matching a predicate has been sent or edited, from a
cursor they took before acting, so a reply that arrives before the wait starts is not missed.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections import deque
from collections.abc import Callable
from typing import Any

JsonDict = dict[str, Any]

MAX_EVENTS = 10_000


class EventLog:
    def __init__(self) -> None:
        self._events: deque[JsonDict] = deque(maxlen=MAX_EVENTS)
        self._seq = 0
        self._changed = asyncio.Event()

    @property
    def cursor(self) -> int:
        """The sequence number of the latest event; events after it are in the future."""
        return self._seq

    def add(self, kind: str, **payload: Any) -> JsonDict:
        self._seq += 1
        # A snapshot: a message edited later must not rewrite what was seen before.
        event = {"seq": self._seq, "type": kind, "time": time.time(), **copy.deepcopy(payload)}
        self._events.append(event)
        self._changed.set()
        self._changed = asyncio.Event()
        return event

    def after(self, seq: int) -> list[JsonDict]:
        return [event for event in self._events if event["seq"] > seq]

    async def wait_after(self, seq: int, wait_s: float) -> list[JsonDict]:
        """Events after ``seq``, waiting up to ``wait_s`` seconds for the first one."""
        found = self.after(seq)
        if found or wait_s <= 0:
            return found
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), wait_s)
        except TimeoutError:
            return []
        return self.after(seq)

    async def wait_until(
        self, match: Callable[[JsonDict], bool], wait_s: float, since: int
    ) -> JsonDict:
        """The first event after ``since`` that ``match`` accepts; TimeoutError otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        seen = since
        while True:
            for event in self.after(seen):
                seen = event["seq"]
                if match(event):
                    return event
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError
            await self.wait_after(seen, left)

    def wake(self) -> None:
        """Release every waiter, as on shutdown."""
        self._changed.set()
        self._changed = asyncio.Event()
