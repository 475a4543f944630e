from __future__ import annotations

import pytest
from pydantic_settings import SettingsConfigDict
from surge_platform.config import ServiceSettings, load_settings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURGE_DEMO_")


def test_missing_settings_stop_start_up_naming_each_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SURGE_DEMO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SURGE_DEMO_NATS_URL", raising=False)

    with pytest.raises(SystemExit) as stopped:
        load_settings(DemoSettings)

    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "SURGE_DEMO_DATABASE_URL is required" in err
    assert "SURGE_DEMO_NATS_URL is required" in err


def test_invalid_setting_is_named_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SURGE_DEMO_DATABASE_URL", "postgresql+asyncpg://x/y")
    monkeypatch.setenv("SURGE_DEMO_NATS_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("SURGE_DEMO_GRPC_PORT", "99999")

    with pytest.raises(SystemExit):
        load_settings(DemoSettings)

    assert "SURGE_DEMO_GRPC_PORT" in capsys.readouterr().err


def test_secrets_do_not_appear_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURGE_DEMO_DATABASE_URL", "postgresql+asyncpg://u:hunter2@h/db")
    monkeypatch.setenv("SURGE_DEMO_NATS_URL", "nats://127.0.0.1:4222")

    settings = load_settings(DemoSettings)

    assert "hunter2" not in repr(settings)
    assert settings.service_name == "demo"
