"""Fixtures of the account tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from referral import create_app
from tests.conftest import TEST_ARGON2


@pytest.fixture
def limited_app(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The suite's database (seeded by ``app``) served with the per-address rate limits on."""
    instance = tmp_path / "limited"
    instance.mkdir()
    limited = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": "test-secret-key",
            "AUTO_SETUP": False,
            "INSTANCE_PATH": str(instance),
            "SECOND_FACTOR": "none",
            **TEST_ARGON2,
        }
    )
    yield limited
    from referral.db import get_db

    get_db(limited).dispose()
