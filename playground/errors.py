"""The two ways a playground says no.

``ApiError`` is a Bot API error: it becomes Telegram's JSON error object with the same status,
description and parameters, so the bot under test meets exactly what Telegram would send.
``PlaygroundError`` is a mistake by whoever drives the simulated users (a test or the web
page): pressing a button that is not there, writing into a chat one is not a member of.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API error reply: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """Telegram's most common error: 400 with a ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class PlaygroundError(ValueError):
    """A simulated user tried something a Telegram client would not let them do."""
