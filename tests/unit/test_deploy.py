"""deploy/ kept honest without a Docker engine: files parse, variables exist, installs agree."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings, iter_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DEPLOY_FILES = ["compose.yaml", "compose.cpu.yaml", ".env.example", "Dockerfile", "artisto.service"]
WORKERS = ("worker-0", "worker-1")
SETTINGS = {env: default for env, default, _ in iter_settings()}
VARIABLE = re.compile(r"\bARTISTO_[A-Z0-9_]*[A-Z0-9]")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


class _ComposeLoader(yaml.SafeLoader):
    """YAML as Compose reads it: ``!reset`` drops what a base file set."""


_ComposeLoader.add_constructor("!reset", lambda loader, node: RESET)
RESET = object()


def _compose(name: str = "compose.yaml") -> dict[str, Any]:
    data = yaml.load((DEPLOY / name).read_text(), Loader=_ComposeLoader)  # a SafeLoader
    assert isinstance(data, dict)
    return data


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def _unit() -> dict[str, dict[str, list[str]]]:
    """systemd's format: sections of keys that may repeat (Environment=)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in (DEPLOY / "artisto.service").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"a key outside a section: {line}"
        key, equals, value = line.partition("=")
        assert equals, f"not a key=value line: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.mark.parametrize("name", DEPLOY_FILES)
def test_every_artisto_variable_is_a_real_setting(name: str) -> None:
    used = set(VARIABLE.findall((DEPLOY / name).read_text()))
    assert used, f"{name} mentions no setting at all"
    unknown = used - set(SETTINGS)
    assert not unknown, f"{name} sets variables that bot/config.py does not know: {unknown}"


def test_env_example_lists_every_setting_with_its_default() -> None:
    listed: dict[str, str] = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"#? ?(ARTISTO_\w+)=(.*)", line)
        if match:
            assert match[1] not in listed, f"{match[1]} is listed twice"
            listed[match[1]] = match[2]
    missing = [f"# {env}={default}" for env, default in SETTINGS.items() if env not in listed]
    assert not missing, "add to deploy/.env.example:\n" + "\n".join(missing)
    assert listed == SETTINGS, "deploy/.env.example shows a default the code does not have"


def test_env_example_loads_commented_and_uncommented(tmp_path: Path) -> None:
    """As shipped it changes nothing; with every line uncommented it still validates."""
    example = (DEPLOY / ".env.example").read_text()
    defaults = Settings(_env_file=None).model_dump()
    assert Settings(_env_file=DEPLOY / ".env.example").model_dump() == defaults
    uncommented = tmp_path / "uncommented.env"
    uncommented.write_text(re.sub(r"(?m)^# (ARTISTO_\w+=)", r"\1", example))
    assert Settings(_env_file=uncommented).model_dump() == defaults


