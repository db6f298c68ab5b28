from __future__ import annotations

from pathlib import Path

import pytest

from referral import ConfigurationError, create_app
from referral.config import development_secret_key


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("REFERRAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="REFERRAL_SECRET_KEY"):
        create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})


def test_production_reads_the_key_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REFERRAL_ENV", "production")
    monkeypatch.setenv("REFERRAL_SECRET_KEY", "k" * 64)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
    assert app.config["SECRET_KEY"] == "k" * 64
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_development_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_development_key_waits_for_a_concurrent_writer(tmp_path: Path) -> None:
    key = development_secret_key(tmp_path)
    assert development_secret_key(tmp_path) == key


def test_bad_environment_value_is_explained(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REFERRAL_AUTO_SETUP", "perhaps")
    with pytest.raises(ConfigurationError, match="REFERRAL_AUTO_SETUP must be true or false"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("REFERRAL_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path}/referral.db"


def test_instance_config_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("SESSION_IDLE_MINUTES = 7\n")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
    assert app.config["SESSION_IDLE_MINUTES"] == 7


def test_typed_settings_read_the_text_as_typed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REFERRAL_AUTO_SETUP", "no")
    monkeypatch.setenv("REFERRAL_SESSION_IDLE_MINUTES", "20")
    monkeypatch.setenv("REFERRAL_SECRET_KEY", "12345678901234567890")  # JSON would make it a number
    monkeypatch.setenv("REFERRAL_REFERRAL_STALE_DAYS", "")  # empty counts as not set
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["AUTO_SETUP"] is False
    assert app.config["SESSION_IDLE_MINUTES"] == 20
    assert app.config["SECRET_KEY"] == "12345678901234567890"
    assert app.config["REFERRAL_STALE_DAYS"] == 7


def test_a_number_that_is_not_whole_is_explained(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REFERRAL_LOGIN_MAX_FAILURES", "2.5")
    with pytest.raises(ConfigurationError, match="REFERRAL_LOGIN_MAX_FAILURES must be a whole"):
        create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})


def test_any_other_flask_setting_comes_from_the_environment_as_json(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("REFERRAL_SESSION_COOKIE_NAME", "ruta_session")
    monkeypatch.setenv("REFERRAL_SEND_FILE_MAX_AGE_DEFAULT", "600")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
    assert app.config["SESSION_COOKIE_NAME"] == "ruta_session"
    assert app.config["SEND_FILE_MAX_AGE_DEFAULT"] == 600


def test_a_nested_name_under_a_plain_setting_is_explained(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REFERRAL_ENV__MODE", "fast")
    with pytest.raises(ConfigurationError, match="REFERRAL_ENV__MODE"):
        create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
