"""Per-chat flood control, as Telegram applies it to a bot: 429 with ``retry_after``."""

from __future__ import annotations

import math
import time
from collections import deque

from playground.errors import too_many_requests
from playground.options import RateLimit


class ChatRateLimiter:
    """A sliding window per chat; does nothing without a configured limit."""

    def __init__(self, limit: RateLimit | None) -> None:
        self.limit = limit
        self._sent: dict[int, deque[float]] = {}

    def check(self, chat_id: int) -> None:
        """Count one message to ``chat_id``, or raise 429 if the window is full."""
        if self.limit is None:
            return
        now = time.monotonic()
        window = self._sent.setdefault(chat_id, deque())
        while window and now - window[0] >= self.limit.per_seconds:
            window.popleft()
        if len(window) >= self.limit.messages:
            wait = self.limit.per_seconds - (now - window[0])
            raise too_many_requests(max(1, math.ceil(wait)))
        window.append(now)
