"""Write frames as an MP4 Telegram plays inline: H.264, yuv420p, BT.709 tags, moov first.

Frames arrive with their own timestamps (variable rate stays variable). Rate control is CRF,
capped by a VBV maximum rate when a size budget is given, so a busy style cannot blow far
past the upload limit; an exact bit rate is used by the shrink pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import av.container
import av.video
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from inference.media.video_audio import AudioCarrier, AudioPlan

TIME_BASE = Fraction(1, 90000)
_BT709 = 1  # AVCOL_PRI_BT709 / AVCOL_TRC_BT709 / AVCOL_SPC_BT709
_MPEG_RANGE = 1


@dataclass(frozen=True)
class EncodeSettings:
    width: int
    height: int
    fps: float
    """Nominal rate (rate control and the last frame's duration); timestamps rule playback."""
    preset: str = "veryfast"
    crf: int | None = 23
    bitrate: int | None = None
    """Average bit rate in bit/s; with it, CRF is ignored."""
    maxrate: int | None = None
    """VBV cap in bit/s."""

    def codec_options(self) -> dict[str, str]:
        options = {"preset": self.preset}
        if self.bitrate is not None:
            options["b"] = str(self.bitrate)
        elif self.crf is not None:
            options["crf"] = str(self.crf)
        if self.maxrate is not None:
            options["maxrate"] = str(self.maxrate)
            options["bufsize"] = str(self.maxrate * 2)
        return options


class Mp4Writer:
    """One output file; ``write`` frames in time order, then ``close`` (or ``abort``)."""

    def __init__(self, dst: Path, settings: EncodeSettings, audio: AudioPlan | None) -> None:
        self.dst = dst
        self.settings = settings
        self.frames = 0
        self.end = 0.0
        self._last_pts = -1
        self._held: av.Packet[Any] | None = None
        self._first_dts: int | None = None
        self._frame_ticks = max(1, round(1 / settings.fps / TIME_BASE))
        self._out = av.open(str(dst), "w", format="mp4", options={"movflags": "+faststart"})
        try:
            self._video = self._add_video(settings)
            self.audio = AudioCarrier(audio, self._out) if audio is not None else None
        except BaseException:
            self._out.close()
            raise

    @property
    def audio_mode(self) -> Literal["copy", "aac"] | None:
        return self.audio.mode if self.audio is not None else None

    def _add_video(self, s: EncodeSettings) -> av.video.VideoStream:
        stream = self._out.add_stream("libx264", rate=Fraction(s.fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = s.width, s.height, "yuv420p"
        context = stream.codec_context
        context.time_base = TIME_BASE
        context.color_primaries = context.color_trc = context.colorspace = _BT709
        context.color_range = _MPEG_RANGE
        context.options = s.codec_options()
        stream.time_base = TIME_BASE
        return stream

    def write(self, image: np.ndarray, time: float) -> None:
        """Encode one (H, W, 3) uint8 RGB frame shown from ``time`` seconds."""
        pts = max(round(time / TIME_BASE), self._last_pts + 1)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(
            format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
        )
        frame.pts, frame.time_base, frame.duration = pts, TIME_BASE, self._frame_ticks
        if self.audio is not None:
            self.audio.mux_until(float(pts * TIME_BASE))
        self._mux_video(self._video.encode(frame))
        self._last_pts = pts
        self.frames += 1
        self.end = float((pts + self._frame_ticks) * TIME_BASE)

    def _mux_video(self, packets: list[av.Packet[Any]]) -> None:
        """Mux all but the newest packet, which ``close`` may still have to adjust."""
        if not packets:
            return
        if self._first_dts is None:
            self._first_dts = packets[0].dts
        if self._held is not None:
            self._out.mux(self._held)
        self._out.mux(packets[:-1])
        self._held = packets[-1]

    def close(self) -> None:
        """Flush the encoder, finish the sound, write the index at the front."""
        try:
            self._mux_video(self._video.encode(None))
            if self._held is not None:
                # MP4 derives sample durations from decode times, which B-frames shift and, at
                # a variable rate, compress; size the last sample so the track ends where the
                # last frame does.
                held, self._held = self._held, None
                if held.dts is not None and self._first_dts is not None:
                    span = held.dts - self._first_dts
                    held.duration = max(1, self._last_pts + self._frame_ticks - span)
                self._out.mux(held)
            if self.audio is not None:
                self.audio.finish(self.end)
        finally:
            self._out.close()

    def abort(self) -> None:
        """Stop without finishing; the caller deletes the file."""
        try:
            if self.audio is not None:
                self.audio.close()
        finally:
            self._out.close()
