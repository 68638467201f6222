"""A style picked in the /styles gallery, waiting for the user's next photo or video.

Kept in memory, for a while: a pick is a moment's intention, not a setting. Forgotten after a
restart or ``ttl_s``, it costs the user one tap on the usual keyboard, nothing more.
"""

from __future__ import annotations

import time
from collections import OrderedDict

PICK_TTL_S = 15 * 60.0
PICKS_KEPT = 10_000


class StylePicks:
    def __init__(self, ttl_s: float = PICK_TTL_S, size: int = PICKS_KEPT) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._picks: OrderedDict[int, tuple[str, float]] = OrderedDict()

    def remember(self, user_id: int, style: str) -> None:
        self._picks.pop(user_id, None)
        self._picks[user_id] = (style, time.monotonic() + self.ttl_s)
        while len(self._picks) > self.size:
            self._picks.popitem(last=False)

    def take(self, user_id: int) -> str | None:
        """The user's pick, used up; None when there is none or it expired."""
        picked = self._picks.pop(user_id, None)
        if picked is None:
            return None
        style, expires = picked
        return style if time.monotonic() < expires else None
