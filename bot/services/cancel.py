"""Cancelling, as the user sees it: the job's status message says so, in place of its
progress or queue position. (``JobService`` takes the jobs back.)"""

from __future__ import annotations

from bot.db import Job
from bot.services.jobs import JobService
from bot.services.status import MessageRef, StatusBoard


async def tell_cancelled(status: StatusBoard, job: Job, text: str) -> None:
    """``text`` as the last word on ``job``'s status message, if it has one."""
    if job.status_message_id is not None:
        await status.finish(MessageRef(job.chat_id, job.status_message_id), text)


async def cancel_queued(jobs: JobService, status: StatusBoard, user_id: int, text: str) -> int:
    """/cancel: every queued job of the user, each status message told; how many there were."""
    cancelled = await jobs.cancel_queued(user_id)
    for job in cancelled:
        await tell_cancelled(status, job, text)
    return len(cancelled)
