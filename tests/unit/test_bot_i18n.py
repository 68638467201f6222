"""The bot's texts: both languages complete, every failure category explained, Russian
plurals right; and button payloads within Telegram's 64 bytes."""

from __future__ import annotations

import inspect

import pytest

import artisto.errors as inference_errors
import bot.services.errors as bot_errors
from bot.callbacks import (
    AnotherStyle,
    CancelJob,
    GalleryPick,
    OriginalQuality,
    StyleChoice,
    Surprise,
)
from bot.db.repositories import ATTEMPTS_EXHAUSTED
from bot.i18n import LANGUAGES, Texts, pick_language, texts_for
from bot.i18n.ru import plural


def failure_codes() -> set[str]:
    """Every reason category a job can fail with."""
    codes = {ATTEMPTS_EXHAUSTED}
    for module in (inference_errors, bot_errors):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, inference_errors.ArtistoError):
                codes.add(cls.code)
    # Not job failures: the base class, refusals answered before any job, config errors.
    return codes - {"error", "refused", "blocked"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_failure_code_has_its_own_reason(language: str) -> None:
    texts = texts_for(language)
    generic = texts.failure("no-such-code")
    unexplained = sorted(code for code in failure_codes() if texts.failure(code) == generic)
    assert unexplained == [], f"{language}: add a reason for {unexplained}"


def test_both_languages_say_everything_and_differ() -> None:
    names = [n for n in dir(Texts) if not n.startswith("_")] + list(Texts.__annotations__)
    en, ru = texts_for("en"), texts_for("ru")
    for name in set(names):
        a, b = getattr(en, name), getattr(ru, name)
        assert callable(a) == callable(b), name
        if not callable(a):
            assert a and b and a != b, f"{name} is missing or untranslated"


@pytest.mark.parametrize(
    ("count", "form"),
    [(1, "one"), (2, "few"), (4, "few"), (5, "many"), (11, "many"), (12, "many"), (14, "many"),
     (21, "one"), (22, "few"), (25, "many"), (101, "one"), (111, "many"), (0, "many")],
)  # fmt: skip
def test_russian_plural(count: int, form: str) -> None:
    assert plural(count, "one", "few", "many") == form


def test_russian_texts_agree_with_numbers() -> None:
    ru = texts_for("ru")
    assert ru.cancelled_jobs(1) == "Отменён 1 запрос в очереди."
    assert ru.cancelled_jobs(3) == "Отменено 3 запроса в очереди."
    assert ru.busy(5) == "Я сейчас очень занят. Попробуйте примерно через 5 минут."
    assert ru.too_long(21) == "Видео слишком длинное: я рисую до 21 секунды."


def test_language_choice() -> None:
    assert pick_language("ru", "en", "en") == "ru"
    assert pick_language(None, "ru-RU", "en") == "ru"
    assert pick_language(None, "de", "en") == "en"
    assert pick_language("xx", None, "ru") == "ru"


def test_button_payloads_fit_64_bytes_at_the_largest_ids() -> None:
    big_id, big_user, long_style = 9_999_999_999, 9_999_999_999_999, "s" * 32
    payloads = [
        StyleChoice(media=big_id, user=big_user, style=long_style).pack(),
        Surprise(media=big_id, user=big_user).pack(),
        CancelJob(job=big_id).pack(),
        AnotherStyle(job=big_id).pack(),
        OriginalQuality(job=big_id).pack(),
        GalleryPick(style=long_style).pack(),
    ]
    assert max(len(p.encode()) for p in payloads) <= 64
    assert StyleChoice.unpack(payloads[0]) == StyleChoice(
        media=big_id, user=big_user, style=long_style
    )
