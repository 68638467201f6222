"""Inline keyboards: the style picker, the gallery's style buttons, a job's cancel button, the
result's buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    AnotherStyle,
    CancelJob,
    GalleryPick,
    LanguageChoice,
    OriginalQuality,
    StyleChoice,
    Surprise,
)
from bot.db import ResultKind
from bot.i18n import LANGUAGE_NAMES, LANGUAGES, Texts
from inference.registry import StyleRegistry

WIDE_TITLE = 14
"""Titles longer than this get two buttons per row instead of three, so phones show them whole."""


def style_keyboard(
    registry: StyleRegistry, media_id: int, user_id: int, texts: Texts
) -> InlineKeyboardMarkup:
    """Every style as ``emoji title`` (two or three per row), then "🎲 Surprise me"."""
    builder = InlineKeyboardBuilder()
    for pack in registry:
        builder.button(
            text=f"{pack.meta.emoji} {pack.meta.title}",
            callback_data=StyleChoice(media=media_id, user=user_id, style=pack.name),
        )
    builder.adjust(_per_row(registry))
    surprise = Surprise(media=media_id, user=user_id).pack()
    builder.row(InlineKeyboardButton(text=texts.surprise_me, callback_data=surprise))
    return builder.as_markup()


def gallery_keyboard(registry: StyleRegistry) -> InlineKeyboardMarkup:
    """Under the /styles collage: a button per style, to paint the next photo or video in it."""
    builder = InlineKeyboardBuilder()
    for pack in registry:
        builder.button(
            text=f"{pack.meta.emoji} {pack.meta.title}",
            callback_data=GalleryPick(style=pack.name),
        )
    builder.adjust(_per_row(registry))
    return builder.as_markup()


def _per_row(registry: StyleRegistry) -> int:
    return 2 if any(len(p.meta.title) > WIDE_TITLE for p in registry) else 3


def status_keyboard(job_id: int, texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts.cancel_button, callback_data=CancelJob(job=job_id).pack()
                )
            ]
        ]
    )


def result_keyboard(
    job_id: int, kind: ResultKind, share_query: str, texts: Texts
) -> InlineKeyboardMarkup:
    """ "Another style" always; "Share" where inline mode can resend the kind (not video notes);
    "Original quality" where Telegram may have recompressed the result (not for a file)."""
    row = [
        InlineKeyboardButton(
            text=texts.another_style, callback_data=AnotherStyle(job=job_id).pack()
        )
    ]
    if kind != ResultKind.VIDEO_NOTE:
        row.append(InlineKeyboardButton(text=texts.share, switch_inline_query=share_query))
    rows = [row]
    if kind != ResultKind.DOCUMENT:
        rows.append(
            [
                InlineKeyboardButton(
                    text=texts.original_quality, callback_data=OriginalQuality(job=job_id).pack()
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=LANGUAGE_NAMES[language],
                    callback_data=LanguageChoice(language=language).pack(),
                )
                for language in LANGUAGES
            ]
        ]
    )
