"""End to end, moving pictures: a video with sound, a round video note, a GIF. Each comes
back as the same kind of message, and the downloaded file is checked with PyAV."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from bot.db import Job, JobStatus, Result, ResultKind
from playground import ALICE
from tests.bot_harness import buttons
from tests.e2e.running import download, playground
from tests.fixtures_video import make_clip, make_gif

pytestmark = pytest.mark.e2e


def _streams(data: bytes) -> dict[str, tuple[str, int, int, float]]:
    """Per stream type: codec, width, height (0 for sound) and seconds."""
    found: dict[str, tuple[str, int, int, float]] = {}
    with av.open(io.BytesIO(data)) as container:
        for stream in container.streams:
            base = stream.time_base
            seconds = float(stream.duration * base) if stream.duration and base else 0.0
            context = stream.codec_context
            found[stream.type] = (
                context.name,
                getattr(context, "width", 0),
                getattr(context, "height", 0),
                seconds,
            )
    return found


async def test_a_video_with_sound_keeps_its_sound(tmp_path: Path, styles_dir: Path) -> None:
    clip = make_clip(tmp_path / "walk.mp4", width=160, height=120, fps=10, audio="aac")
    async with playground(tmp_path, styles_dir) as h:
        sent = h.emulator.send_user_message(ALICE, ALICE, video=(clip.read_bytes(), clip.name))
        assert sent["video"]["duration"] == 1
        keyboard = await h.keyboard_under(sent)
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        result = await h.result_for(sent, "video", wait_s=60)
        assert result["caption"] == "🎨 Frost — after Test Painter, 1900"
        assert (result["video"]["width"], result["video"]["height"]) == (160, 120)
        assert [b["text"] for b in buttons(result)[0]] == ["🎨 Another style", "↗ Share"]

        streams = _streams(await download(h, result["video"]["file_id"]))
        assert streams["video"][:3] == ("h264", 160, 120)
        assert "audio" in streams, f"the sound was lost: {streams}"
        assert streams["audio"][0] == "aac" and streams["audio"][3] > 0.8
        await h.deleted(ALICE, keyboard["message_id"])  # the status goes once the job is done
        (job,) = await h.rows(Job)
        assert job.status == JobStatus.DONE
        (stored,) = await h.rows(Result)
        assert stored.kind == ResultKind.VIDEO


async def test_a_video_note_comes_back_round(tmp_path: Path, styles_dir: Path) -> None:
    clip = make_clip(tmp_path / "note.mp4", width=128, height=128, fps=10, audio="aac")
    async with playground(tmp_path, styles_dir) as h:
        sent = h.emulator.send_user_message(ALICE, ALICE, video_note=clip.read_bytes())
        keyboard = await h.keyboard_under(sent)
        h.press(ALICE, keyboard, h.style_button(keyboard, "ember"))
        result = await h.result_for(sent, "video_note", wait_s=60)
        assert result["video_note"]["length"] == 128
        assert "caption" not in result, "a video note carries no caption"
        streams = _streams(await download(h, result["video_note"]["file_id"]))
        codec, width, height, _ = streams["video"]
        assert (codec, width, height) == ("h264", 128, 128), "still square"
        await h.deleted(ALICE, keyboard["message_id"])
        (stored,) = await h.rows(Result)
        assert stored.kind == ResultKind.VIDEO_NOTE


async def test_a_gif_comes_back_as_a_gif(tmp_path: Path, styles_dir: Path) -> None:
    gif = make_gif(tmp_path / "loop.gif", width=96, height=64, frames=10)
    async with playground(tmp_path, styles_dir) as h:
        sent = h.emulator.send_user_message(ALICE, ALICE, animation=(gif.read_bytes(), gif.name))
        assert sent["animation"]["mime_type"] == "video/mp4", "Telegram turns GIFs into MP4"
        keyboard = await h.keyboard_under(sent)
        h.press(ALICE, keyboard, h.style_button(keyboard, "frost"))
        result = await h.result_for(sent, "animation", wait_s=60)
        assert "video" not in result
        assert result["caption"] == "🎨 Frost — after Test Painter, 1900"
        streams = _streams(await download(h, result["animation"]["file_id"]))
        assert streams["video"][:3] == ("h264", 96, 64)
        assert "audio" not in streams, "an animation is silent"
        await h.deleted(ALICE, keyboard["message_id"])
        (stored,) = await h.rows(Result)
        assert stored.kind == ResultKind.ANIMATION
