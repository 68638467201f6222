"""Fairness: per-user concurrent jobs and per-minute rate, and an honest global queue bound.

Counted in the database, not in memory, so the limits hold across restarts and across
several bot processes sharing PostgreSQL. Admins are exempt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.config import LimitsSettings
from bot.db import Repos, utcnow

THROUGHPUT_WINDOW = timedelta(minutes=30)
DEFAULT_JOB_SECONDS = 20.0
"""Assumed time per job when nothing finished recently to measure it."""


@dataclass(frozen=True)
class LimitHit:
    """Why a request was turned away; ``value`` is the number the user is told."""

    reason: Literal["concurrent", "rate", "busy"]
    value: int


class Limits:
    def __init__(self, settings: LimitsSettings, admins: frozenset[int]) -> None:
        self.settings = settings
        self.admins = admins

    async def check(
        self, repos: Repos, user_id: int, *, now: datetime | None = None
    ) -> LimitHit | None:
        """The first limit this new request would break, or None; call inside the
        transaction that creates the job, so the counts and the insert agree."""
        if user_id in self.admins:
            return None
        now = now or utcnow()
        limit = self.settings.user_concurrent_jobs
        if await repos.jobs.user_active_count(user_id) >= limit:
            return LimitHit("concurrent", limit)
        per_minute = self.settings.user_jobs_per_minute
        if await repos.jobs.user_started_since(user_id, now - timedelta(minutes=1)) >= per_minute:
            return LimitHit("rate", per_minute)
        depth = await repos.jobs.queue_depth()
        if depth >= self.settings.queue_max:
            return LimitHit("busy", await self._minutes_to_drain(repos, depth, now))
        return None

    async def _minutes_to_drain(self, repos: Repos, depth: int, now: datetime) -> int:
        """The queue's depth over the recent throughput, rounded up to whole minutes."""
        stats = await repos.jobs.stats(window=THROUGHPUT_WINDOW, now=now)
        finished = stats.done + stats.failed
        seconds_per_job = (
            THROUGHPUT_WINDOW.total_seconds() / finished if finished else DEFAULT_JOB_SECONDS
        )
        return max(1, math.ceil(depth * seconds_per_job / 60))
