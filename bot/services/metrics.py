"""Prometheus metrics: what the worker counts as jobs end and leases move, and gauges read at
scrape time.

Each app owns its ``CollectorRegistry`` instead of the process-wide default: two apps in one
process (tests, a worker beside a bot) never clash over names, and a scrape shows only this
app's numbers. Gauges that describe the present (the durable queue, the pool, GPU memory) are
set by ``refresh`` just before a scrape renders them, so nothing polls in the background.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.db import MediaKind
from inference.pool import InferencePool, PoolState, Priority

WINDOW_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds from the lease check to Telegram's answer: an upload, from a photo to a clip."""
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
"""Seconds: a photo takes about a second, a clip up to minutes, a long wait in the queue more."""
OUTCOMES = ("done", "failed", "cancelled")
UNKNOWN_KIND = "unknown"
"""The kind label of a job that failed before its media was read."""


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.queue_depth = Gauge(
            "artisto_queue_depth", "Jobs waiting in the durable queue (every process).", registry=r
        )
        self.pool_queue_depth = Gauge(
            "artisto_pool_queue_depth",
            "Frame batches waiting in this process's inference pool.",
            ["priority"],
            registry=r,
        )
        self.jobs_running = Gauge(
            "artisto_jobs_running", "Jobs this process is working on.", registry=r
        )
        self.pool_ready = Gauge(
            "artisto_pool_ready", "1 when the inference pool is READY, else 0.", registry=r
        )
        self.job_latency = Histogram(
            "artisto_job_latency_seconds",
            "Done jobs, from the tap on a style to the result delivered, by media kind.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stage_latency = Histogram(
            "artisto_job_stage_seconds",
            "Done jobs' time per stage (download, inference, upload), by media kind.",
            ["kind", "stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.finished = Counter(
            "artisto_jobs_finished",
            "Jobs that ended in this process, by media kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.failures = Counter(
            "artisto_job_failures", "Failed jobs by reason code.", ["reason"], registry=r
        )
        self.requeued = Counter(
            "artisto_jobs_requeued",
            "Jobs put back in the queue without spending a try: busy pool, shutdown, database.",
            ["reason"],
            registry=r,
        )
        self.lease_expiries = Counter(
            "artisto_lease_expiries",
            "Jobs this process found with a lapsed lease (their worker went silent): put back "
            "in the queue, or failed after their last try.",
            ["outcome"],
            registry=r,
        )
        self.leases_lost = Counter(
            "artisto_leases_lost",
            "Jobs this worker stopped because their lease lapsed and another worker has them.",
            registry=r,
        )
        self.delivery_window_s = Histogram(
            "artisto_delivery_window_seconds",
            "Delivered results: from the lease check before the send to Telegram's answer. A "
            "worker that dies inside this window may leave a result that is sent again.",
            buckets=WINDOW_BUCKETS,
            registry=r,
        )
        self.delivery_overruns = Counter(
            "artisto_delivery_window_overruns",
            "Sends answered after this worker's lease had lapsed by its clock.",
            registry=r,
        )
        self.deliveries_fenced = Counter(
            "artisto_deliveries_fenced",
            "Results held back at the lease check: the job was cancelled meanwhile, or put back "
            "and no longer this worker's.",
            registry=r,
        )
        self.delivery_retries = Counter(
            "artisto_delivery_retries",
            "Jobs claimed again after an earlier try had passed the lease check: their result "
            "may reach the chat twice.",
            registry=r,
        )
        self.listening = Gauge(
            "artisto_listening",
            "1 while this process hears the fleet's signals (LISTEN on PostgreSQL).",
            registry=r,
        )
        self.gpu_memory = Gauge(
            "artisto_gpu_memory_bytes",
            "CUDA memory PyTorch holds, per device (allocated, reserved); absent without CUDA.",
            ["device", "type"],
            registry=r,
        )
        for kind in MediaKind:  # every series exists from the start, so rates see the first job
            for outcome in OUTCOMES:
                self.finished.labels(kind.value, outcome)
        for priority in Priority:
            self.pool_queue_depth.labels(priority.name.lower())
        for outcome in ("requeued", "failed"):
            self.lease_expiries.labels(outcome)

    # --- what the worker reports ---------------------------------------------------------

    def job_done(self, kind: MediaKind, latency_s: float, stages_ms: dict[str, int | None]) -> None:
        """``stages_ms``: milliseconds per stage name; None for a stage that did not run."""
        self.finished.labels(kind.value, "done").inc()
        self.job_latency.labels(kind.value).observe(max(latency_s, 0.0))
        for stage, ms in stages_ms.items():
            if ms is not None:
                self.stage_latency.labels(kind.value, stage).observe(ms / 1000)

    def job_failed(self, kind: MediaKind | None, code: str) -> None:
        self.finished.labels(kind.value if kind else UNKNOWN_KIND, "failed").inc()
        self.failures.labels(code).inc()

    def job_cancelled(self, kind: MediaKind | None) -> None:
        self.finished.labels(kind.value if kind else UNKNOWN_KIND, "cancelled").inc()

    def job_requeued(self, reason: str) -> None:
        self.requeued.labels(reason).inc()

    def leases_expired(self, *, requeued: int, failed: int) -> None:
        self.lease_expiries.labels("requeued").inc(requeued)
        self.lease_expiries.labels("failed").inc(failed)

    def lease_lost(self) -> None:
        self.leases_lost.inc()

    def delivery_window(self, seconds: float, *, overrun: bool) -> None:
        self.delivery_window_s.observe(max(seconds, 0.0))
        if overrun:
            self.delivery_overruns.inc()

    def delivery_fenced(self) -> None:
        self.deliveries_fenced.inc()

    def delivery_retried(self) -> None:
        self.delivery_retries.inc()

    # --- scrape time ---------------------------------------------------------------------

    def refresh(
        self, *, queued: int | None, running: int, pool: InferencePool | None, listening: bool
    ) -> None:
        """Set the gauges of the present; ``queued`` None keeps the last known depth (the
        database did not answer). A bot process has no ``pool``."""
        if queued is not None:
            self.queue_depth.set(queued)
        self.jobs_running.set(running)
        self.listening.set(1 if listening else 0)
        if pool is None:
            return
        self.pool_ready.set(1 if pool.state is PoolState.READY else 0)
        for priority, depth in pool.queue_depths.items():
            self.pool_queue_depth.labels(priority.name.lower()).set(depth)
        for device, allocated, reserved in gpu_memory():
            self.gpu_memory.labels(device, "allocated").set(allocated)
            self.gpu_memory.labels(device, "reserved").set(reserved)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def gpu_memory() -> Iterable[tuple[str, int, int]]:
    """(device, allocated bytes, reserved bytes) per CUDA device, once CUDA is in use.

    Read only where the engine already initialised CUDA: asking an idle driver would create a
    context (hundreds of MB) on a CPU-only deployment that merely has a GPU.
    """
    import torch  # the engine has loaded it already; the bot's other modules need not

    if not torch.cuda.is_initialized():  # type: ignore[no-untyped-call]  # untyped in torch
        return []
    return [
        (f"cuda:{i}", torch.cuda.memory_allocated(i), torch.cuda.memory_reserved(i))
        for i in range(torch.cuda.device_count())
    ]
