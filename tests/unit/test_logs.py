"""Structured logs: one line per event in both formats, extra fields kept, secrets never shown."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings
from bot.logs import JsonFormatter, KeyValueFormatter, setup_logging

TOKEN = "123456:AAFakeTokenThatMustNeverBeShown"
Format = Literal["text", "json"]


@pytest.fixture
def restore_root() -> Iterator[None]:
    """setup_logging rewires the root logger; give the next test the one it had."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _logger(fmt: Format) -> tuple[logging.Logger, io.StringIO]:
    """A private logger writing through the formatter ``fmt`` into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    log = logging.getLogger(f"artisto.test.{fmt}")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log, stream


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def _token(text: str, at: int) -> tuple[str, int]:
    """Read one key=value token: a JSON string when quoted, else up to the next space."""
    if text.startswith('"', at):
        value, end = json.JSONDecoder().raw_decode(text, at)
        return value, end
    end = text.find(" ", at)
    end = len(text) if end < 0 else end
    return text[at:end], end


def _parse_key_value(line: str) -> tuple[str, dict[str, str]]:
    """The event and the fields of a key=value line, read back as a consumer would."""
    at = len(" ".join(line.split(" ", 3)[:3])) + 1  # past timestamp, level and logger
    event, at = _token(line, at)
    fields: dict[str, str] = {}
    while at < len(line):
        assert line[at] == " "
        equals = line.index("=", at)
        fields[line[at + 1 : equals]], at = _token(line, equals + 1)
    return event, fields


def _boom() -> None:
    try:
        raise KeyError("inner\ncause")
    except KeyError as exc:
        raise RuntimeError("outer failure\nwith a second line") from exc


def test_key_value_line_carries_the_event_and_its_fields() -> None:
    log, stream = _logger("text")
    log.info("job.done", extra={"job_id": 7, "ms": 412.5, "style": "starry night"})
    (line,) = _lines(stream)
    ts, level, name, event, *fields = line.split(" ", 4)
    assert ts.endswith("+00:00")
    assert (level, name, event) == ("INFO", "artisto.test.text", "job.done")
    assert fields == ['job_id=7 ms=412.5 style="starry night"']


def test_json_line_carries_the_event_and_its_fields() -> None:
    log, stream = _logger("json")
    log.warning("queue.full", extra={"size": 256, "user_id": 42, "path": None})
    (line,) = _lines(stream)
    record = json.loads(line)
    assert record["event"] == "queue.full"
    assert record["level"] == "WARNING"
    assert record["logger"] == "artisto.test.json"
    assert (record["size"], record["user_id"], record["path"]) == (256, 42, None)
    assert "ts" in record


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_chained_exception_stays_on_one_line(fmt: Format) -> None:
    log, stream = _logger(fmt)
    try:
        _boom()
    except RuntimeError:
        log.exception("job.failed\nsecond line of the message", extra={"job_id": 3})
    (line,) = _lines(stream)
    for needle in ("RuntimeError", "outer failure", "KeyError", "Traceback", "job_id"):
        assert needle in line
    if fmt == "json":
        record = json.loads(line)
        assert record["event"] == "job.failed\nsecond line of the message"
        assert "with a second line" in record["exc"]
        assert record["exc"].count("\n") > 3  # the traceback is whole, only escaped


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_stack_info_stays_on_one_line(fmt: Format) -> None:
    log, stream = _logger(fmt)
    log.info("where.am.i", stack_info=True)
    (line,) = _lines(stream)
    assert "Stack (most recent call last)" in line


@given(
    message=st.text(max_size=40),
    value=st.text(max_size=40),
    fmt=st.sampled_from(["text", "json"]),
)
def test_any_text_gives_exactly_one_line(message: str, value: str, fmt: Format) -> None:
    log, stream = _logger(fmt)
    log.info(message, extra={"note": value})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    if fmt == "json":
        record = json.loads(lines[0])
        assert (record["event"], record["note"]) == (message, value)
    else:
        assert _parse_key_value(lines[0]) == (message, {"note": value})


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_reach_the_log(fmt: Format, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTISTO_BOT__TOKEN", TOKEN)
    monkeypatch.setenv("ARTISTO_DB__URL", "postgresql+asyncpg://u:pg-secret-pw@db/a")
    settings = Settings(_env_file=None)
    log, stream = _logger(fmt)
    log.info("settings.loaded", extra={"settings": settings, "bot": settings.bot})
    log.info("token.is", extra={"token": settings.bot.token})
    log.info("db.url %s", settings.db.url)
    output = stream.getvalue()
    assert len(output.splitlines()) == 3
    assert TOKEN not in output
    assert "pg-secret-pw" not in output
    assert "**********" in output


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_setup_logging_sets_the_level_and_format_on_stderr(
    fmt: Format, restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("WARNING", fmt)
    log = logging.getLogger("artisto.test.setup")
    log.info("too.quiet")
    log.warning("loud.enough", extra={"n": 1})
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert "too.quiet" not in captured.err
    if fmt == "json":
        assert json.loads(line)["event"] == "loud.enough"
    else:
        assert line.split(" ")[1:] == ["WARNING", "artisto.test.setup", "loud.enough", "n=1"]


def test_setup_logging_replaces_handlers_instead_of_stacking(
    restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO", "text")
    setup_logging("INFO", "json")
    logging.getLogger("artisto.test.twice").info("once")
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["event"] == "once"
