"""Is this process able to serve? The inference pool READY (where it has one: a bot process
has none) and the database answering. A pool still warming up may already serve (its
stand-in, more slowly): it says how far the warm-up is, and is not yet healthy.

What a load balancer, ``docker compose`` or systemd's watchdog asks through ``/healthz``: each
part's state with the reason when it is not fine, so the answer also tells an operator what
to look at.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from inference.pool import InferencePool, PoolState

DB_TIMEOUT_S = 2.0
"""A database slower than this to say ``SELECT 1`` counts as unreachable."""


@dataclass(frozen=True)
class Health:
    pool_state: PoolState | None
    """None for a process without a pool."""
    pool_reason: str | None
    database_reason: str | None
    """None when the database answered."""

    @property
    def healthy(self) -> bool:
        pool_fine = self.pool_state in (None, PoolState.READY)
        return pool_fine and self.database_reason is None

    def as_json(self) -> dict[str, Any]:
        pool = None if self.pool_state is None else self.pool_state.name
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "pool": {"state": pool, "reason": self.pool_reason},
            "database": {
                "reachable": self.database_reason is None,
                "reason": self.database_reason,
            },
        }


async def check_database(engine: AsyncEngine, timeout_s: float = DB_TIMEOUT_S) -> str | None:
    """None when the database answers ``SELECT 1`` within ``timeout_s``; else why not."""
    try:
        async with asyncio.timeout(timeout_s), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except Exception as exc:  # any driver's failure is the answer, not a crash of /healthz
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def pool_reason(pool: InferencePool) -> str | None:
    state = pool.state
    if state is PoolState.READY:
        return None
    if state is PoolState.ERROR:
        return pool.error or "the pool failed"
    warm, styles = pool.warm_progress
    if state is PoolState.STARTING:
        return f"starting: {warm} of {styles} styles warm; requests wait"
    if state is PoolState.WARMING:
        return f"warming up: {warm} of {styles} styles warm; requests are served meanwhile"
    return "shut down"


async def check(pool: InferencePool | None, engine: AsyncEngine) -> Health:
    database = await check_database(engine)
    if pool is None:
        return Health(None, None, database)
    return Health(pool.state, pool_reason(pool), database)
