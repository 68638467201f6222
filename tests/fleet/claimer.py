"""``python -m tests.fleet.claimer URL WORKER START_AT``: claim jobs as fast as possible from
wall-clock time ``START_AT`` until the queue is empty, then print the ids taken, one a line.

Two of these at once are two worker processes racing for one queue, without the minutes a
real worker takes to import torch."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta

from bot.db import Repos, create_engine, create_session_factory


async def claim_all(url: str, worker: str, start_at: float) -> list[int]:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    taken: list[int] = []
    try:
        async with engine.connect():  # connected before the start, so both start at once
            await asyncio.sleep(max(0.0, start_at - time.time()))
            while True:
                async with sessions.begin() as session:
                    job = await Repos(session).leases.claim_next(worker, timedelta(minutes=1))
                if job is None:
                    return taken
                taken.append(job.id)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    url, worker, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
    for job_id in asyncio.run(claim_all(url, worker, start_at)):
        print(job_id)
