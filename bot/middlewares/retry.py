"""Retrying Telegram requests: 429 after its ``retry_after``, 5xx and network errors with
exponential backoff. Everything the bot sends goes through here, so no caller needs a loop.

``getUpdates`` is left alone: aiogram's polling loop has its own backoff, and a long poll
that times out is not an error. A refused upload (413) is not retried: it would only fail
again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

_NOT_RETRIED = frozenset({"getUpdates"})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Tries in all, the first included."""
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0
    """A longer flood wait is given up on: the caller fails now rather than much later."""

    def backoff(self, retry: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * 2**retry))


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ in _NOT_RETRIED:
            return await make_request(bot, method)
        policy = self.policy
        for retry in range(policy.attempts):
            last = retry + 1 == policy.attempts
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if last or exc.retry_after > policy.max_retry_after_s:
                    raise
                delay, reason = float(exc.retry_after), "flood"
            except TelegramEntityTooLarge:
                raise
            except (TelegramServerError, TelegramNetworkError) as exc:
                if last:
                    raise
                delay, reason = policy.backoff(retry), type(exc).__name__
            log.info(
                "telegram.retry",
                extra={
                    "method": method.__api_method__,
                    "try": retry + 1,
                    "reason": reason,
                    "delay_s": delay,
                },
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last try returns or raises")
