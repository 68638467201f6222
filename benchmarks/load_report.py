"""What the load test saw, counted: from the chats (what users received) and from the jobs
table (what the fleet recorded), each checked against the other.

A job is **lost** when its user was told it was queued and then heard nothing: no painting, no
apology, no cancellation, by the end of the run; or when the table says done and the chat has
no painting; or when it is still queued or running after the drain. **Delivered twice** counts
originals that got two paintings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from benchmarks.load_users import JsonDict, Observer, User, replies_to

RESULT_KEYS = ("photo", "video", "animation", "video_note", "document")


@dataclass
class Outcome:
    users: int = 0
    clips: int = 0
    double_taps: int = 0
    cancel_taps: int = 0
    accepted: int = 0
    extra_jobs: int = 0
    done: int = 0
    cancelled: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0
    lost: int = 0
    twice: int = 0
    retried: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"photo": [], "clip": []})


def results(observer: Observer, user: User) -> list[JsonDict]:
    return [
        m
        for m in observer.messages[user.id]
        if not m["_edit"] and replies_to(m, user.media) and any(k in m for k in RESULT_KEYS)
    ]


def count(users: list[User], jobs: list[Any], observer: Observer) -> Outcome:
    """``jobs``: rows of (chat_id, status, error_code, attempts) for every job of the run."""
    outcome = Outcome(users=len(users))
    by_chat: dict[int, list[Any]] = {}
    for job in jobs:
        by_chat.setdefault(job["chat_id"], []).append(job)
    for user in users:
        outcome.clips += user.video
        outcome.double_taps += user.double_tap
        outcome.cancel_taps += user.cancel_answer is not None
        if user.answer is None:
            outcome.unanswered += 1
            continue
        own = by_chat.get(user.id, [])
        outcome.extra_jobs += max(0, len(own) - 1)
        if not own:
            outcome.lost += user.answer == "Queued"  # told queued, yet no job
            continue
        job = own[0]
        outcome.accepted += 1
        outcome.retried += job["attempts"] > 1
        delivered = results(observer, user)
        outcome.twice += len(delivered) > 1
        if job["status"] == "done":
            outcome.done += 1
            if not delivered:
                outcome.lost += 1
            elif user.tapped_at is not None:
                kind = "clip" if user.video else "photo"
                outcome.latencies[kind].append(delivered[0]["_time"] - user.tapped_at)
        elif job["status"] == "failed":
            outcome.failed[job["error_code"] or "unknown"] += 1
        elif job["status"] == "cancelled":
            outcome.cancelled += 1
        else:
            outcome.lost += 1  # still queued or running after the drain
    return outcome


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Scaling:
    workers: int
    jobs: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.jobs / self.seconds


def table(outcome: Outcome, scaling: list[Scaling], window: dict[str, float]) -> str:
    failed = ", ".join(f"{code} {n}" for code, n in outcome.failed.most_common()) or "0"
    every = outcome.latencies["photo"] + outcome.latencies["clip"]
    lines = [
        "| users | clips | double taps | cancel taps | accepted | done | failed (by reason) "
        "| cancelled | lost | delivered twice | re-run after the fence |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {outcome.users} | {outcome.clips} | {outcome.double_taps} "
        f"(extra jobs: {outcome.extra_jobs}) | {outcome.cancel_taps} | {outcome.accepted} "
        f"| {outcome.done} | {failed} | {outcome.cancelled} | {outcome.lost} | {outcome.twice} "
        f"| {window.get('artisto_delivery_retries_total', 0):.0f} |",
        "",
        "| time to result | p50 | p95 | done |",
        "| --- | --- | --- | --- |",
    ]
    for label, values in (
        ("photos", outcome.latencies["photo"]),
        ("clips", outcome.latencies["clip"]),
        ("all", every),
    ):
        lines.append(
            f"| {label} | {percentile(values, 0.5):.1f} s | {percentile(values, 0.95):.1f} s "
            f"| {len(values)} |"
        )
    lines += [
        "",
        "| workers (1 thread each) | photo jobs | seconds | jobs/s |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {s.workers} | {s.jobs} | {s.seconds:.1f} | {s.per_second:.2f} |" for s in scaling]
    if len(scaling) == 2:
        lines.append(f"\nScaling: {scaling[1].per_second / scaling[0].per_second:.2f}x.")
    return "\n".join(lines)
