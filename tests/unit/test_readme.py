"""The README agrees with the code: settings table, commands, set-up targets, pictures."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from artisto.cli import build_parser
from bot.config import settings_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
REGENERATE = 'python -c "from bot.config import settings_table; print(settings_table())"'


def test_settings_table_matches_the_code() -> None:
    assert README.count(START) == 1
    assert README.count(END) == 1
    between = README.split(START, 1)[1].split(END, 1)[0]
    assert between.strip() == settings_table(), (
        f"README.md's settings table is stale: replace the lines between {START} and {END} "
        f"with the output of `{REGENERATE}`"
    )
    assert REGENERATE in README


def test_two_setup_commands_that_the_makefile_has() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    commands = [
        line.split("#")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith("make ")
    ]
    assert commands == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test"):
        assert re.search(rf"(?m)^{target}:", makefile), target
    assert "python3-venv" in README
    assert re.search(r"Python 3\.11 or newer", README)


def test_ci_runs_the_readmes_test_command_and_nothing_else() -> None:
    """What CI checks is what a developer's `make test` checks: no variable, no extra step."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line for line in lines if line.strip() and not line.startswith("#")]
    assert commands == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "make test"]


def test_every_subcommand_is_documented() -> None:
    (subparsers,) = (
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    for name in subparsers.choices:
        assert f"`artisto {name}" in README, f"README.md does not show `artisto {name}`"


def test_styles_picture_and_its_reference_agree() -> None:
    """docs/styles.jpg comes with the trained styles: shown once it exists, never broken."""
    referenced = re.search(r"(?m)^!\[[^\]]*\]\(docs/styles\.jpg\)", README) is not None
    exists = (ROOT / "docs" / "styles.jpg").is_file()
    assert referenced == exists, (
        "docs/styles.jpg exists but README.md does not show it"
        if exists
        else "README.md shows docs/styles.jpg, which does not exist"
    )
    assert "docs/styles.jpg" in README  # the marked spot stays until then


def test_local_links_point_at_files_that_exist() -> None:
    for target in re.findall(r"`((?:deploy|bot|docs|tests)/[\w./-]+)`", README):
        if "*" not in target:
            assert (ROOT / target).exists(), target
