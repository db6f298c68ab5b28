"""Fixtures of the account tests: the suite's database served with other settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from referral import create_app
from tests.conftest import TEST_ARGON2


@pytest.fixture
def app_with(app: Flask, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """``app_with(SECOND_FACTOR="privileged", ...)``: the database ``app`` prepared (seeded,
    empty otherwise) served by another app with these settings over the suite's."""
    from referral.db import get_db

    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        instance = tmp_path / f"instance-{len(made)}"
        instance.mkdir()
        other = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": app.config["DATABASE_URL"],
                "SECRET_KEY": "test-secret-key",
                "AUTO_SETUP": False,
                "INSTANCE_PATH": str(instance),
                "RATELIMIT_ENABLED": False,
                "SECOND_FACTOR": "none",
                **TEST_ARGON2,
                **config,
            }
        )
        made.append(other)
        return other

    yield make
    for other in made:
        get_db(other).dispose()


@pytest.fixture
def limited_app(app_with: Callable[..., Flask]) -> Flask:
    """The per-address rate limits on."""
    return app_with(RATELIMIT_ENABLED=True)
