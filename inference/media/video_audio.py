"""Carry a clip's sound into the stylized MP4: AAC is copied untouched, anything else becomes AAC.

The sound is read through its own demuxer, in step with the video being written, so neither
stream is ever buffered whole. Both streams share one zero: the source time of the first
video frame. Sound before it or past the last video frame is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import av.audio
import av.container

log = logging.getLogger(__name__)

_AAC_RATES = frozenset(av.Codec("aac", "w").audio_rates or ())
_AAC_FRAME = 1024


@dataclass(frozen=True)
class AudioPlan:
    src: Path
    offset: float
    """Source time that becomes the output's zero."""
    bitrate: int
    """Used only when re-encoding."""


class AudioCarrier:
    """Adds an audio stream to ``out`` and fills it as the video advances."""

    def __init__(self, plan: AudioPlan, out: av.container.OutputContainer) -> None:
        self._input = av.open(str(plan.src), metadata_errors="ignore")
        try:
            self._source = next(s for s in self._input.streams.audio if s.codec_context is not None)
            self._offset = plan.offset
            self.mode: Literal["copy", "aac"]
            if self._source.codec_context.codec.canonical_name == "aac":
                self.mode = "copy"
                self._stream = out.add_stream_from_template(self._source)
                self._items: Iterator[tuple[float, av.Packet[Any]]] = self._copied()
            else:
                self.mode = "aac"
                self._stream = self._aac_stream(out, plan.bitrate)
                self._items = self._encoded()
        except BaseException:
            self._input.close()
            raise
        self._out = out
        self._held: tuple[float, av.Packet[Any]] | None = None
        self._end = float("inf")
        self._next_pts: int | None = None

    def mux_until(self, time: float) -> None:
        """Write the sound that starts before ``time`` (output seconds)."""
        while True:
            if self._held is None:
                self._held = next(self._items, None)
                if self._held is None:
                    return
            start, packet = self._held
            if start > time:
                return
            self._held = None
            if start < self._end:
                self._out.mux(packet)

    def finish(self, end: float) -> None:
        """Write the rest up to ``end`` (the video's end), then close the source."""
        self._end = end
        try:
            self.mux_until(end)
            self._held = None
            if self.mode == "aac" and self._next_pts is not None:
                for start, packet in self._encode(self._resampler.resample(None)):
                    if start < end:
                        self._out.mux(packet)
                self._out.mux(self._stream.encode(None))
        finally:
            self.close()

    def close(self) -> None:
        self._input.close()

    def _copied(self) -> Iterator[tuple[float, av.Packet[Any]]]:
        base = self._source.time_base or Fraction(1, self._source.codec_context.sample_rate)
        shift = round(self._offset / base)
        for packet in self._input.demux(self._source):
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is None or not packet.size:
                continue
            duration = float((packet.duration or 0) * base)
            start = float(stamp * base) - self._offset
            if start + duration < -1e-3:
                continue  # before the first video frame (the AAC priming packet ends at 0: kept)
            packet.pts = stamp - shift
            packet.dts = (packet.dts if packet.dts is not None else stamp) - shift
            packet.stream = self._stream
            yield start, packet

    def _aac_stream(self, out: av.container.OutputContainer, bitrate: int) -> av.audio.AudioStream:
        context = self._source.codec_context
        rate = context.sample_rate if context.sample_rate in _AAC_RATES else 48000
        stream = out.add_stream("aac", rate=rate)
        stream.layout = "mono" if context.channels == 1 else "stereo"
        stream.bit_rate = bitrate
        self._resampler = av.AudioResampler(
            format="fltp", layout=stream.layout, rate=rate, frame_size=_AAC_FRAME
        )
        return stream

    def _encoded(self) -> Iterator[tuple[float, av.Packet[Any]]]:
        for frame in self._decoded():
            start = (frame.time or 0.0) - self._offset
            if start + frame.samples / frame.sample_rate < 0:
                continue
            if self._next_pts is None:
                self._next_pts = round(start * self._stream.codec_context.sample_rate)
            yield from self._encode(self._resampler.resample(frame))

    def _encode(self, chunks: list[av.AudioFrame]) -> Iterator[tuple[float, av.Packet[Any]]]:
        rate = self._stream.codec_context.sample_rate
        for chunk in chunks:
            chunk.pts, chunk.time_base = self._next_pts, Fraction(1, rate)
            self._next_pts = (self._next_pts or 0) + chunk.samples
            for packet in self._stream.encode(chunk):
                yield (packet.pts or 0) / rate, packet

    def _decoded(self) -> Iterator[av.AudioFrame]:
        """Decoded sound; a damaged packet is skipped, as a player would."""
        for packet in self._input.demux(self._source):
            try:
                yield from packet.decode()
            except av.FFmpegError:
                log.warning("video.audio_packet_skipped", extra={"src": str(self._input.name)})
