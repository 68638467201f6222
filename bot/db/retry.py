"""One unit of database work, tried again when the connection under it broke.

A worker that loses its connection (the server restarted, an operator ended the backend, a
network blip) must not lose the step it was taking: the connection pool checks connections
before handing them out, so a second try gets a live one. Only idempotent steps are retried
this way: the conditional UPDATEs of the queue, which a repeated try either makes again to
the same effect or finds already made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.repositories import Repos

log = logging.getLogger(__name__)

T = TypeVar("T")

TRIES = 4
BACKOFF_S = (0.2, 0.5, 1.0)


def is_disconnect(exc: BaseException) -> bool:
    """The database connection broke or could not be made, as opposed to a statement the
    database refused (which a second try would only repeat)."""
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))


async def in_transaction(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[Repos], Awaitable[T]],
    *,
    what: str,
) -> T:
    """``work`` in one transaction, tried up to ``TRIES`` times while the connection breaks."""
    for attempt in range(TRIES):
        try:
            async with sessions.begin() as session:
                return await work(Repos(session))
        except Exception as exc:
            # A raw OSError is the driver failing to connect at all: nothing else runs here.
            if attempt + 1 == TRIES or not (is_disconnect(exc) or isinstance(exc, OSError)):
                raise
            log.warning("db.retry", extra={"what": what, "try": attempt + 1, "error": repr(exc)})
            await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
    raise AssertionError("unreachable: the last try returns or raises")
