"""The mail and clock settings come from REFERRAL_ variables, typed, and are checked at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from referral import ConfigurationError, create_app


def test_the_mail_settings_are_read_as_typed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REFERRAL_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("REFERRAL_SMTP_PORT", "465")
    monkeypatch.setenv("REFERRAL_SMTP_TLS", "ssl")
    monkeypatch.setenv("REFERRAL_SMTP_USER", "ruta")
    monkeypatch.setenv("REFERRAL_SMTP_PASSWORD", "123456")  # JSON would make it a number
    monkeypatch.setenv("REFERRAL_MAIL_SENDER", "ruta@example.org")
    monkeypatch.setenv("REFERRAL_ANSWER_DUE_HOURS", "72")
    monkeypatch.setenv("REFERRAL_CHILD_NOTICE_ESCALATE_HOURS", "12")
    monkeypatch.setenv("REFERRAL_REFLECTION_REMINDER_DAYS", "")  # empty: the default
    app = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
    assert (app.config["SMTP_HOST"], app.config["SMTP_PORT"]) == ("mail.example.org", 465)
    assert (app.config["SMTP_TLS"], app.config["SMTP_PASSWORD"]) == ("ssl", "123456")
    assert app.config["ANSWER_DUE_HOURS"] == 72
    assert app.config["CHILD_NOTICE_ESCALATE_HOURS"] == 12
    assert app.config["REFLECTION_REMINDER_DAYS"] == 5


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REFERRAL_SMTP_TLS", "maybe", "REFERRAL_SMTP_TLS must be starttls, ssl or none"),
        ("REFERRAL_SMTP_PORT", "smtp", "REFERRAL_SMTP_PORT must be a whole number"),
        ("REFERRAL_ANSWER_DUE_HOURS", "-1", "REFERRAL_ANSWER_DUE_HOURS must be 0 or more"),
    ],
)
def test_a_bad_mail_setting_stops_the_app_saying_why(
    tmp_path: Path, monkeypatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False})
