"""Fixtures of the end-to-end tests (see ``tests/e2e/running.py`` for the app itself)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot_harness import STYLES
from tests.fixtures_packs import make_tiny_pack


@pytest.fixture(scope="session")
def styles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An extra styles folder: the tiny packs "ember" and "frost" (artist "Test Painter")."""
    folder = tmp_path_factory.mktemp("styles")
    for seed, name in enumerate(STYLES):
        make_tiny_pack(folder, name, seed=seed)
    return folder
