"""Every text a user sees, in English and Russian (see ``bot.i18n.base`` for why a typed catalog).

texts = texts_for(pick_language(user.language, user.language_code, "en"))
await message.answer(texts.queued(ahead=3))
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from bot.i18n.base import Texts
from bot.i18n.en import English
from bot.i18n.ru import Russian

Language = Literal["en", "ru"]
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
LANGUAGE_NAMES: Final[dict[Language, str]] = {"en": "English", "ru": "Русский"}

# Assigning the instances to ``Texts`` makes mypy check each language against the protocol.
_CATALOG: Final[dict[Language, Texts]] = {"en": English(), "ru": Russian()}


def texts_for(language: str) -> Texts:
    """The catalog of ``language``; English for anything unknown."""
    return _CATALOG.get(as_language(language) or "en", _CATALOG["en"])


def as_language(value: str | None) -> Language | None:
    """``value`` as a supported language, or None."""
    for language in LANGUAGES:
        if value == language:
            return language
    return None


def pick_language(chosen: str | None, telegram_code: str | None, default: Language) -> Language:
    """The user's /lang choice, else their Telegram client's language (``ru-RU`` counts as
    ``ru``), else ``default``."""
    picked = as_language(chosen)
    if picked is not None:
        return picked
    primary = (telegram_code or "").split("-", 1)[0].lower()
    return as_language(primary) or default


__all__ = [
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "Language",
    "Texts",
    "as_language",
    "pick_language",
    "texts_for",
]
