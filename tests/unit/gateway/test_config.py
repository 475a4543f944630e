from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from surge_gateway.entrypoints.cli import main

from tests.unit.gateway.conftest import settings_for


def test_the_public_key_can_come_from_a_file(tmp_path: Path, keypair: tuple[bytes, bytes]) -> None:
    path = tmp_path / "public.pem"
    path.write_bytes(keypair[1])
    settings = settings_for(b"", jwt_public_key=None, jwt_public_key_file=str(path))
    assert settings.public_key_pem() == keypair[1].decode()


def test_exactly_one_public_key_setting_is_required(keypair: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        settings_for(keypair[1], jwt_public_key=None)
    with pytest.raises(ValidationError, match="exactly one"):
        settings_for(keypair[1], jwt_public_key_file=__file__)


def test_a_missing_key_file_fails_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no file"):
        settings_for(b"", jwt_public_key=None, jwt_public_key_file=str(tmp_path / "nope.pem"))


def test_a_missing_required_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DATABASE_URL", "ORDER_ADDR", "INVENTORY_ADDR", "FULFILLMENT_ADDR"):
        monkeypatch.delenv(f"SURGE_GATEWAY_{name}", raising=False)
    with pytest.raises(SystemExit):
        main(["serve"])
    assert "SURGE_GATEWAY_ORDER_ADDR is required" in capsys.readouterr().err


def test_keys_command_makes_the_pair_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["keys", "--dir", str(tmp_path)])
    public = Path(capsys.readouterr().out.strip())
    first = public.read_bytes()
    main(["keys", "--dir", str(tmp_path)])
    assert public.read_bytes() == first
    assert public.name == "jwt-public.pem"
    assert (tmp_path / "jwt-private.pem").exists()
