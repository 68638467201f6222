"""What the inference pool asks of an engine, how a thread gets one, and the pool's settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias, cast, runtime_checkable

if TYPE_CHECKING:
    from inference.frames import Frames


@runtime_checkable
class BatchEngine(Protocol):
    """What a thread of the pool needs from an engine; ``inference.engine.Engine`` is the real
    one.

    Called from a single thread only. A worker calls ``begin_warmup`` once, ``warm`` on each
    style it named, then ``stylize_batch``; the stand-in only ``stylize_batch``, so its engine
    stays a one-shot command's (nothing to compile). An engine may expose ``device`` (a
    ``torch.device``); the pool reads it to decide whether batching pays.
    """

    def stylize_batch(self, style: str, frames: Frames, /) -> Frames: ...

    def begin_warmup(self, styles: Iterable[str] | None, /) -> list[str]: ...

    def warm(self, style: str, /) -> None: ...


EngineSource: TypeAlias = BatchEngine | Callable[[], BatchEngine]
"""An engine, or a factory called in the thread that runs it (so the engine is born where it
runs; a factory makes a new engine on each call)."""


def make_engine(source: EngineSource) -> BatchEngine:
    # A class has the protocol's methods as attributes too, but it is a factory.
    if not isinstance(source, type) and isinstance(source, BatchEngine):
        return source
    return cast(Callable[[], BatchEngine], source)()


@dataclass(frozen=True)
class PoolConfig:
    queue_size: int = 256
    """Requests waiting (not running) before ``stylize`` raises ``QueueFull``."""
    max_batch: int = 8
    """Most frames in one ``stylize_batch`` call when batching."""
    max_wait_ms: float = 5.0
    """How long a batch that could still grow waits for mates."""
    job_timeout_s: float = 600.0
    """Default per-request budget, waiting and running together."""
    warmup_styles: tuple[str, ...] | None = None
    """Passed to each engine's ``begin_warmup``; None lets the engine choose (all styles)."""
    batching: bool | None = None
    """None: batch on CUDA engines only. On the CPU a batch takes as long as its frames one by
    one, so waiting for mates would only add latency."""

    def __post_init__(self) -> None:
        if self.queue_size < 1 or self.max_batch < 1:
            raise ValueError("queue_size and max_batch must be at least 1")
        if self.max_wait_ms < 0 or self.job_timeout_s <= 0:
            raise ValueError("max_wait_ms must be >= 0 and job_timeout_s > 0")


def batch_limit(config: PoolConfig, engine: object) -> int:
    """Frames per forward pass for a thread running ``engine``."""
    batching = config.batching
    if batching is None:
        device = getattr(engine, "device", None)
        batching = getattr(device, "type", None) == "cuda"
    return config.max_batch if batching else 1
