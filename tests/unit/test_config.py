"""Settings from the environment and ``.env``: prefix, sections, secrets, database URL, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from bot.config import (
    ENV_PREFIX,
    LOCAL_SERVER_MAX_MB,
    BotSettings,
    Settings,
    explain,
    iter_settings,
    settings_table,
)

TOKEN = "123456:AAFakeTokenThatMustNeverBeShown"
PASSWORD = "pg-password-never-shown"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ARTISTO_* from the caller's shell and no stray .env: the working folder is empty."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_need_no_configuration() -> None:
    settings = Settings()
    assert settings.bot.token is None
    assert settings.bot.mode == "polling"
    assert settings.data_dir == Path("data")
    assert settings.log_level == "INFO"


def test_prefix_and_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTISTO_LOG_LEVEL", "debug")
    monkeypatch.setenv("ARTISTO_INFERENCE__MAX_BATCH", "3")
    monkeypatch.setenv("ARTISTO_LIMITS__MAX_FPS", "24")
    monkeypatch.setenv("ARTISTO_BOT__MODE", "webhook")
    monkeypatch.setenv("MAX_BATCH", "99")  # no prefix: not ours
    settings = Settings()
    assert settings.log_level == "DEBUG"
    assert settings.inference.max_batch == 3
    assert settings.limits.max_fps == 24.0
    assert settings.bot.mode == "webhook"


@pytest.mark.parametrize(
    ("raw", "expected"), [("1,2", [1, 2]), (" 7 , 8 ", [7, 8]), ("[5, 6]", [5, 6]), ("9", [9])]
)
def test_admins_from_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]
) -> None:
    monkeypatch.setenv("ARTISTO_BOT__ADMINS", raw)
    assert Settings().bot.admins == expected


def test_dotenv_in_the_working_folder_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    (clean_env / ".env").write_text(
        f"ARTISTO_BOT__TOKEN={TOKEN}\nARTISTO_INFERENCE__JPEG_QUALITY=80\nARTISTO_LOG_LEVEL=ERROR\n"
    )
    monkeypatch.setenv("ARTISTO_LOG_LEVEL", "WARNING")
    settings = Settings()
    assert settings.bot.token is not None
    assert settings.bot.token.get_secret_value() == TOKEN
    assert settings.inference.jpeg_quality == 80
    assert settings.log_level == "WARNING"


def test_dotenv_elsewhere_is_not_read(
    clean_env: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("elsewhere")
    (other / ".env").write_text(f"ARTISTO_BOT__TOKEN={TOKEN}\n")
    assert Settings().bot.token is None


def test_an_empty_value_means_the_default(monkeypatch: pytest.MonkeyPatch, clean_env: Path) -> None:
    (clean_env / ".env").write_text("ARTISTO_BOT__TOKEN=\nARTISTO_LOG_LEVEL=\n")
    monkeypatch.setenv("ARTISTO_DB__URL", "")
    settings = Settings()
    assert settings.bot.token is None
    assert settings.log_level == "INFO"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")


def test_secrets_are_hidden_from_repr_str_and_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTISTO_BOT__TOKEN", TOKEN)
    monkeypatch.setenv("ARTISTO_BOT__WEBHOOK_SECRET", "hook-secret-never-shown")
    monkeypatch.setenv("ARTISTO_DB__URL", f"postgresql+asyncpg://artisto:{PASSWORD}@db/artisto")
    settings = Settings()
    assert isinstance(settings.bot.token, SecretStr)
    shown = [
        repr(settings),
        str(settings),
        repr(settings.bot),
        settings.model_dump_json(),
        str(settings.model_dump()),
    ]
    for text in shown:
        assert TOKEN not in text
        assert "hook-secret-never-shown" not in text
        assert PASSWORD not in text
        assert "**********" in text
    assert settings.bot.webhook_secret is not None
    assert settings.bot.webhook_secret.get_secret_value() == "hook-secret-never-shown"


def test_postgres_url_switches_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql+asyncpg://artisto:{PASSWORD}@127.0.0.1:5432/artisto"
    monkeypatch.setenv("ARTISTO_DB__URL", url)
    assert Settings().database_url == url


def test_default_database_is_sqlite_under_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    assert Settings().database_url == f"sqlite+aiosqlite:///{clean_env / 'data' / 'artisto.db'}"
    monkeypatch.setenv("ARTISTO_DATA_DIR", str(clean_env / "state"))
    settings = Settings()
    assert settings.database_url == f"sqlite+aiosqlite:///{clean_env / 'state' / 'artisto.db'}"
    assert settings.cache_dir == clean_env / "state" / "cache"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ARTISTO_BOT__LISTEN_PORT", "eighty"),
        ("ARTISTO_BOT__MODE", "carrier-pigeon"),
        ("ARTISTO_LOG_LEVEL", "LOUD"),
        ("ARTISTO_LOG_FORMAT", "xml"),
        ("ARTISTO_INFERENCE__JPEG_QUALITY", "0"),
        ("ARTISTO_INFERENCE__MAX_BATCH", "-1"),
        ("ARTISTO_INFERENCE__DEVICE", "tpu"),
        ("ARTISTO_LIMITS__MAX_VIDEO_SECONDS", "0"),
        ("ARTISTO_BOT__ADMINS", "1,alice"),
        ("ARTISTO_DB__ECHO", "sometimes"),
    ],
)
def test_bad_values_fail_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = explain(caught.value)
    assert "\n" not in message
    assert message.startswith(f"invalid setting {variable}: ")


def test_explain_lists_every_bad_variable_and_never_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARTISTO_BOT__LISTEN_PORT", "not-a-port-value")
    monkeypatch.setenv("ARTISTO_LIMITS__QUEUE_MAX", "0")
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = explain(caught.value)
    assert "ARTISTO_BOT__LISTEN_PORT" in message
    assert "ARTISTO_LIMITS__QUEUE_MAX" in message
    assert "not-a-port-value" not in message


def test_iter_settings_names_every_leaf_field_once() -> None:
    rows = iter_settings()
    names = [env for env, _, _ in rows]
    assert len(names) == len(set(names))
    sections = ("bot", "db", "worker", "inference", "limits")
    expected = {f"ARTISTO_{name.upper()}" for name in Settings.model_fields} - {
        f"ARTISTO_{section.upper()}" for section in sections
    }
    for section in sections:
        model = Settings.model_fields[section].annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        expected |= {f"ARTISTO_{section.upper()}__{leaf.upper()}" for leaf in model.model_fields}
    assert set(names) == expected
    assert all(description for _, _, description in rows), "every setting needs a description"


def test_every_listed_variable_is_accepted_with_its_listed_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Feeding each documented default back in must give the same settings as no variable."""
    baseline = Settings().model_dump()
    for env, default, _ in iter_settings():
        if default:
            monkeypatch.setenv(env, default)
    assert Settings().model_dump() == baseline


def test_settings_table_has_a_row_per_setting_and_shows_defaults() -> None:
    table = settings_table().splitlines()
    assert table[0] == "| variable | default | meaning |"
    assert len(table) == 2 + len(iter_settings())
    assert "| `ARTISTO_BOT__LISTEN_PORT` | `8081` |" in settings_table()
    assert "| `ARTISTO_BOT__TOKEN` |  |" in settings_table()
    description = BotSettings.model_fields["token"].description
    assert description
    assert description in settings_table()


def test_a_local_bot_api_server_lifts_the_file_limit_to_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.services.intake import IntakeLimits

    assert IntakeLimits.from_settings(Settings()).max_mb == 20
    monkeypatch.setenv("ARTISTO_BOT__API_LOCAL_MODE", "true")
    local = IntakeLimits.from_settings(Settings())
    assert (local.max_mb, local.max_bytes) == (LOCAL_SERVER_MAX_MB, LOCAL_SERVER_MAX_MB << 20)
    description = BotSettings.model_fields["api_local_mode"].description
    assert f"files up to {LOCAL_SERVER_MAX_MB} MB" in str(description)
