"""Typed errors. Each message is written for the person who sent the file or ran the command."""

from __future__ import annotations


class ArtistoError(Exception):
    """Base of every error that is the input's or the user's fault, not a bug."""

    code = "error"
    """A short, stable reason category (stored with failed jobs, shown translated)."""


class MediaDecodeError(ArtistoError):
    """The file is not a readable image or video (corrupt, truncated, unknown format)."""

    code = "decode"


class MediaTooLarge(ArtistoError):
    """The file, its pixel count or its duration is over a limit."""

    code = "too_large"


class UnsupportedMedia(ArtistoError):
    """A valid file of a kind artisto does not stylize (no video stream, odd codec...)."""

    code = "unsupported"


class UnknownStyle(ArtistoError):
    code = "unknown_style"


class StylePackError(ArtistoError):
    """A style pack on disk is malformed; the message names the file and the problem."""

    code = "bad_style_pack"


class QueueFull(ArtistoError):
    """The inference pool has no room now; try again later."""

    code = "busy"


class JobTimeout(ArtistoError):
    code = "timeout"


class JobCancelled(ArtistoError):
    code = "cancelled"


class PoolUnavailable(ArtistoError):
    """The inference pool is not running: its warm-up failed, or it is shutting down."""

    code = "unavailable"
