"""Per kind, the pipeline that paints a downloaded file: a photo (or image file) in one pass,
a video, GIF or video note frame batch by frame batch; each with its options from the
settings and every forward pass through the shared inference pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from bot.config import LOCAL_SERVER_MAX_MB, Settings
from bot.db import MediaKind, ResultKind
from bot.services.intake import MB, IntakeLimits
from bot.services.worker.claimed import ClaimedJob
from inference.media.video import VideoKind, VideoLimits, VideoOptions, stylize_video_pooled
from inference.photo import PhotoOptions, stylize_photo_async
from inference.pool import InferencePool, Priority
from inference.registry import StylePack

VIDEO_KIND: dict[MediaKind, VideoKind] = {
    MediaKind.VIDEO: "video",
    MediaKind.VIDEO_DOCUMENT: "video",
    MediaKind.ANIMATION: "animation",
    MediaKind.VIDEO_NOTE: "video_note",
}
Progress = Callable[[int, int], None]
"""Called with (frames done, frames in all) after each batch of a video."""


def photo_options(settings: Settings, pack: StylePack, *, png: bool) -> PhotoOptions:
    return PhotoOptions(
        max_side=settings.inference.max_side,
        work_side=pack.meta.work_side,
        fmt="png" if png else "jpeg",
        quality=settings.inference.jpeg_quality,
        max_megapixels=settings.limits.max_megapixels,
    )


def video_options(settings: Settings, intake: IntakeLimits) -> VideoOptions:
    """The result must fit what the Bot API server accepts as an upload."""
    limits = settings.limits
    upload_mb = LOCAL_SERVER_MAX_MB if settings.bot.api_local_mode else limits.max_upload_mb
    return VideoOptions(
        limits=VideoLimits(
            max_seconds=limits.max_video_seconds,
            max_video_note_seconds=limits.max_video_note_seconds,
            max_input_bytes=intake.max_bytes,
            max_fps=limits.max_fps,
        ),
        max_side=settings.inference.video_max_side,
        crf=settings.inference.video_crf,
        preset=settings.inference.video_preset,
        max_output_bytes=upload_mb * MB,
        temporal_pass=settings.inference.temporal_pass,
    )


class Stylist:
    """Every forward pass goes through the pool, queued as the job's user (fairness) and kind
    (a photo before a video's frames)."""

    def __init__(self, pool: InferencePool, settings: Settings, intake: IntakeLimits) -> None:
        self.pool = pool
        self.settings = settings
        self.intake = intake

    async def photo(self, run: ClaimedJob, source: Path, folder: Path) -> Path:
        """A PNG sent as a file comes back as a PNG; everything else as a JPEG."""
        png = run.kind == ResultKind.DOCUMENT and run.media.mime_type == "image/png"
        options = photo_options(self.settings, run.pack, png=png)
        job = run.job
        result = await stylize_photo_async(
            source,
            lambda frames: self.pool.stylize(
                job.style, frames, user_id=job.user_id, priority=Priority.PHOTO
            ),
            options,
        )
        output = folder / ("result.png" if png else "result.jpg")
        await asyncio.to_thread(output.write_bytes, result.data)
        return output

    async def video(self, run: ClaimedJob, source: Path, folder: Path, progress: Progress) -> Path:
        output = folder / "result.mp4"
        job = run.job
        await stylize_video_pooled(
            source,
            output,
            lambda frames: self.pool.submit(
                job.style, frames, user_id=job.user_id, priority=Priority.VIDEO
            ),
            kind=VIDEO_KIND[run.media.kind],
            options=video_options(self.settings, self.intake),
            progress=progress,
        )
        return output
