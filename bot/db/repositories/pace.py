"""The send pace every process of a fleet shares (PostgreSQL only): a reservation per send.

Each key (the whole bot, one chat) keeps the theoretical time of its next send, as in the
generic cell rate algorithm: a reservation moves it on by the key's interval from
``max(next_at, now)``, and the send may go once ``next_at`` is no more than ``burst``
intervals ahead of now. One statement reserves every key of a send, in a fixed order (so two
reservations never wait on each other's rows), on the database's clock (so hosts' clocks
need not agree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, delete, text
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, TEXT

from bot.db.models import SendPace
from bot.db.repositories.base import Repository

_RESERVE = text(
    """
    INSERT INTO send_pace (key, next_at)
    SELECT k, statement_timestamp() + make_interval(secs => i)
    FROM unnest(:keys, :intervals) AS t(k, i)
    ORDER BY k
    ON CONFLICT (key) DO UPDATE
    SET next_at = GREATEST(send_pace.next_at, statement_timestamp())
                  + (EXCLUDED.next_at - statement_timestamp())
    RETURNING key, EXTRACT(EPOCH FROM next_at - statement_timestamp())
    """
).bindparams(
    bindparam("keys", type_=ARRAY(TEXT)), bindparam("intervals", type_=ARRAY(DOUBLE_PRECISION))
)


@dataclass(frozen=True)
class Rate:
    """At most one send per ``interval_s`` on average, after a burst of ``burst``."""

    interval_s: float
    burst: int


class PaceRepo(Repository):
    async def reserve(self, rates: Sequence[tuple[str, Rate]]) -> float:
        """Reserve a send under every (key, rate); returns the seconds to wait before it."""
        if not rates:
            return 0.0
        by_key = dict(rates)
        rows = await self.session.execute(
            _RESERVE,
            {"keys": list(by_key), "intervals": [rate.interval_s for rate in by_key.values()]},
        )
        waits = [float(ahead) - by_key[key].burst * by_key[key].interval_s for key, ahead in rows]
        return max(0.0, *waits)

    async def prune(self, before: datetime) -> int:
        """Forget keys whose pace is long past (a chat that went quiet)."""
        stmt = delete(SendPace).where(SendPace.next_at < before)
        result = await self.session.execute(stmt, execution_options={"synchronize_session": False})
        return cast("CursorResult[Any]", result).rowcount
