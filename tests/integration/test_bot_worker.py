"""The worker when the painter is busy: a full pool puts the job back without spending a try,
a running video is cancelled from its status message, and a shutdown lets a running job
finish after intake has stopped.

The real tiny engine sits behind a gate the test opens: a device that stays busy until told,
so "running" is a state the test holds, not a race it hopes to win.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np

from bot.db import Job, JobStatus
from bot.web import serve
from playground import ALICE, BORIS
from tests.bot_harness import (
    data_with,
    gated,
    jpeg,
    make_registry,
    mp4,
    opened_at_exit,
    replies_to,
    running_bot,
    sqlite_url,
    stylizing,
    until,
)


async def test_a_full_pool_puts_the_job_back_without_spending_a_try(tmp_path: Path) -> None:
    registry, gate = make_registry(tmp_path / "packs"), threading.Event()
    async with (
        running_bot(
            sqlite_url(tmp_path),
            tmp_path,
            registry=registry,
            engine_factory=gated(registry, gate),
            inference={"queue_size": 1},
            start_worker=False,
            status_interval_s=0.0,
            busy_retry_s=1.0,
        ) as h,
        opened_at_exit(gate),
    ):
        # Someone else's work holds the device, and more of it fills the pool's one place.
        pixels = np.zeros((1, 8, 8, 3), np.uint8)
        others = [asyncio.create_task(h.app.pool.stylize("ember", pixels, user_id=BORIS))]
        await until(lambda: h.app.pool.in_flight == 1)
        others.append(asyncio.create_task(h.app.pool.stylize("ember", pixels, user_id=BORIS)))
        await until(lambda: h.app.pool.queue_depth == 1)

        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=8), "f.jpg"))
        keyboard = await h.keyboard_under(photo)
        await h.answer(h.press(ALICE, keyboard, h.style_button(keyboard, "ember")))
        await h.app.worker.start()
        # Events are checked once each, in order: the status went to work, then came back.
        started = False

        def queued_again(m: dict[str, object]) -> bool:
            nonlocal started
            started = started or stylizing(keyboard["message_id"])(m)
            return started and m["message_id"] == keyboard["message_id"] and "Queued" in str(m)

        back = await h.emulator.wait_for(queued_again)
        assert back["text"] == "Queued: you're next."
        requeued = h.app.metrics.registry.get_sample_value
        assert (requeued("artisto_jobs_requeued_total", {"reason": "busy"}) or 0) >= 1

        gate.set()
        await asyncio.gather(*others)
        result = await h.result_for(photo)
        assert result["caption"].startswith("🎨 Ember")
        await h.deleted(ALICE, keyboard["message_id"])  # after the row is marked done
        (job,) = await h.rows(Job)
        assert (job.status, job.attempts, job.error_code) == (JobStatus.DONE, 1, None)


async def test_cancelling_a_running_video_stops_its_pipeline(tmp_path: Path) -> None:
    registry, gate = make_registry(tmp_path / "packs"), threading.Event()
    async with (
        running_bot(
            sqlite_url(tmp_path),
            tmp_path,
            registry=registry,
            engine_factory=gated(registry, gate),
            status_interval_s=0.0,
        ) as h,
        opened_at_exit(gate),
    ):
        clip = h.emulator.send_user_message(ALICE, ALICE, video=(mp4(frames=8), "c.mp4"))
        keyboard = await h.keyboard_under(clip)
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        status = await h.emulator.wait_for(stylizing(keyboard["message_id"]))
        assert h.app.worker.running == 1

        answer = await h.answer(h.press(ALICE, status, data_with(status, "cx:")))
        assert answer["text"] == "Cancelled."
        # The gate is still shut: only a cancelled pipeline lets the job's task end.
        await until(lambda: h.app.worker.running == 0)
        await h.emulator.wait_for(
            lambda m: m["message_id"] == keyboard["message_id"] and m.get("text") == "Cancelled."
        )
        (job,) = await h.rows(Job)
        assert job.status == JobStatus.CANCELLED
        sample = h.app.metrics.registry.get_sample_value
        cancelled = {"kind": "video", "outcome": "cancelled"}
        assert sample("artisto_jobs_finished_total", cancelled) == 1
        assert not any(replies_to(clip)(m) and "video" in m for m in h.emulator.chat_history(ALICE))


async def test_shutdown_stops_intake_and_lets_the_running_job_finish(tmp_path: Path) -> None:
    registry, gate = make_registry(tmp_path / "packs"), threading.Event()
    async with (
        running_bot(
            sqlite_url(tmp_path),
            tmp_path,
            registry=registry,
            engine_factory=gated(registry, gate),
            polling=False,
            shutdown_grace_s=10.0,
            status_interval_s=0.0,
        ) as h,
        opened_at_exit(gate),
    ):
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(h.app, stop=stop, handle_signals=False, http=False))
        photo = h.emulator.send_user_message(ALICE, ALICE, photo=(jpeg(seed=12), "g.jpg"))
        keyboard = await h.keyboard_under(photo)
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        await h.emulator.wait_for(stylizing(keyboard["message_id"]))

        stop.set()
        await serving  # intake is over
        late = h.emulator.send_user_message(BORIS, BORIS, photo=(jpeg(seed=13), "h.jpg"))
        closing = asyncio.create_task(h.app.aclose())
        await asyncio.sleep(0.3)
        assert not closing.done(), "the worker waits for its running job"
        gate.set()
        await closing

        result = [
            m for m in h.emulator.chat_history(ALICE) if replies_to(photo)(m) and "photo" in m
        ]
        assert len(result) == 1
        (job,) = await h.rows(Job)
        assert (job.status, job.attempts) == (JobStatus.DONE, 1)
        assert [m["message_id"] for m in h.emulator.chat_history(BORIS)] == [late["message_id"]]
