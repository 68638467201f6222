"""The inference pool's queue: bounded admission, priorities, fairness between users, batching.

Pure bookkeeping with no threads and no clock of its own: callers pass ``now`` and hold their own
lock, so every decision can be tested step by step.

Fairness is start-time fair queuing (Goyal, Vin and Cheng, 1996), one instance per priority.
Each request gets a start tag ``max(V, F_user)``, where ``V`` is the tag of the request last
dispatched and ``F_user`` the finish tag (start + cost) of the user's previous request; the
lowest tag runs first. With equal costs this is round-robin across users, and it also does the
right thing in the two cases plain round-robin gets wrong: a user who submits one request at a
time (a video pipeline awaiting each frame batch) still takes turns with users who queued many,
and a user who was idle for an hour comes back at the current tag instead of with an hour of
credit. Costs let a 720p frame batch count for more than a small photo.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from artisto.errors import QueueFull

T = TypeVar("T")


@dataclass(eq=False)
class Request(Generic[T]):
    """One unit of queued work; ``key`` groups requests that may share a forward pass."""

    payload: T
    user_id: int
    priority: int
    """Lower runs first."""
    key: Hashable
    size: int = 1
    """What counts against the batch limit (frames)."""
    cost: float = 1.0
    """What counts for fairness (work: frames × pixels)."""
    enqueued: float = 0.0
    deadline: float | None = None
    seq: int = field(default=-1, init=False)
    start_tag: float = field(default=0.0, init=False)

    @property
    def finish_tag(self) -> float:
        return self.start_tag + self.cost


def _order(request: Request[T]) -> tuple[float, int]:
    return (request.start_tag, request.seq)


@dataclass
class _Lane(Generic[T]):
    """The requests of one priority and its fair-queuing clock."""

    pending: dict[int, Request[T]] = field(default_factory=dict)
    vtime: float = 0.0
    served: dict[int, float] = field(default_factory=dict)
    """Finish tag of each user's last dispatched request, kept while it is ahead of ``vtime``."""

    def finish_of(self, user_id: int) -> float:
        """Where the user's next request starts: after everything of theirs queued or served.

        Computed from what is pending rather than stored, so that a withdrawn request is
        never charged to its user.
        """
        tags = [r.finish_tag for r in self.pending.values() if r.user_id == user_id]
        return max([self.vtime, self.served.get(user_id, self.vtime), *tags])


class Scheduler(Generic[T]):
    """Requests waiting to run. Not thread-safe: the pool calls it under its lock."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"queue capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._lanes: dict[int, _Lane[T]] = {}
        self._count = 0
        self._seq = 0

    def __len__(self) -> int:
        return self._count

    def depth(self, priority: int) -> int:
        lane = self._lanes.get(priority)
        return len(lane.pending) if lane else 0

    def push(self, request: Request[T]) -> None:
        """Queue a request, or raise ``QueueFull`` at once when there is no room."""
        if self._count >= self.capacity:
            raise QueueFull(
                f"The queue is full ({self.capacity} requests waiting); please try again soon."
            )
        lane = self._lanes.setdefault(request.priority, _Lane())
        request.seq = self._seq
        self._seq += 1
        request.start_tag = lane.finish_of(request.user_id)
        lane.pending[request.seq] = request
        self._count += 1

    def remove(self, request: Request[T]) -> bool:
        """Withdraw a request that has not been taken; False if it was not pending."""
        lane = self._lanes.get(request.priority)
        if lane is None or lane.pending.pop(request.seq, None) is not request:
            return False
        self._count -= 1
        return True

    def expire(self, now: float) -> list[Request[T]]:
        """Remove and return the requests whose deadline has passed."""
        overdue = [
            r
            for lane in self._lanes.values()
            for r in lane.pending.values()
            if r.deadline is not None and r.deadline <= now
        ]
        for request in overdue:
            self.remove(request)
        return overdue

    def next_deadline(self) -> float | None:
        """The earliest deadline among the pending requests (None: none has one)."""
        return min(
            (
                r.deadline
                for lane in self._lanes.values()
                for r in lane.pending.values()
                if r.deadline is not None
            ),
            default=None,
        )

    def drain(self) -> list[Request[T]]:
        """Remove and return everything pending, in the order it would have run."""
        everything = [
            r
            for p in sorted(self._lanes)
            for r in sorted(self._lanes[p].pending.values(), key=_order)
        ]
        for request in everything:
            self.remove(request)
        return everything

    def take(
        self, now: float, *, max_batch: int = 1, max_wait: float = 0.0
    ) -> tuple[list[Request[T]], float | None]:
        """The next batch to run, or ``([], when)``: look again at ``when`` (None: after a push).

        The batch is the first request of the highest priority in fair order, plus the
        following requests of that priority with the same key, up to ``max_batch`` in total
        size. A batch that could still grow waits for mates until its first request is
        ``max_wait`` old; under load requests are already old enough and nothing waits.
        """
        for priority in sorted(self._lanes):
            lane = self._lanes[priority]
            if not lane.pending:
                continue
            head = min(lane.pending.values(), key=_order)
            batch, size = [head], head.size
            if size < max_batch:
                mates = sorted(
                    (r for r in lane.pending.values() if r.key == head.key and r is not head),
                    key=_order,
                )
                skipped: set[int] = set()  # a user's requests stay in order: none jumps another
                for mate in mates:
                    if size >= max_batch:
                        break
                    if mate.user_id not in skipped and size + mate.size <= max_batch:
                        batch.append(mate)
                        size += mate.size
                    else:
                        skipped.add(mate.user_id)
            ready_at = head.enqueued + max_wait
            if size < max_batch and now < ready_at:
                return [], ready_at
            for request in batch:
                del lane.pending[request.seq]
            self._count -= len(batch)
            lane.vtime = head.start_tag
            for request in batch:
                served = lane.served.get(request.user_id, lane.vtime)
                lane.served[request.user_id] = max(served, request.finish_tag)
            lane.served = {u: f for u, f in lane.served.items() if f > lane.vtime}
            return batch, None
        return [], None
