"""The video pipeline on real files: tiny clips written by PyAV, stylized by inverting colours."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from artisto.errors import (
    ArtistoError,
    JobCancelled,
    MediaDecodeError,
    MediaTooLarge,
    QueueFull,
    UnsupportedMedia,
)
from inference.media.probe import probe_video
from inference.media.video import (
    VideoLimits,
    VideoOptions,
    stylize_video,
    stylize_video_pooled,
)
from inference.media.video_shrink import shrink_to_fit
from inference.media.video_temporal import TemporalFilter
from inference.pool import InferencePool, Priority
from inference.pool_engine import PoolConfig
from tests import fixtures_video as fx


def invert(frames: np.ndarray) -> np.ndarray:
    return 255 - frames


@dataclass
class Streams:
    """What a player sees: codecs, formats, sizes, durations and the decoded frames."""

    codec: str
    pix_fmt: str | None
    size: tuple[int, int]
    duration: float
    audio: str | None
    audio_duration: float
    times: list[float]
    images: list[np.ndarray]
    rotations: set[int]


def streams(path: Path) -> Streams:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        decoded = list(container.decode(video))
        audio_duration = 0.0
        if audio is not None and audio.duration is not None and audio.time_base is not None:
            audio_duration = float(audio.duration * audio.time_base)
        return Streams(
            codec=video.codec_context.name,
            pix_fmt=video.codec_context.pix_fmt,
            size=(video.codec_context.width, video.codec_context.height),
            duration=(container.duration or 0) / av.time_base,
            audio=audio.codec_context.name if audio is not None else None,
            audio_duration=audio_duration,
            times=[f.time or 0.0 for f in decoded],
            images=[f.to_ndarray(format="rgb24") for f in decoded],
            rotations={f.rotation for f in decoded},
        )


def moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()
    return 0 < data.find(b"moov") < data.find(b"mdat")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out.mp4"


# --- output streams ----------------------------------------------------------------------


def test_aac_clip_keeps_its_sound_and_comes_out_playable(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=1.5, fps=10, audio="aac")
    result = stylize_video(src, out, invert)
    got = streams(out)
    assert got.codec == "h264" and got.pix_fmt == "yuv420p"
    assert got.size == (64, 48) == (result.width, result.height)
    assert abs(got.duration - 1.5) <= 1 / 10
    assert got.audio == "aac" and result.audio_mode == "copy"
    assert abs(got.audio_duration - 1.5) <= 1 / 10
    assert moov_before_mdat(out)
    assert result.frames == len(got.images) == 15
    # Real pixel work went through: every frame is the inverse of its source, in order.
    for i, image in enumerate(got.images):
        expected = 255 - fx.frame_image(i, 64, 48).astype(np.int16)
        assert np.abs(image.astype(np.int16) - expected).mean() < 8, i


@pytest.mark.parametrize(("codec", "suffix"), [("mp3", ".mp4"), ("opus", ".mkv")])
def test_other_sound_is_reencoded_to_aac(
    tmp_path: Path, out: Path, codec: str, suffix: str
) -> None:
    src = fx.make_clip(tmp_path / f"in{suffix}", seconds=1.0, audio=codec)  # type: ignore[arg-type]
    assert probe_video(src, VideoLimits()).audio_codec == codec
    result = stylize_video(src, out, invert)
    got = streams(out)
    assert result.audio_mode == "aac" and got.audio == "aac"
    assert abs(got.audio_duration - 1.0) <= 1 / 10
    assert abs(got.duration - 1.0) <= 1 / 10


def test_silent_clip_stays_silent(tmp_path: Path, out: Path) -> None:
    result = stylize_video(fx.make_clip(tmp_path / "in.mp4"), out, invert)
    assert streams(out).audio is None and not result.has_audio


def test_rotated_phone_clip_comes_out_upright(tmp_path: Path, out: Path) -> None:
    # A phone held upright stores its picture sideways (64×48) with a display matrix saying
    # "turn it 90° clockwise" (-90 counter-clockwise); players show it 48×64.
    src = fx.make_clip(tmp_path / "in.mp4", width=64, height=48, rotation=-90)
    info = probe_video(src, VideoLimits())
    assert (info.width, info.height, info.rotation) == (64, 48, 270)
    assert info.display_size == (48, 64)
    stylize_video(src, out, invert)
    got = streams(out)
    assert got.size == (48, 64) and got.rotations == {0}  # upright pixels, no matrix left
    stored = fx.frame_image(0, 64, 48)
    upright = np.rot90(stored, -1)  # clockwise: the stored left edge becomes the top
    want = 255 - upright.astype(np.int16)
    assert np.abs(got.images[0].astype(np.int16) - want).mean() < 8


def test_variable_frame_rate_keeps_timestamps(tmp_path: Path, out: Path) -> None:
    times_ms = [0, 100, 150, 400, 450, 700, 1000, 1050]
    src = fx.make_clip(tmp_path / "in.mp4", pts_ms=times_ms)
    stylize_video(src, out, invert)
    got = streams(out)
    assert got.times == pytest.approx([t / 1000 for t in times_ms], abs=0.002)


def test_frame_rate_is_capped_by_dropping_frames_evenly(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", fps=60, seconds=1.0)
    result = stylize_video(src, out, invert)
    got = streams(out)
    assert result.frames == len(got.times) == 30
    gaps = np.diff(got.times)
    assert gaps == pytest.approx(np.full(29, 1 / 30), abs=0.002)
    assert abs(got.duration - 1.0) <= 1 / 30


@pytest.mark.parametrize(
    ("size", "max_side", "want"), [((63, 47), 720, (62, 46)), ((101, 75), 50, (50, 36))]
)
def test_odd_sizes_come_out_even(
    tmp_path: Path, out: Path, size: tuple[int, int], max_side: int, want: tuple[int, int]
) -> None:
    src = fx.make_clip(tmp_path / "in.mkv", width=size[0], height=size[1], pix_fmt="yuv444p")
    result = stylize_video(src, out, invert, options=VideoOptions(max_side=max_side))
    assert streams(out).size == want == (result.width, result.height)


def test_video_note_is_a_centred_square_with_sound(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", width=96, height=64, audio="aac")
    options = VideoOptions(video_note_side=48)
    result = stylize_video(src, out, invert, kind="video_note", options=options)
    got = streams(out)
    assert got.size == (48, 48) and result.kind == "video_note"
    assert got.audio == "aac"
    # Centre crop: the square shows the middle 64 columns of the source, scaled to 48.
    middle = Image.fromarray(fx.frame_image(0, 96, 64)[:, 16:80]).resize(
        (48, 48), Image.Resampling.BOX
    )
    expected = 255 - np.asarray(middle).astype(np.int16)
    assert np.abs(got.images[0].astype(np.int16) - expected).mean() < 8


def test_video_notes_may_run_a_minute_videos_half_that(tmp_path: Path) -> None:
    minute = fx.make_clip(tmp_path / "45s.mp4", fps=1, seconds=45)
    assert probe_video(minute, VideoLimits(), kind="video_note").duration == pytest.approx(
        45, abs=1
    )
    with pytest.raises(MediaTooLarge, match="up to 30 s"):
        probe_video(minute, VideoLimits(), kind="video")
    longer = fx.make_clip(tmp_path / "70s.mp4", fps=1, seconds=70)
    with pytest.raises(MediaTooLarge, match="1:10 long; up to 1:00"):
        probe_video(longer, VideoLimits(), kind="video_note")


def test_gif_becomes_a_silent_mp4(tmp_path: Path, out: Path) -> None:
    src = fx.make_gif(tmp_path / "in.gif", frames=12, fps=10)
    result = stylize_video(src, out, invert, kind="animation")
    got = streams(out)
    assert got.codec == "h264" and got.pix_fmt == "yuv420p" and got.audio is None
    assert result.frames == 12 and abs(got.duration - 1.2) <= 0.1


def test_animation_drops_the_sound_of_an_mp4(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", audio="aac")
    result = stylize_video(src, out, invert, kind="animation")
    assert streams(out).audio is None and result.audio_mode is None


# --- bad input ---------------------------------------------------------------------------


BAD_INPUTS = [
    ("truncated.mp4", fx.make_truncated, MediaDecodeError, "incomplete"),
    ("headless.mp4", fx.make_headless, MediaDecodeError, "damaged"),
    ("garbage.mp4", fx.make_garbage, MediaDecodeError, "damaged"),
    ("no_frames.mkv", fx.make_no_frames, MediaDecodeError, "no frames"),
    ("sound.m4a", fx.make_audio_only, UnsupportedMedia, "no picture"),
    ("unknown.mkv", fx.make_unknown_codec, UnsupportedMedia, "cannot read"),
    ("8k.mp4", lambda p: fx.make_clip(p, width=7680, height=4320, fps=1), MediaTooLarge, "7680"),
    (
        "dot.mkv",
        lambda p: fx.make_clip(p, width=1, height=1, pix_fmt="yuv444p"),
        UnsupportedMedia,
        "1×1",
    ),
    ("long.mp4", lambda p: fx.make_clip(p, fps=1, seconds=600), MediaTooLarge, "10:00"),
]


@pytest.mark.parametrize(
    ("name", "make", "error", "words"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_gets_a_typed_error_before_any_work(
    tmp_path: Path, out: Path, name: str, make: object, error: type[ArtistoError], words: str
) -> None:
    src = make(tmp_path / name)  # type: ignore[operator]
    calls: list[int] = []

    def counting(frames: np.ndarray) -> np.ndarray:
        calls.append(len(frames))
        return invert(frames)

    with pytest.raises(error, match=words):
        probe_video(src, VideoLimits())
    started = time.perf_counter()
    with pytest.raises(error, match=words):
        stylize_video(src, out, counting)
    assert time.perf_counter() - started < 1.0
    assert calls == [] and not out.exists()
    assert list(tmp_path.glob("out*")) == []


def test_file_over_the_download_limit_is_refused(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=1.0)
    limits = VideoLimits(max_input_bytes=src.stat().st_size - 1)
    with pytest.raises(MediaTooLarge, match="up to"):
        stylize_video(src, out, invert, options=VideoOptions(limits=limits))


def test_container_lying_about_its_duration_is_stopped_while_decoding(
    tmp_path: Path, out: Path
) -> None:
    src = fx.make_lying_duration(tmp_path / "in.mkv", seconds=4.0, claimed=1.0)
    limits = VideoLimits(max_seconds=2.0)
    assert probe_video(src, limits).duration == pytest.approx(1.0)
    done: list[int] = []
    with pytest.raises(MediaTooLarge, match="longer than its header says"):
        stylize_video(
            src,
            out,
            invert,
            options=VideoOptions(limits=limits),
            progress=lambda d, t: done.append(d),
        )
    # It stopped just past the limit (2 s + slack at 10 fps), not at the real end (40 frames).
    assert done and done[-1] <= 26
    assert not out.exists() and list(tmp_path.glob("out*")) == []


def test_damage_a_player_would_hide_is_hidden_and_worse_is_refused(
    tmp_path: Path, out: Path
) -> None:
    light = fx.make_damaged(tmp_path / "light.mp4", share=0.1)
    result = stylize_video(light, out, invert)
    assert 20 <= result.frames <= 30 and streams(out).codec == "h264"
    heavy = fx.make_damaged(tmp_path / "heavy.mp4", share=0.6)
    with pytest.raises(MediaDecodeError, match="damaged"):
        stylize_video(heavy, tmp_path / "heavy_out.mp4", invert)
    assert not (tmp_path / "heavy_out.mp4").exists()


# --- progress, cancellation, failures ----------------------------------------------------


def test_progress_counts_every_frame_up_to_the_total(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=1.0, fps=10)
    calls: list[tuple[int, int]] = []
    stylize_video(
        src,
        out,
        invert,
        options=VideoOptions(batch_size=3),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(3, 10), (6, 10), (9, 10), (10, 10)]


def test_cancel_stops_the_job_and_leaves_no_file(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=2.0, fps=10, audio="aac")
    cancel = threading.Event()
    calls: list[int] = []

    def slow(frames: np.ndarray) -> np.ndarray:
        calls.append(len(frames))
        if len(calls) == 2:
            cancel.set()
        return invert(frames)

    with pytest.raises(JobCancelled):
        stylize_video(src, out, slow, options=VideoOptions(batch_size=2), cancel=cancel)
    assert len(calls) == 2
    assert not out.exists() and list(tmp_path.glob("out*")) == []
    assert {t.name for t in threading.enumerate()}.isdisjoint({"video-decode", "video-encode"})


def test_a_failing_stylize_propagates_and_cleans_up(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=1.0)

    def busy(frames: np.ndarray) -> np.ndarray:
        raise QueueFull("busy")

    with pytest.raises(QueueFull):
        stylize_video(src, out, busy)
    assert list(tmp_path.glob("out*")) == []


def test_a_stylize_returning_the_wrong_shape_is_a_clear_error(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=0.5)
    with pytest.raises(ValueError, match="stylize returned"):
        stylize_video(src, out, lambda f: f[:, :10])
    assert list(tmp_path.glob("out*")) == []


# --- through the inference pool, from the pipeline's thread ---------------------------------


class InvertEngine:
    """Inverts colours in the pool's worker thread; a closed gate holds every call."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.busy = threading.Event()
        self.calls: list[tuple[int, int]] = []
        """(frames, thread) of each call."""

    def begin_warmup(self, styles: object) -> list[str]:
        return []

    def warm(self, style: str) -> None:
        raise AssertionError("nothing to warm")

    def stylize_batch(self, style: str, frames: np.ndarray) -> np.ndarray:
        self.calls.append((len(frames), threading.get_ident()))
        self.busy.set()
        assert self.gate.wait(10), "the test never opened the gate"
        return invert(frames)


