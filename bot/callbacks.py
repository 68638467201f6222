"""Inline button payloads: ids only, never text, so every one fits Telegram's 64 bytes.

The largest, ``StyleChoice``, packs to ``st:<media>:<user>:<style>``: with a 10-digit media id,
a 13-digit user id and a 32-character style name that is 60 bytes; ``pack()`` refuses more.
Everything here is untrusted on the way back: a client can send any bytes, so each handler
checks that the ids exist, belong to the presser and to the chat the button is in.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class StyleChoice(CallbackData, prefix="st"):
    """Paint ``media`` in ``style``; ``user`` is who asked, the only one who may press."""

    media: int
    user: int
    style: str


class Surprise(CallbackData, prefix="sx"):
    """Paint ``media`` in a style chosen at random."""

    media: int
    user: int


class CancelJob(CallbackData, prefix="cx"):
    job: int


class AnotherStyle(CallbackData, prefix="an"):
    """Offer the styles again for the media of ``job``; reuses the stored file."""

    job: int


class OriginalQuality(CallbackData, prefix="oq"):
    """Send the result of ``job`` as a file, without Telegram's recompression."""

    job: int


class GalleryPick(CallbackData, prefix="gp"):
    """A style chosen in the /styles gallery, for the user's next photo or video."""

    style: str


class LanguageChoice(CallbackData, prefix="lg"):
    language: str
