"""Statistics exports at N stored cases (issue 7, "Speed").

    .venv/bin/python benchmarks/stats.py --cases 20000 [--database URL] [--keep]

Fills an empty database (a temporary SQLite file unless --database is given; PostgreSQL:
postgresql+psycopg://user@host:port/db, emptied first) with N synthetic cases, their
latest screenings, forms, referrals and gaps, inserted in bulk (the routing core is not
what is measured here), then runs, each in its own process:

    flask --app referral stats summary --year 2024 --public --format json   (a new release)
    flask --app referral stats summary --year 2024 --public --format json   (read back)
    flask --app referral stats microdata --format csv --out FILE
    flask --app referral stats synthetic --year 2024 --out FILE            (a new release)

and reports wall time and the peak resident memory of that process (os.wait4's rusage).
Goal (issues 7 and 15): the public summary release under 60 s and 500 MB, the microdata
under 60 s, the synthetic microdata under 5 minutes, at 1,000,000 cases.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert  # noqa: E402

from benchmarks.common import flask_command  # noqa: E402
from referral import migrate  # noqa: E402
from referral.casework.models import Case, Gap, GapReason, Referral, Screening, ScreeningForm  # noqa: E402

STATES = [
    "MX-CHP", "MX-GRO", "MX-CMX", "MX-NLE", "MX-JAL", "MX-VER", "MX-OAX", "MX-BCN",
    "MX-TLA", "MX-PUE", "MX-MEX", "MX-ROO", "unknown",
]  # fmt: skip
NATIONALITIES = ["MX"] * 8 + ["GT", "HN", "SV", "VE", "CO", "HT", "CU", "CN", "ZZ"]
FORMS = ["sexual_exploitation", "forced_labor", "unspecified", "forced_begging"]
INDICATORS = ["commercial_sex", "threats", "debt_bondage", "wages_withheld", "isolation"]
NEEDS = ["shelter", "medical", "legal_aid", "psychological", "child_protection"]
STATUSES = ["requested", "accepted", "rejected", "completed", "in_progress"]
BATCH = 10_000


def fill(url: str, cases: int, seed: int = 7) -> None:
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        from tests.conftest import reset_schema

        reset_schema(engine)
    migrate.upgrade(engine)
    rng = random.Random(seed)
    start = datetime(2022, 1, 1, 6, tzinfo=UTC)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO user_account (id, email, display_name, role, states, national,"
            " language, active, password_hash, created_at, updated_at) VALUES"
            " (1, 'bench@example.org', '', 'screener', '[]', true, 'es', true, 'x',"
            " '2022-01-01', '2022-01-01')"
        )
    referral_id = gap_id = 0
    for first in range(1, cases + 1, BATCH):
        ids = range(first, min(first + BATCH, cases + 1))
        case_rows: list[dict[str, Any]] = []
        screening_rows: list[dict[str, Any]] = []
        form_rows: list[dict[str, Any]] = []
        referral_rows: list[dict[str, Any]] = []
        gap_rows: list[dict[str, Any]] = []
        reason_rows: list[dict[str, Any]] = []
        for i in ids:
            when = start + timedelta(minutes=rng.randrange(4 * 525_600))
            status = rng.choices(["likely", "possible", "not_indicated"], [3, 2, 5])[0]
            age = rng.choice([None, 9, 14, 16, 19, 24, 31, 45, 60])
            state = rng.choice(STATES)
            nationality = rng.choice(NATIONALITIES)
            sex = rng.choice(["female", "female", "male", "unknown", "intersex"])
            minor = age is None or age < 18
            case_rows.append(
                {"id": i, "code": f"B-{i}", "state": state, "screener_id": 1,
                 "consent_referral": True, "consent_statistics": rng.random() < 0.85,
                 "latest_status": status, "latest_screening_id": i,
                 "first_screened_at": when, "created_at": when, "updated_at": when}
            )  # fmt: skip
            record = {"indicators": rng.sample(INDICATORS, rng.randrange(4)), "age": age}
            screening_rows.append(
                {"id": i, "case_id": i, "screener_id": 1, "screened_at": when,
                 "record": record, "result": {"screening": {"status": status}},
                 "rules_version": "bench", "lang": "es", "status": status, "state": state,
                 "encounter": rng.choice(["hotline", "labor_inspection", "migration_detention"]),
                 "sex": sex, "age": age, "minor": minor,
                 "foreign": nationality not in ("MX", "ZZ"), "nationality": nationality}
            )  # fmt: skip
            if status != "not_indicated":
                for form in rng.sample(FORMS, rng.choice([1, 1, 1, 2])):
                    form_rows.append({"screening_id": i, "form": form})
                for _ in range(rng.randrange(3)):
                    referral_id += 1
                    referral_rows.append(
                        {"id": referral_id, "case_id": i, "need": rng.choice(NEEDS),
                         "ad_hoc_provider": "p", "state": state,
                         "status": rng.choice(STATUSES), "version": 1, "created_by": 1,
                         "updated_by": 1, "created_at": when, "updated_at": when}
                    )  # fmt: skip
                if rng.random() < 0.4:
                    gap_id += 1
                    reasons = sorted(rng.sample(["sex", "coverage", "age", "capacity"], 2))
                    gap_rows.append(
                        {"id": gap_id, "case_id": i, "need": "shelter", "kind": "routing",
                         "state": state, "reasons": reasons, "opened_at": when}
                    )  # fmt: skip
                    reason_rows += [{"gap_id": gap_id, "reason": r} for r in reasons]
        with engine.begin() as conn:
            for model, rows in (
                (Case, case_rows),
                (Screening, screening_rows),
                (ScreeningForm, form_rows),
                (Referral, referral_rows),
                (Gap, gap_rows),
                (GapReason, reason_rows),
            ):
                if rows:
                    conn.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
        print(f"  stored {ids[-1]:,} cases", file=sys.stderr)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one CLI run in its own process."""
    began = time.perf_counter()
    process = subprocess.Popen(
        flask_command(*args),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"{args} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ruta-stats-bench-"))
    url = args.database or f"sqlite:///{workdir / 'bench.db'}"
    began = time.perf_counter()
    fill(url, args.cases)
    print(f"filled {args.cases:,} cases in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    env = {
        **os.environ,
        "REFERRAL_DATABASE_URL": url,
        "REFERRAL_INSTANCE_PATH": str(workdir / "instance"),
        "REFERRAL_AUTO_SETUP": "false",
        "REFERRAL_SECRET_KEY": "benchmark",
    }
    seeded = subprocess.run(
        flask_command("seed"),
        env=env,
        capture_output=True,
    )
    if seeded.returncode:
        raise SystemExit(seeded.stderr.decode())
    dialect = url.split(":", 1)[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"database: {dialect}, cases: {args.cases:,}")
    runs = {
        "summary --year 2024 --public (new release)": [
            "stats",
            "summary",
            "--year",
            "2024",
            "--public",
        ],
        "summary --year 2024 --public (stored)": [
            "stats",
            "summary",
            "--year",
            "2024",
            "--public",
        ],
        "summary --year 2024 (internal, exact)": ["stats", "summary", "--year", "2024"],
        "synthetic --year 2024 (new release)": [
            "stats",
            "synthetic",
            "--year",
            "2024",
            "--out",
            str(workdir / "s.csv"),
        ],
        "microdata --format csv": [
            "stats",
            "microdata",
            "--format",
            "csv",
            "--out",
            str(workdir / "m.csv"),
        ],
    }
    for name, cli in runs.items():
        seconds, megabytes = measure(cli, env)
        print(f"{name}: {seconds:.2f} s, peak RSS {megabytes:.0f} MB")


if __name__ == "__main__":
    main()