def pool_config(**overrides: Any) -> PoolConfig:
    return PoolConfig(**({"queue_size": 8, "max_wait_ms": 0.0, "job_timeout_s": 10.0} | overrides))


async def test_a_pooled_video_hands_each_batch_to_the_pool_from_its_own_thread(
    tmp_path: Path, out: Path
) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=1.0, audio="aac")
    engine = InvertEngine()
    submitted_from: set[int] = set()
    progress: list[tuple[int, int, int]] = []
    async with InferencePool(engine, pool_config()) as pool:

        def submit(frames: np.ndarray) -> Future[np.ndarray]:
            submitted_from.add(threading.get_ident())
            return pool.submit("ink", frames, user_id=1, priority=Priority.VIDEO)

        result = await stylize_video_pooled(
            src,
            out,
            submit,
            options=VideoOptions(batch_size=4),
            progress=lambda d, t: progress.append((d, t, threading.get_ident())),
        )
        await asyncio.sleep(0)  # the last progress call was scheduled from the worker thread
    loop_thread = threading.get_ident()
    assert result.frames == 10 and streams(out).audio == "aac"
    assert [n for n, _ in engine.calls] == [4, 4, 2]
    (pipeline_thread,) = submitted_from
    assert pipeline_thread != loop_thread
    assert {t for _, t in engine.calls}.isdisjoint({pipeline_thread, loop_thread})
    assert [(d, t) for d, t, _ in progress] == [(4, 10), (8, 10), (10, 10)]
    assert {thread for *_, thread in progress} == {loop_thread}


