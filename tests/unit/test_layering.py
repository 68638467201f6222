"""Dependencies point one way: bot -> inference, training -> inference; nothing but the
product's command line imports bot; the playground knows nothing of the product.

Imports are read with ``ast`` (every import statement, at any depth, including those under
``TYPE_CHECKING`` and inside functions, plus ``importlib.import_module("...")`` with a literal).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DATABASE = frozenset({"sqlalchemy", "alembic", "asyncpg", "aiosqlite"})
# Folders whose modules must not import the listed top-level modules.
RULES: dict[str, frozenset[str]] = {
    "artisto/errors.py": frozenset({"bot", "inference", "training", "playground"}),
    "bot": frozenset({"training"}),
    "bot/db": frozenset({"inference", "training", "torch"}),
    "inference": frozenset({"bot", "training", "playground", "aiogram"}) | DATABASE,
    "training": frozenset({"bot", "playground"}),
    "playground": frozenset({"bot", "inference", "training", "artisto"}),
    "benchmarks": frozenset({"bot"}),
}


def imported_modules(source: str) -> set[str]:
    """Absolute module names a source file imports; relative imports stay in their package."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def violations(package: str) -> list[str]:
    forbidden = RULES[package]
    found = []
    where = ROOT / package
    for path in sorted(where.rglob("*.py")) if where.is_dir() else [where]:
        for module in sorted(imported_modules(path.read_text())):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


def test_the_reader_sees_every_kind_of_import() -> None:
    source = """
from __future__ import annotations
import importlib
from typing import TYPE_CHECKING
import bot.config
from sqlalchemy.orm import Session
from . import sibling
from .bot import nothing
import botocore
if TYPE_CHECKING:
    from aiogram import Bot
def later():
    import alembic.command
    return importlib.import_module("asyncpg"), __import__("aiosqlite")
"""
    assert imported_modules(source) == {
        "__future__",
        "importlib",
        "typing",
        "bot.config",
        "sqlalchemy.orm",
        "botocore",
        "aiogram",
        "alembic.command",
        "asyncpg",
        "aiosqlite",
    }


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_has_modules_to_check(package: str) -> None:
    where = ROOT / package
    found = list(where.rglob("*.py")) if where.is_dir() else [where] if where.is_file() else []
    assert found, f"{package} has no modules: nothing was checked"


@pytest.mark.parametrize("package", sorted(RULES))
def test_no_forbidden_imports(package: str) -> None:
    found = violations(package)
    assert not found, f"{package}/ must not import {sorted(RULES[package])}:\n" + "\n".join(found)


MAX_MODULE_LINES = 400
SOURCE_PACKAGES = ("artisto", "bot", "inference", "training", "playground", "benchmarks")


def test_no_module_outside_the_tests_is_over_400_lines() -> None:
    """One job per module: past this, a module is doing several and wants splitting."""
    modules = [p for package in SOURCE_PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(modules) > 100, "the packages were not found"
    long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)
