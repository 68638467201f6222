"""Webhook settings are checked before the bot starts, and each refusal names the variable."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.config import BotSettings, DbSettings, Settings
from bot.roles import Role
from bot.runner import run
from bot.web import WebhookConfigError, webhook_config


def settings(**bot: object) -> Settings:
    options = {"token": SecretStr("1:abc"), "mode": "webhook"} | bot
    return Settings(_env_file=None, bot=BotSettings.model_validate(options))


def test_the_route_is_the_public_urls_path_and_the_secret_is_kept() -> None:
    config = webhook_config(
        settings(webhook_url="https://bot.example.org/tg/hook", webhook_secret="Abc_9-x")
    )
    assert (config.url, config.path, config.secret) == (
        "https://bot.example.org/tg/hook",
        "/tg/hook",
        "Abc_9-x",
    )
    assert "Abc_9-x" not in repr(config)


def test_without_a_secret_each_start_makes_its_own() -> None:
    plain = settings(webhook_url="https://bot.example.org")
    first, second = webhook_config(plain), webhook_config(plain)
    assert first.path == "/"
    assert len(first.secret) >= 32 and first.secret != second.secret


@pytest.mark.parametrize(
    ("bot", "names"),
    [
        ({}, "ARTISTO_BOT__WEBHOOK_URL"),
        ({"webhook_url": "bot.example.org/hook"}, "ARTISTO_BOT__WEBHOOK_URL"),
        ({"webhook_url": "https://bot.example.org/metrics"}, "must not end in /metrics"),
        (
            {"webhook_url": "https://bot.example.org/h", "webhook_secret": "no spaces"},
            "ARTISTO_BOT__WEBHOOK_SECRET",
        ),
    ],
)
def test_unworkable_settings_are_refused(bot: dict[str, object], names: str) -> None:
    with pytest.raises(WebhookConfigError, match=names):
        webhook_config(settings(**bot))


def test_artisto_run_says_what_to_set_before_starting(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings()) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("artisto: error: webhook mode needs ARTISTO_BOT__WEBHOOK_URL")


def test_bot_processes_behind_a_load_balancer_need_one_shared_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    replica = settings(webhook_url="https://bot.example.org/hook").model_copy(
        update={"db": DbSettings(url=SecretStr("postgresql+asyncpg://u@127.0.0.1:1/db"))}
    )
    assert run(replica, Role.BOT) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("artisto: error: --role bot in webhook mode needs ARTISTO_BOT__WEBHOOK")