async def test_cancelling_a_pooled_video_withdraws_its_queued_batch_at_once(
    tmp_path: Path, out: Path
) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=2.0, fps=10)
    engine = InvertEngine()
    engine.gate.clear()
    async with InferencePool(engine, pool_config()) as pool:
        try:
            # Someone else's photo holds the worker; the video's first batch queues behind it.
            photo = pool.submit("ink", np.zeros((1, 8, 8, 3), np.uint8), user_id=2)
            assert await asyncio.to_thread(engine.busy.wait, 5)
            video = asyncio.create_task(
                stylize_video_pooled(
                    src,
                    out,
                    lambda f: pool.submit("ink", f, user_id=1, priority=Priority.VIDEO),
                )
            )
            for _ in range(500):
                if pool.queue_depth == 1:
                    break
                await asyncio.sleep(0.01)
            assert pool.queue_depth == 1
            video.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(video, 5)  # the worker is still held
            assert pool.queue_depth == 0 and len(engine.calls) == 1
        finally:
            engine.gate.set()
        assert photo.result(timeout=5).shape == (1, 8, 8, 3)
    assert engine.calls[0][0] == 1 and len(engine.calls) == 1
    assert await asyncio.to_thread(lambda: sorted(tmp_path.glob("out*"))) == []
    assert {t.name for t in threading.enumerate()}.isdisjoint({"video-decode", "video-encode"})


