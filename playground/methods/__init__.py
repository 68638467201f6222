"""The Bot API methods the playground serves, by their Telegram names."""

from __future__ import annotations

from playground.methods import answers, media, messages, session
from playground.methods.common import Handler

METHODS: dict[str, Handler] = {
    **session.METHODS,
    **messages.METHODS,
    **media.METHODS,
    **answers.METHODS,
}

# Telegram matches method names without regard to case.
BY_LOWER_NAME: dict[str, Handler] = {name.lower(): handler for name, handler in METHODS.items()}

__all__ = ["BY_LOWER_NAME", "METHODS", "Handler"]
