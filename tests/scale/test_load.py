"""Load: 20 screeners submitting full intakes and 5 supervisors reading, for 60 seconds.

Against gunicorn with 2 workers on loopback, on the suite's database (SQLite, or a fresh
database on the suite's PostgreSQL). Nothing may answer 5xx, and every submission answered
with its new case is stored exactly once: stored cases == successful submissions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.scale.conftest import (
    Instance,
    Server,
    count,
    half_written,
    percentile,
    prepare_instance,
    run_load,
)

SCREENERS = 20
SUPERVISORS = 5
SECONDS = float(os.environ.get("REFERRAL_LOAD_SECONDS", "60"))


@pytest.mark.load
def test_twenty_screeners_and_five_supervisors_for_a_minute(
    tmp_path: Path, scale_database_url: str, start_server: Callable[..., Server]
) -> None:
    instance: Instance = prepare_instance(
        tmp_path / "instance",
        scale_database_url,
        screeners=SCREENERS,
        supervisors=SUPERVISORS,
    )
    server = start_server(instance.env(REFERRAL_SECRET_KEY="load-test-secret"))

    result = run_load(server.port, instance.screeners, instance.supervisors, seconds=SECONDS)
    server.stop()

    summary = {
        "database": scale_database_url.split(":", 1)[0],
        "seconds": SECONDS,
        "answers": result.answers,
        "submitted": result.submitted,
        "reads": result.reads,
        "submit_p50_ms": round(percentile(result.submit_seconds, 0.5) * 1000),
        "submit_p95_ms": round(percentile(result.submit_seconds, 0.95) * 1000),
        "read_p50_ms": round(percentile(result.read_seconds, 0.5) * 1000),
        "read_p95_ms": round(percentile(result.read_seconds, 0.95) * 1000),
    }
    print("load:", json.dumps(summary))
    assert result.failures == [], result.failures[:5]
    assert result.server_errors == [], result.server_errors[:3]
    assert result.submitted >= SCREENERS, "the load made too few submissions to mean anything"
    assert result.reads >= SUPERVISORS
    assert count(scale_database_url, "case_file") == result.submitted
    assert half_written(scale_database_url) == {}
