"""The pool's queue, step by step: priorities, fairness, batching, admission, withdrawal."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artisto.errors import QueueFull
from inference.scheduling import Request, Scheduler

PHOTO, VIDEO = 0, 1


def req(
    name: str,
    user: int,
    priority: int = VIDEO,
    *,
    key: Hashable = "k",
    size: int = 1,
    cost: float = 1.0,
    at: float = 0.0,
    deadline: float | None = None,
) -> Request[str]:
    return Request(
        payload=name,
        user_id=user,
        priority=priority,
        key=key,
        size=size,
        cost=cost,
        enqueued=at,
        deadline=deadline,
    )


def take_one(s: Scheduler[str], now: float = 100.0) -> str:
    batch, wake = s.take(now)
    assert len(batch) == 1, (batch, wake)
    return batch[0].payload


def run_all(s: Scheduler[str]) -> list[str]:
    return [take_one(s) for _ in range(len(s))]


def push_all(s: Scheduler[str], *requests: Request[str]) -> None:
    for r in requests:
        s.push(r)


def test_photos_run_before_video_frames() -> None:
    s: Scheduler[str] = Scheduler(10)
    push_all(s, req("v1", 1, VIDEO), req("v2", 2, VIDEO), req("p1", 3, PHOTO))
    assert run_all(s) == ["p1", "v1", "v2"]


def test_round_robin_between_users_of_equal_cost() -> None:
    s: Scheduler[str] = Scheduler(10)
    push_all(s, *(req(f"a{i}", 1) for i in range(3)), *(req(f"b{i}", 2) for i in range(3)))
    assert run_all(s) == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_newcomers_go_before_a_long_video_remainder() -> None:
    s: Scheduler[str] = Scheduler(20)
    push_all(s, *(req(f"a{i}", 1) for i in range(10)))
    assert take_one(s) == "a0"  # running while the others arrive
    push_all(s, req("b-photo", 2, PHOTO), req("c0", 3))
    assert take_one(s) == "b-photo"
    assert take_one(s) == "c0"
    assert run_all(s) == [f"a{i}" for i in range(1, 10)]


def test_one_at_a_time_submitter_takes_turns_with_a_deep_queue() -> None:
    """A video pipeline that awaits each batch before sending the next still gets its share."""
    s: Scheduler[str] = Scheduler(20)
    push_all(s, *(req(f"c{i}", 3) for i in range(6)))
    order = []
    for i in range(6):
        s.push(req(f"a{i}", 1))
        order += [take_one(s), take_one(s)]
    for pair in zip(order[0::2], order[1::2], strict=True):
        assert {p[0] for p in pair} == {"a", "c"}, order


def test_an_idle_user_earns_no_credit() -> None:
    s: Scheduler[str] = Scheduler(20)
    for i in range(50):  # user 1 alone for a long time
        s.push(req(f"old{i}", 1))
        take_one(s)
    push_all(s, *(req(f"b{i}", 2) for i in range(4)), *(req(f"a{i}", 1) for i in range(4)))
    order = run_all(s)
    assert order.index("a0") <= 2, order  # b does not get 50 turns in a row
    assert [o for o in order if o[0] == "b"] == ["b0", "b1", "b2", "b3"]


def test_fairness_is_weighted_by_cost() -> None:
    s: Scheduler[str] = Scheduler(20)
    push_all(s, *(req(f"A{i}", 1, cost=3) for i in range(2)), *(req(f"b{i}", 2) for i in range(6)))
    assert [o[0] for o in run_all(s)] == list("AbbbAbbb")


def test_same_key_requests_batch_up_to_max_batch_in_fair_order() -> None:
    s: Scheduler[str] = Scheduler(20)
    push_all(
        s,
        req("x1", 1, key="x", size=2),
        req("y1", 2, key="y"),
        req("x2", 3, key="x", size=3),  # would overflow max_batch=4 after x1: left out
        req("x3", 4, key="x", size=1),
        req("x4", 5, key="x", size=1),
        req("x5", 6, key="x", size=1),
    )
    batch, _ = s.take(100.0, max_batch=4)
    assert [r.payload for r in batch] == ["x1", "x3", "x4"]
    batch, _ = s.take(100.0, max_batch=4)
    assert [r.payload for r in batch] == ["y1"]
    batch, _ = s.take(100.0, max_batch=4)
    assert [r.payload for r in batch] == ["x2", "x5"]
    assert len(s) == 0


def test_batches_never_mix_priorities() -> None:
    s: Scheduler[str] = Scheduler(20)
    push_all(s, req("p", 1, PHOTO), req("v", 2, VIDEO))
    batch, _ = s.take(100.0, max_batch=8)
    assert [r.payload for r in batch] == ["p"]


def test_a_request_bigger_than_max_batch_runs_alone() -> None:
    s: Scheduler[str] = Scheduler(20)
    push_all(s, req("big", 1, size=16), req("small", 2, size=1))
    batch, _ = s.take(100.0, max_batch=8)
    assert [r.payload for r in batch] == ["big"]


def test_a_growable_batch_waits_for_mates_until_max_wait() -> None:
    s: Scheduler[str] = Scheduler(20)
    s.push(req("x1", 1, at=10.0))
    assert s.take(10.001, max_batch=4, max_wait=0.005) == ([], 10.005)
    s.push(req("x2", 2, at=10.002))
    assert s.take(10.003, max_batch=4, max_wait=0.005) == ([], 10.005)
    batch, wake = s.take(10.005, max_batch=4, max_wait=0.005)
    assert [r.payload for r in batch] == ["x1", "x2"] and wake is None


def test_a_full_batch_runs_without_waiting() -> None:
    s: Scheduler[str] = Scheduler(20)
    push_all(s, req("x1", 1, at=10.0), req("x2", 2, at=10.0))
    batch, _ = s.take(10.0, max_batch=2, max_wait=60.0)
    assert len(batch) == 2


def test_take_on_empty_queue_says_wait_for_a_push() -> None:
    assert Scheduler[str](4).take(0.0, max_batch=4, max_wait=1.0) == ([], None)


def test_full_queue_refuses_at_once_and_frees_room_when_taken() -> None:
    s: Scheduler[str] = Scheduler(2)
    push_all(s, req("a", 1), req("b", 2))
    with pytest.raises(QueueFull, match="full"):
        s.push(req("c", 3))
    take_one(s)
    s.push(req("c", 3))
    assert len(s) == 2


def test_removed_requests_never_run_and_are_not_charged() -> None:
    s: Scheduler[str] = Scheduler(20)
    mine = [req(f"a{i}", 1) for i in range(5)]
    push_all(s, *mine, req("b0", 2))
    assert all(s.remove(r) for r in mine)
    assert not s.remove(mine[0])
    assert s.depth(VIDEO) == 1
    push_all(s, req("a-new", 1), req("b1", 2))
    # user 1 withdrew everything: they start level with user 2, not five turns behind
    assert run_all(s) == ["b0", "a-new", "b1"]


def test_a_taken_request_cannot_be_removed() -> None:
    s: Scheduler[str] = Scheduler(4)
    r = req("a", 1)
    s.push(r)
    s.take(0.0)
    assert not s.remove(r)


def test_expire_returns_only_overdue_requests() -> None:
    s: Scheduler[str] = Scheduler(10)
    push_all(s, req("late", 1, deadline=5.0), req("ok", 2, deadline=50.0), req("none", 3))
    assert [r.payload for r in s.expire(5.0)] == ["late"]
    assert run_all(s) == ["ok", "none"]


def test_next_deadline_is_the_earliest_pending_one() -> None:
    s: Scheduler[str] = Scheduler(10)
    assert s.next_deadline() is None
    push_all(
        s, req("none", 1), req("later", 2, deadline=50.0), req("sooner", 3, PHOTO, deadline=9.0)
    )
    assert s.next_deadline() == 9.0
    assert [r.payload for r in s.take(0.0)[0]] == ["sooner"]
    assert s.next_deadline() == 50.0


def test_drain_returns_everything_in_run_order() -> None:
    s: Scheduler[str] = Scheduler(10)
    push_all(s, req("v", 1, VIDEO), req("a", 2, PHOTO), req("b", 3, PHOTO))
    assert [r.payload for r in s.drain()] == ["a", "b", "v"]
    assert len(s) == 0 and s.depth(PHOTO) == 0


ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("push"),
            st.integers(0, 3),  # user
            st.integers(0, 1),  # priority
            st.sampled_from(["x", "y"]),  # key
            st.integers(1, 3),  # size
        ),
        st.tuples(st.just("take"), st.integers(1, 4)),
        st.tuples(st.just("remove"), st.integers(0, 50)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_every_request_leaves_once_in_a_legal_order(program: list[tuple[Any, ...]]) -> None:
    s: Scheduler[int] = Scheduler(12)
    pushed: list[Request[int]] = []
    pending: set[int] = set()
    gone: list[int] = []
    for op in program:
        if op[0] == "push":
            _, user, priority, key, size = op
            r = Request(payload=len(pushed), user_id=user, priority=priority, key=key, size=size)
            try:
                s.push(r)
            except QueueFull:
                assert len(pending) == 12
                continue
            pushed.append(r)
            pending.add(r.payload)
        elif op[0] == "take":
            max_batch = op[1]
            batch, _ = s.take(0.0, max_batch=max_batch)
            if not pending:
                assert batch == []
                continue
            top = min(pushed[i].priority for i in pending)
            assert batch and {r.priority for r in batch} == {top}
            assert len({r.key for r in batch}) == 1
            assert len(batch) == 1 or sum(r.size for r in batch) <= max_batch
            for r in batch:
                # within one user, priority and key, requests leave in arrival order
                earlier = [
                    i
                    for i in pending
                    if i < r.payload
                    and pushed[i].user_id == r.user_id
                    and pushed[i].priority == r.priority
                    and pushed[i].key == r.key
                    and pushed[i] not in batch
                ]
                assert not earlier
            for r in batch:
                pending.remove(r.payload)
                gone.append(r.payload)
        else:
            index = op[1]
            if index < len(pushed):
                assert s.remove(pushed[index]) == (index in pending)
                if index in pending:
                    pending.remove(index)
                    gone.append(index)
        assert len(s) == len(pending)
    gone += [r.payload for r in s.drain()]
    assert sorted(gone) == list(range(len(pushed)))