async def test_a_busy_pool_fails_a_pooled_video_with_queue_full_and_no_file(
    tmp_path: Path, out: Path
) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", seconds=1.0)
    engine = InvertEngine()
    engine.gate.clear()
    async with InferencePool(engine, pool_config(queue_size=1)) as pool:
        try:
            held = [pool.submit("ink", np.zeros((1, 8, 8, 3), np.uint8), user_id=2)]
            assert await asyncio.to_thread(engine.busy.wait, 5)
            held.append(pool.submit("ink", np.zeros((1, 8, 8, 3), np.uint8), user_id=3))
            with pytest.raises(QueueFull):
                await stylize_video_pooled(
                    src, out, lambda f: pool.submit("ink", f, user_id=1, priority=Priority.VIDEO)
                )
        finally:
            engine.gate.set()
        for future in held:
            future.result(timeout=5)
    assert await asyncio.to_thread(lambda: sorted(tmp_path.glob("out*"))) == []


# --- size cap ----------------------------------------------------------------------------


def noisy(frames: np.ndarray) -> np.ndarray:
    """Incompressible output: the worst case for the upload limit."""
    return np.random.default_rng(0).integers(0, 256, frames.shape, dtype=np.uint8)


def test_result_over_the_upload_limit_is_reencoded_under_it(tmp_path: Path, out: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", width=160, height=120, seconds=2.0, fps=15, audio="mp3")
    free = stylize_video(src, tmp_path / "free.mp4", noisy, options=VideoOptions(crf=10))
    cap = free.size_bytes // 3
    result = stylize_video(src, out, noisy, options=VideoOptions(crf=10, max_output_bytes=cap))
    assert result.size_bytes == out.stat().st_size <= cap
    got = streams(out)
    assert got.codec == "h264" and got.audio == "aac" and abs(got.duration - 2.0) <= 1 / 15


def test_a_huge_upload_limit_needs_no_rate_cap(tmp_path: Path, out: Path) -> None:
    # The command line lifts the limit to 2 GB; x264 refuses VBV buffers that large.
    src = fx.make_clip(tmp_path / "in.mp4", seconds=0.5)
    result = stylize_video(src, out, invert, options=VideoOptions(max_output_bytes=2 * 1024**3))
    assert result.frames == 5


def test_shrink_pass_lowers_the_rate_and_keeps_the_clip_whole(tmp_path: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", width=160, height=120, seconds=2.0, fps=15, audio="aac")
    big = tmp_path / "big.mp4"
    stylize_video(src, big, noisy, options=VideoOptions(crf=0))
    before = big.stat().st_size
    passes = shrink_to_fit(big, before // 4, preset="veryfast")
    assert passes >= 1 and big.stat().st_size <= before // 4
    got = streams(big)
    assert len(got.times) == 30 and got.audio == "aac"
    assert abs(got.duration - 2.0) <= 1 / 15


# --- temporal pass -----------------------------------------------------------------------


def test_temporal_pass_holds_still_areas_and_follows_moving_ones() -> None:
    rng = np.random.default_rng(1)
    still = np.full((2, 96, 96, 3), 100, np.uint8)
    moved = still.copy()
    moved[1, :, 80:] = 200  # a sixth of the frame changes in the second frame
    styled = rng.integers(0, 256, (2, 96, 96, 3), dtype=np.uint8)  # a flickering stylization
    shown = TemporalFilter(threshold=2.0).apply(moved, styled)
    assert np.array_equal(shown[0], styled[0])
    # Blocks of 4: the changed strip and one block around it take the new output, with a
    # bilinear ramp from the far block's centre; the rest keeps the previous output.
    assert np.array_equal(shown[1][:, :72], styled[0][:, :72])
    assert np.array_equal(shown[1][:, 78:], styled[1][:, 78:])
    ramp = shown[1][:, 74:78].astype(np.int16)
    lo = np.minimum(styled[0][:, 74:78], styled[1][:, 74:78])
    hi = np.maximum(styled[0][:, 74:78], styled[1][:, 74:78])
    assert np.all((lo <= ramp) & (ramp <= hi))
    assert not np.array_equal(ramp, styled[0][:, 74:78])


def test_temporal_pass_refreshes_the_whole_frame_when_the_camera_moves() -> None:
    rng = np.random.default_rng(2)
    scene = rng.integers(0, 256, (96, 200, 3), dtype=np.uint8)
    pan = np.stack([scene[:, 2 * t : 2 * t + 96] for t in range(4)])  # 2 px a frame
    styled = rng.integers(0, 256, pan.shape, dtype=np.uint8)
    shown = TemporalFilter(threshold=2.0).apply(pan, styled)
    assert np.array_equal(shown, styled)


def test_temporal_option_changes_the_output_of_a_static_clip(tmp_path: Path) -> None:
    src = fx.make_clip(tmp_path / "in.mp4", width=160, height=120, seconds=1.0)
    on = stylize_video(
        src, tmp_path / "on.mp4", noisy, options=VideoOptions(temporal_pass=True, crf=0)
    )
    assert on.frames == 10
    images = streams(tmp_path / "on.mp4").images
    # The square moves along rows 45-75; the top rows never change, so they stay frozen
    # (the rows beside it sit in the ramp of the refreshed blocks around the square).
    top = np.stack(images)[:, :3].astype(np.int16)
    assert np.abs(np.diff(top, axis=0)).mean() < 1
    middle = np.stack(images)[:, 48:72].astype(np.int16)
    assert np.abs(np.diff(middle, axis=0)).mean() > 10


# --- command line ------------------------------------------------------------------------


def test_artisto_stylize_turns_a_gif_into_a_silent_mp4(
    tmp_path: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from inference.cli import stylize_command
    from tests.fixtures_packs import make_tiny_pack

    make_tiny_pack(tmp_path / "styles")
    src = fx.make_gif(tmp_path / "in.gif", frames=6)
    status = stylize_command(
        src,
        out,
        style="tiny",
        max_side=None,
        styles_dir=tmp_path / "styles",
        device="cpu",
        jpeg_quality=90,
        video_max_side=720,
    )
    assert status == 0
    got = streams(out)
    assert got.codec == "h264" and got.audio is None and len(got.times) == 6
    summary = capsys.readouterr()
    assert "64x48, 6 frames" in summary.out and "sound none" in summary.out
    assert "frame" in summary.err  # the progress bar


def test_artisto_stylize_wants_an_mp4_for_a_video(tmp_path: Path) -> None:
    from inference.cli import stylize_command

    src = fx.make_clip(tmp_path / "in.mp4", seconds=0.5)
    with pytest.raises(ArtistoError, match=r"must end in \.mp4"):
        stylize_command(
            src,
            tmp_path / "out.gif",
            style="tiny",
            max_side=None,
            styles_dir=None,
            device="cpu",
            jpeg_quality=90,
            video_max_side=720,
        )
