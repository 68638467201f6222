"""The built wheel, installed into a fresh virtualenv, works away from the checkout.

The wheel is built from a copy of the checkout (what a clone with this work would hold), so
the build writes nothing here. Its dependencies come from this environment through a ``.pth``
file holding a plain path: the ``.pth`` files inside that folder, the editable install of the
checkout among them, are not processed, so the product can only run from the wheel's copy.
Nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.db.migrate import head_revision

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("artisto", "bot", "inference", "playground", "training", "benchmarks")
RUNTIME_DATA = (
    "bot/db/migrations",
    "playground/static",
    "playground/samples",
    "inference/styles",
    "training/catalog.toml",
)
"""What the installed modules read beside themselves: files, or folders read whole."""


@dataclass(frozen=True)
class Installed:
    source: Path
    """The tree the wheel was built from."""
    venv: Path
    site: Path
    """The scratch virtualenv's site-packages."""

    def run(self, *args: str, cwd: Path, data: Path) -> subprocess.CompletedProcess[str]:
        """A command of the scratch virtualenv, in ``cwd``, with no setting from this shell."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARTISTO_", "PYTHON"))}
        env.pop("VIRTUAL_ENV", None)
        env["ARTISTO_DATA_DIR"] = str(data)
        return run([str(self.venv / "bin" / args[0]), *args[1:]], cwd=cwd, env=env)


def run(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def copy_checkout(dst: Path) -> Path:
    """The files git does not ignore, committed or not."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    for name in filter(None, listed.stdout.split("\0")):
        if (REPO / name).is_file():  # not deleted in the working tree
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dst / name)
    return dst


def files_under(root: Path, entry: str) -> set[str]:
    path = root / entry
    if path.is_file():
        return {entry}
    return {
        p.relative_to(root).as_posix()
        for p in path.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    source = copy_checkout(root / "src")
    pip = [sys.executable, "-m", "pip"]
    offline = ["--no-deps", "--no-index", "-q"]
    run([*pip, "wheel", *offline, "--no-build-isolation", "-w", "dist", str(source)], cwd=root)
    (wheel,) = (root / "dist").glob("artisto-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    python = str(venv / "bin" / "python")
    # Installed before the dependencies are visible, so that pip sees no other artisto.
    run([*pip, "--python", python, "install", *offline, str(wheel)], cwd=root)
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(run([python, "-c", where], cwd=root).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "artisto-test-dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    return Installed(source, venv, site)


def test_the_product_runs_from_the_wheel_not_from_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    shebang = (installed.venv / "bin" / "artisto").read_text().splitlines()[0]
    assert shebang == f"#!{installed.venv / 'bin' / 'python'}"
    show = (
        "import importlib, sys\nfor m in sys.argv[1:]: print(importlib.import_module(m).__file__)"
    )
    files = installed.run("python", "-c", show, *PACKAGES, cwd=tmp_path, data=tmp_path / "data")
    for package, file in zip(PACKAGES, files.stdout.split(), strict=True):
        assert Path(file).parent == installed.site / package


def test_help_and_db_upgrade_work_from_anywhere(installed: Installed, tmp_path: Path) -> None:
    data = tmp_path / "data"
    helped = installed.run("artisto", "--help", cwd=tmp_path, data=data)
    assert "usage: artisto" in helped.stdout and "db" in helped.stdout
    installed.run("artisto", "db", "upgrade", cwd=tmp_path, data=data)
    database = data / "artisto.db"
    assert database.is_file()
    with sqlite3.connect(database) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == head_revision() is not None


def test_the_shipped_styles_are_installed(installed: Installed, tmp_path: Path) -> None:
    listed = installed.run("artisto", "styles", cwd=tmp_path, data=tmp_path / "data")
    names = {line.split()[0] for line in listed.stdout.splitlines()[1:]}
    shipped = {p.parent.name for p in (REPO / "inference" / "styles").glob("*/style.toml")}
    assert len(shipped) >= 8 and names == shipped


@pytest.mark.parametrize("entry", RUNTIME_DATA)
def test_the_wheel_carries_the_files_the_product_reads(installed: Installed, entry: str) -> None:
    wanted = files_under(installed.source, entry)
    assert wanted, f"nothing at {entry} in the source tree"
    assert sorted(wanted - files_under(installed.site, entry)) == []
    for name in wanted:
        assert (installed.site / name).read_bytes() == (installed.source / name).read_bytes()
