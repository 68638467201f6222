"""Structured logging: one line per event, as ``key=value`` pairs or as JSON.

Call sites log an event name and attach fields with ``extra``::

    log.info("job.done", extra={"job_id": 7, "ms": 412})
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

# Attributes every LogRecord has; anything else came in through ``extra``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


# Line breaks that survive JSON escaping with ensure_ascii=False; they only ever occur inside
# quoted strings, where the \\u escape is valid.
_UNICODE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class KeyValueFormatter(logging.Formatter):
    """``2026-01-01T00:00:00.000+00:00 INFO bot.jobs job.done job_id=7 ms=412``."""

    def format(self, record: logging.LogRecord) -> str:
        head = (record.levelname, record.name, record.getMessage())
        parts = [_timestamp(record), *map(_quote, head)]
        parts += [f"{_quote(key)}={_quote(value)}" for key, value in _fields(record).items()]
        if record.exc_info:
            parts.append("exc=" + _quote(self.formatException(record.exc_info)))
        if record.stack_info:
            parts.append("stack=" + _quote(self.formatStack(record.stack_info)))
        return " ".join(parts).translate(_UNICODE_BREAKS)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False).translate(_UNICODE_BREAKS)


def _quote(value: object) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def setup_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    """Send every logger's records to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "PIL", "matplotlib", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
