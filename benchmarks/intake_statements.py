"""The statements and CPU time of one intake submission, in-process (issue 17).

    python benchmarks/intake_statements.py --instance DIR [--database-url URL] [--submissions 200]

The app runs in this process (Flask's test client), signed in as the benchmark's screener
(benchmarks/intake.py prepares the same drafts). Every submission's SQL statements are
counted with SQLAlchemy's ``before_cursor_execute`` event (SQLite's ``BEGIN IMMEDIATE``
included; the driver's own BEGIN and COMMIT are not statements SQLAlchemy sends, so they are
not), and its CPU time is taken with ``time.process_time``, which a busy, shared machine
does not inflate. Printed: the statements of the first submission and of the longest, then
their count and the CPU milliseconds (p50, p95, mean) over all of them.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from benchmarks.common import machine
from benchmarks.intake import EMAIL, PASSWORD, prepare

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def shorten(statement: str) -> str:
    return " ".join(statement.split())[:110]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--submissions", type=int, default=200)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.instance.resolve()}/referral.db"
    env = {
        "REFERRAL_INSTANCE_PATH": str(args.instance.resolve()),
        "REFERRAL_DATABASE_URL": url,
        "REFERRAL_SECRET_KEY": "benchmark-secret-key-not-for-production",
        "REFERRAL_AUTO_SETUP": "false",
    }
    keys, cases = prepare(env, args.submissions + 1)
    from referral import create_app
    from referral.db import get_db

    app = create_app({"AUTO_SETUP": False})
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    database = get_db(app)
    engines = {database.writer, database.reader}
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, "no CSRF token on the sign-in page"
    answer = client.post(
        "/sign-in", data={"csrf_token": token.group(1), "email": EMAIL, "password": PASSWORD}
    )
    assert answer.status_code == 302, answer.status_code
    csrf = TOKEN.search(client.get("/intake").get_data(as_text=True))
    assert csrf, "no CSRF token on the intake page"
    frozen = client.get_cookie("session")
    assert frozen is not None
    # The first submission builds the catalogue and compiles the statements: not counted.
    warm = client.post(f"/intake/{keys[0]}/submit", data={"csrf_token": csrf.group(1)})
    assert warm.status_code == 302, warm.status_code
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    counts: list[int] = []
    cpus: list[float] = []
    first: list[str] = []
    longest: list[str] = []
    for key in keys[1:]:
        client.set_cookie("session", frozen.value)
        statements.clear()
        started = time.process_time()
        response = client.post(f"/intake/{key}/submit", data={"csrf_token": csrf.group(1)})
        cpus.append((time.process_time() - started) * 1000)
        assert response.status_code == 302 and "/cases/" in response.headers["Location"]
        counts.append(len(statements))
        if not first:
            first = [shorten(s) for s in statements]
        if len(statements) > len(longest):
            longest = [shorten(s) for s in statements]
    result = {
        "machine": machine(),
        "database": url.split(":", 1)[0],
        "cases_before": cases,
        "submissions": len(counts),
        "statements_first": first,
        "statements_longest": longest,
        "statements": {"min": min(counts), "max": max(counts), "mean": statistics.fmean(counts)},
        "cpu_ms": {
            "p50": statistics.median(cpus),
            "p95": percentile(cpus, 0.95),
            "mean": statistics.fmean(cpus),
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
