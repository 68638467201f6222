"""One claimed job on its way: what its steps need, and how long each took."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.db import Job, Media, ResultKind
from bot.i18n import Texts
from bot.services.status import MessageRef
from bot.services.worker.lease import Lease
from inference.registry import StylePack


@dataclass
class Timings:
    """Milliseconds per stage; None for a stage not reached."""

    download_ms: int | None = None
    inference_ms: int | None = None
    upload_ms: int | None = None

    def by_stage(self) -> dict[str, int | None]:
        return {
            "download": self.download_ms,
            "inference": self.inference_ms,
            "upload": self.upload_ms,
        }


@dataclass
class ClaimedJob:
    """A job with its lease, media, style and user's language, read once when it is claimed."""

    job: Job
    lease: Lease
    media: Media
    pack: StylePack
    texts: Texts
    status: MessageRef | None
    kind: ResultKind
    timings: Timings = field(default_factory=Timings)


@contextlib.contextmanager
def stage(timings: Timings, name: str) -> Iterator[None]:
    """Time a stage into ``timings.<name>`` in milliseconds, even when it fails."""
    started = time.perf_counter()
    try:
        yield
    finally:
        setattr(timings, name, round((time.perf_counter() - started) * 1000))
