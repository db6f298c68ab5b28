"""Fixtures of the account tests: the suite's database served with other settings."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask


@pytest.fixture
def app_with(app: Flask, app_factory: Callable[..., Flask]) -> Callable[..., Flask]:
    """``app_with(SECOND_FACTOR="privileged", ...)``: the database ``app`` prepared (seeded,
    empty otherwise) served by another app with these settings over the suite's."""
    return app_factory


@pytest.fixture
def limited_app(app_with: Callable[..., Flask]) -> Flask:
    """The per-address rate limits on."""
    return app_with(RATELIMIT_ENABLED=True)
