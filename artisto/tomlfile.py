"""TOML files read into pydantic models: a mistake is one line naming the file, the key and what
the key expects, for the person who wrote the file (pydantic's own text spans several lines and
speaks of Python types).

Keys are written as TOML spells them: ``net.width`` is the ``width`` key of the ``[net]`` table,
and ``style[3].emoji`` the ``emoji`` of the third ``[[style]]`` table (counted from 1, as a
reader counts them in the file).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from artisto.errors import ArtistoError

T = TypeVar("T")

_UNKNOWN = frozenset({"unexpected_keyword_argument", "extra_forbidden"})
_EXPECTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "text",
    "dict_type": "a table",
    "dataclass_type": "a table",
    "list_type": "an array",
}
_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def read_toml(file: Path, model: TypeAdapter[T], error: type[ArtistoError]) -> T:
    """The file's document validated by ``model``; any mistake raises ``error`` in one line."""
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{file}: bad TOML: {exc}") from None
    try:
        return model.validate_python(doc)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key also leaves the key it meant missing: the unknown one says why.
        first = next((e for e in errors if e["type"] in _UNKNOWN), errors[0])
        raise error(f"{file}: {describe(first)}") from None


def describe(error: ErrorDetails) -> str:
    """One validation error in words: ``net.width must be a whole number``."""
    key = toml_key(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "missing":
        return f"missing key {key}"
    if kind in _UNKNOWN:
        return f"unknown key {key}"
    if kind in _EXPECTED:
        problem = f"must be {_EXPECTED[kind]}"
    elif kind in _BOUNDS:
        words, bound = _BOUNDS[kind]
        problem = f"must be {words} {ctx[bound]}, not {error['input']!r}"
    elif kind in ("string_too_short", "too_short"):
        problem = "must not be empty"
    elif kind == "value_error":
        problem = str(ctx["error"])
    else:
        problem = error["msg"]
    return f"{key} {problem}" if key else problem


def toml_key(loc: tuple[int | str, ...]) -> str:
    """A validation error's location as a dotted TOML key; array items counted from 1."""
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part + 1}]"
        else:
            key += f".{part}" if key else part
    return key