def test_compose_runs_one_bot_and_two_workers_beside_postgres() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"bot", *WORKERS, "postgres"}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    volume, _, target = postgres["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]
    assert "healthcheck" in postgres

    roles = {name: services[name]["command"] for name in ("bot", *WORKERS)}
    assert roles == {"bot": ["run", "--role", "bot"]} | {
        name: ["run", "--role", "worker"] for name in WORKERS
    }
    for name in roles:
        service = services[name]
        assert (DEPLOY / service["build"]["context"]).resolve() == ROOT
        assert (ROOT / service["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "/healthz" in " ".join(service["healthcheck"]["test"]), name
        # "Original quality" files: made by a worker, sent by whichever process is asked.
        (mount,) = service["volumes"]
        volume, _, target = mount.partition(":")
        assert (volume, target) == ("artisto-results", "/app/data/results")
    assert "artisto-results" in compose["volumes"]


def test_compose_pins_each_worker_to_its_own_gpu_and_the_bot_to_none() -> None:
    services = _compose()["services"]
    assert "deploy" not in services["bot"], "the bot process needs no GPU"
    pinned = []
    for name in WORKERS:
        (device,) = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
        assert "count" not in device, "device_ids pins, count would take any"
        pinned += device["device_ids"]
    assert sorted(pinned) == ["0", "1"]


def test_the_cpu_variant_drops_the_gpus_and_runs_the_workers_on_the_cpu() -> None:
    base, cpu = _compose()["services"], _compose("compose.cpu.yaml")["services"]
    assert set(cpu) == set(WORKERS) and set(cpu) <= set(base)
    for name in WORKERS:
        assert cpu[name]["deploy"] is RESET
        assert cpu[name]["environment"] == {"ARTISTO_INFERENCE__DEVICE": "cpu"}


@pytest.mark.parametrize("service", ["bot", *WORKERS])
def test_compose_environment_makes_valid_settings_on_postgres(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service's environment, interpolated as compose would with nothing set, validates."""
    environment = _compose()["services"][service]["environment"]
    assert isinstance(environment, dict)
    for name, value in environment.items():
        monkeypatch.setenv(name, INTERPOLATION.sub(lambda m: m[2] or "", str(value)))
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in settings.database_url
    assert settings.bot.mode == "polling"


def test_compose_documents_the_webhook_variables() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for name in ("ARTISTO_BOT__WEBHOOK_URL", "ARTISTO_BOT__WEBHOOK_SECRET"):
        assert re.search(rf"(?m)^\s*# {name}: ", text), f"{name} is not shown in compose.yaml"
    assert re.search(r"(?m)^\s*# ARTISTO_BOT__MODE: webhook$", text)


def test_dockerfile_uses_a_cuda_runtime_base_and_a_non_root_user() -> None:
    instructions = _dockerfile()
    bases = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(bases) == 1
    assert re.fullmatch(r"nvidia/cuda:[\w.]+-runtime-[\w.]+", bases[0]), bases[0]
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    # The install runs as that user, after the last USER switch.
    keywords = [keyword for keyword, _ in instructions]
    assert keywords.index("USER") < instructions.index(("RUN", "make install"))


def test_dockerfile_installs_with_the_readme_command() -> None:
    """`make install` builds the very stamp `make run` (the README's command) depends on."""
    runs = [args for keyword, args in _dockerfile() if keyword == "RUN"]
    assert "make install" in runs
    assert "pip install" not in " ".join(runs), "install through the Makefile, as the README does"
    makefile = (ROOT / "Makefile").read_text()
    run_needs = re.search(r"(?m)^run: (.+)$", makefile)
    install_needs = re.search(r"(?m)^install: (.+)$", makefile)
    assert run_needs and install_needs
    assert run_needs[1].split() == install_needs[1].split()
    assert "`make run`" in (ROOT / "README.md").read_text()


def test_dockerfile_installs_the_readme_prerequisites() -> None:
    readme = (ROOT / "README.md").read_text()
    readme_apt = re.search(r"apt-get install -y ([\w .-]+)", readme)
    assert readme_apt
    runs = " ".join(args for keyword, args in _dockerfile() if keyword == "RUN")
    for package in set(readme_apt[1].split()) - {"git"}:
        assert re.search(rf"\b{re.escape(package)}(\s|$)", runs), package


def test_dockerfile_starts_artisto_run() -> None:
    instructions = dict(_dockerfile())  # the last of each kind wins, as in Docker
    command = json.loads(instructions["ENTRYPOINT"]) + json.loads(instructions.get("CMD", "[]"))
    assert command == ["artisto", "run"]
    environment = " ".join(args for keyword, args in _dockerfile() if keyword == "ENV")
    assert re.search(r"\bPATH=/app/\.venv/bin:", environment), "artisto is not on the PATH"


def test_docker_build_context_leaves_out_the_local_venv_and_secrets() -> None:
    """A copied .venv would carry install stamps, and `make install` would then do nothing."""
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for entry in (".venv", "data", ".env", ".git"):
        assert entry in ignored, entry


def test_systemd_unit_runs_artisto_from_the_venv_with_sandboxing() -> None:
    unit = _unit()
    service = {key: values[-1] for key, values in unit["Service"].items()}
    assert service["ExecStart"] == f"{service['WorkingDirectory']}/.venv/bin/artisto run"
    assert service["EnvironmentFile"].startswith("/")
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # a bad setting would only repeat
    assert service["User"] not in {"root", "0"}
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
    }.items():
        assert service.get(key) == value, key
    data_dir = [v for v in unit["Service"]["Environment"] if v.startswith("ARTISTO_DATA_DIR=")]
    assert data_dir == [f"ARTISTO_DATA_DIR=/var/lib/{service['StateDirectory']}"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """systemd's own parser: unknown keys and bad values are reported, not ignored."""
    service = {key: values[-1] for key, values in _unit()["Service"].items()}
    app = tmp_path / "app"
    executable = app / ".venv" / "bin" / "artisto"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    unit = tmp_path / "artisto.service"
    text = (DEPLOY / "artisto.service").read_text()
    unit.write_text(text.replace(service["WorkingDirectory"], str(app)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
