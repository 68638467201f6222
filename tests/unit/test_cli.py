"""The ``artisto`` command: help everywhere, and one line on stderr for every user mistake."""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from artisto.cli import build_parser, main
from bot.config import ENV_PREFIX

SUBCOMMANDS = {"run", "stylize", "styles", "train", "eval", "bench", "db", "fetch-vgg"}
ARTISTO = Path(sys.executable).with_name("artisto")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ARTISTO_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    return env | extra


def _artisto(
    *args: str, cwd: Path, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ARTISTO), *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _exit_code(argv: list[str]) -> int | str | None:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_console_script_help_lists_every_subcommand(tmp_path: Path) -> None:
    assert ARTISTO.is_file(), f"the console script is not installed beside {sys.executable}"
    result = _artisto("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("usage: artisto")
    names = set(_subcommands(build_parser()))
    assert names >= SUBCOMMANDS
    for name in names:
        assert f"\n    {name} " in result.stdout or f"\n    {name}\n" in result.stdout, name


def _all_commands() -> list[list[str]]:
    commands = []
    for name, sub in _subcommands(build_parser()).items():
        commands.append([name])
        commands += [[name, action] for action in _subcommands(sub)]
    return commands


@pytest.mark.parametrize("command", _all_commands(), ids=" ".join)
def test_help_on_each_subcommand(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code([*command, "--help"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"usage: artisto {' '.join(command)}")
    assert captured.err == ""


def test_every_expected_subcommand_is_there() -> None:
    assert set(_subcommands(build_parser())) >= SUBCOMMANDS
    assert set(_subcommands(_subcommands(build_parser())["db"])) >= {"upgrade"}


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"not decoded: argument parsing only checks that the file exists")
    return path


MISTAKES = {
    "no command": [],
    "unknown subcommand": ["frobnicate"],
    "missing input file": ["stylize", "missing.jpg", "out.jpg", "--style", "x"],
    "missing style option": ["stylize", "{photo}", "out.jpg"],
    "negative size": ["stylize", "{photo}", "out.jpg", "--style", "x", "--max-side", "-5"],
    "not a number": ["eval", "starry", "--size", "big"],
    "unknown option": ["bench", "--frobnicate"],
    "bad choice": ["bench", "gpu"],
    "unknown role": ["run", "--role", "gpu"],
    "missing painting": ["train", "--style-image", "nope.jpg", "--name", "x"],
    "db without action": ["db"],
    "unknown db action": ["db", "downgrade"],
    "extra argument": ["styles", "surplus"],
}


@pytest.mark.parametrize("argv", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_gives_one_line_and_status_2(
    argv: list[str], photo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _exit_code([arg.format(photo=photo) for arg in argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1, captured.err
    assert captured.err.startswith("artisto")
    assert "error: " in captured.err
    assert "Traceback" not in captured.err


def test_a_split_role_refuses_sqlite_and_a_missing_token_in_one_line(tmp_path: Path) -> None:
    """As a process: the one line comes before anything slow starts."""
    on_sqlite = _artisto("run", "--role", "worker", cwd=tmp_path, ARTISTO_BOT__TOKEN="1:x")
    assert on_sqlite.returncode == 2
    assert on_sqlite.stdout == ""
    (line,) = on_sqlite.stderr.splitlines()
    assert line.startswith("artisto: error: --role worker needs PostgreSQL")
    assert "ARTISTO_DB__URL=postgresql+asyncpg://" in line
    assert not (tmp_path / "data").exists(), "nothing was created"

    postgres = "postgresql+asyncpg://artisto@127.0.0.1:1/artisto"
    no_token = _artisto("run", "--role", "bot", cwd=tmp_path, ARTISTO_DB__URL=postgres)
    assert no_token.returncode == 2
    (line,) = no_token.stderr.splitlines()
    assert line.startswith("artisto: error: --role bot needs ARTISTO_BOT__TOKEN")


def test_missing_file_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(["stylize", "missing.jpg", "out.jpg", "--style", "x"]) == 2
    assert "no such file: missing.jpg" in capsys.readouterr().err


def test_unknown_subcommand_as_a_process(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "artisto.cli", "frobnicate"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("artisto: error: ")
    assert "frobnicate" in line


def test_a_bad_setting_gives_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ARTISTO_INFERENCE__JPEG_QUALITY=101\n")
    result = _artisto("styles", cwd=tmp_path, ARTISTO_LOG_LEVEL="LOUD")
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("artisto: error: invalid setting ")
    assert "ARTISTO_LOG_LEVEL" in line
    assert "ARTISTO_INFERENCE__JPEG_QUALITY" in line


def test_a_malformed_section_gives_one_line(tmp_path: Path) -> None:
    result = _artisto("styles", cwd=tmp_path, ARTISTO_BOT='{"token": ')
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("artisto: error: ")
    assert "bot" in line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


HANG_S = 600.0
"""Only a process that hangs takes this long: a guard for the suite, not a time to meet."""


def test_run_without_a_token_starts_the_playground_or_says_what_to_set(tmp_path: Path) -> None:
    """Until the playground exists, one sentence naming the token; then, a page that answers.

    The test waits for the process to say which (its first line on stdout, or its exit), so
    it holds however many styles there are to warm up and however busy the machine is.
    """
    err = tmp_path / "stderr"
    env = _env(
        ARTISTO_DATA_DIR=str(tmp_path / "data"),
        ARTISTO_BOT__PLAYGROUND_PORT=str(_free_port()),
    )
    with err.open("w") as stderr:
        process = subprocess.Popen(
            [str(ARTISTO), "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        said, _, _ = select.select([process.stdout], [], [], HANG_S)
        assert said, f"artisto run said nothing for {HANG_S:g} s: {err.read_text()[-2000:]}"
        first = process.stdout.readline()  # "" once the process has ended
        found = re.search(r"http://127\.0\.0\.1:\d+\S*", first)
        if found is None:
            assert first == ""
            assert process.wait(HANG_S) != 0
            (line,) = err.read_text().splitlines()
            assert "ARTISTO_BOT__TOKEN" in line
            return
        assert first.startswith("artisto playground: open ")
        with urllib.request.urlopen(found[0], timeout=HANG_S) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)  # the warm-up may still be going on: it stops too
        assert process.wait(HANG_S) == 0
        assert "Traceback" not in err.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_training_without_the_train_extra_says_what_to_install(tmp_path: Path) -> None:
    """A server install has no matplotlib: ``artisto train`` names the extra, no traceback."""
    painting = tmp_path / "painting.jpg"
    painting.write_bytes(b"not read before the import")
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from artisto.cli import main\n"
        f"sys.exit(main(['train', '--style-image', {str(painting)!r}, '--name', 'x']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "artisto: error: training needs the train extra (matplotlib is missing):"
        " pip install -e '.[train]'"
    ]
