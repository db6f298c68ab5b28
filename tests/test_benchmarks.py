"""Every benchmark script runs once at a small size, so none of them can rot.

The figures are not checked here (timed tests are not how performance is measured in this
project: see docs/benchmarks.md); only that each script finishes and reports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.common import flask_command
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _scratch_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripts' scratch databases (``tempfile.mkdtemp``) go where pytest cleans up."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))


def run(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_routing_benchmark() -> None:
    assert "decision" in run("routing.py", "--records", "200", "--services", "300")


def test_dashboard_benchmark() -> None:
    assert "slowest panel" in run("dashboard.py", "--cases", "150")


def test_whatif_benchmark() -> None:
    assert "total" in run("whatif.py", "--cases", "150")


def test_provider_benchmark() -> None:
    output = run("provider.py", "--cases", "150", "--referrals", "400", "--requests", "5")
    assert "provider inbox (page): p95" in output and "API list, provider" in output


def test_stats_benchmark() -> None:
    assert "microdata" in run("stats.py", "--cases", "200")


@pytest.mark.load
def test_intake_benchmark(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {"REFERRAL_INSTANCE_PATH": str(instance), "REFERRAL_AUTO_SETUP": "false"}
    seeded = subprocess.run(
        flask_command("seed"), cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    output = run(
        "intake.py", "--instance", str(instance), "--duration", "2", "--clients", "2",
        "--drafts", "400", "--rounds", "2", env=env,
    )  # fmt: skip
    assert '"ruta_submissions"' in output and '"bare_inserts"' in output


@pytest.fixture(scope="module")
def small_instance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A seeded instance with a few generated cases, for the CLI and case-page scripts."""
    instance = tmp_path_factory.mktemp("bench") / "instance"
    env = {"REFERRAL_INSTANCE_PATH": str(instance), "REFERRAL_AUTO_SETUP": "false"}
    for command in (("seed",), ("demo", "generate", "--cases", "30")):
        done = subprocess.run(
            flask_command(*command), cwd=ROOT, env={**os.environ, **env},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    return env


def test_cli_benchmark(small_instance: dict[str, str]) -> None:
    output = run(
        "cli.py", "--instance", small_instance["REFERRAL_INSTANCE_PATH"], "--runs", "1",
        "--records", "50", env=small_instance,
    )  # fmt: skip
    assert '"startup_ratio_to_baseline"' in output


def test_case_page_benchmark(small_instance: dict[str, str]) -> None:
    output = run(
        "case_page.py", "--instance", small_instance["REFERRAL_INSTANCE_PATH"], "--requests", "5",
        env=small_instance,
    )  # fmt: skip
    assert '"200": 5' in output


def test_dashboard_page_benchmark(small_instance: dict[str, str]) -> None:
    output = run(
        "dashboard_page.py", "--instance", small_instance["REFERRAL_INSTANCE_PATH"],
        "--requests", "1", env=small_instance,
    )  # fmt: skip
    assert '"one state, cut"' in output and '"slowest_p95_ms"' in output


def test_multiply_benchmark(small_instance: dict[str, str], tmp_path: Path) -> None:
    """The copies are whole cases: the counts rebuilt over them equal a recount after."""
    instance = tmp_path / "grown"
    shutil.copytree(small_instance["REFERRAL_INSTANCE_PATH"], instance)
    env = {**small_instance, "REFERRAL_INSTANCE_PATH": str(instance)}
    output = run("multiply.py", "--instance", str(instance), "--cases", "75", env=env)
    assert "75 cases after" in output
    rebuilt = subprocess.run(
        flask_command("aggregates", "rebuild"), cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert rebuilt.returncode == 0 and "equal a recount" in rebuilt.stdout, rebuilt.stderr


def test_intake_statements_benchmark(small_instance: dict[str, str], tmp_path: Path) -> None:
    """On a copy: the submissions it makes leave the shared instance as the others expect."""
    instance = tmp_path / "submitted"
    shutil.copytree(small_instance["REFERRAL_INSTANCE_PATH"], instance)
    env = {**small_instance, "REFERRAL_INSTANCE_PATH": str(instance)}
    output = run("intake_statements.py", "--instance", str(instance), "--submissions", "3", env=env)
    assert '"statements_first"' in output and '"cpu_ms"' in output
