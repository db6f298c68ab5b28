"""The supervisor's dashboard as a supervisor waits for it: `GET /supervision` (issue 17).

    python benchmarks/dashboard_page.py --instance DIR [--database-url URL] [--requests 10]

The whole page, request to rendered HTML, in this process (Flask's test client: no network,
no gunicorn), on a database as it is (fill it with `flask --app referral demo generate` and
`benchmarks/multiply.py`). Signed in as a national admin and as a supervisor of one state,
each with no filter, one year, a range that cuts two months and one need. Reported per
scope: wall and CPU milliseconds (p50, p95, max) over ``--requests`` requests after one
warm-up request, with start-up's objects frozen as ``wsgi.py`` freezes them; the CPU time
is the part a busy, shared machine does not inflate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from benchmarks.common import as_served, ensure_account, in_process_app, machine, signed_in

PEOPLE = {
    "national": ("bench-national@example.org", "admin", [], True),
    "one state": ("bench-chiapas@example.org", "supervisor", ["MX-CHP"], False),
}
SCOPES = {
    "all time": "",
    "2024": "?since=2024-01-01&until=2024-12-31",
    "cut": "?since=2024-02-10&until=2025-05-20",
    "one need": "?need=shelter",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--scopes", default=",".join(SCOPES), help="which, comma-separated")
    parser.add_argument("--people", default=",".join(PEOPLE), help="which, comma-separated")
    args = parser.parse_args()
    scopes = {name: SCOPES[name] for name in args.scopes.split(",")}
    people = {name: PEOPLE[name] for name in args.people.split(",")}
    app = in_process_app(args.instance, args.database_url)
    from referral.casework.models import Case
    from referral.db import get_db

    with app.app_context(), get_db(app).transaction() as session:
        for email, role, states, national in PEOPLE.values():
            ensure_account(session, email, role, states, national)
        cases = int(session.execute(select(func.count()).select_from(Case)).scalar_one())
    results: dict[str, Any] = {}
    for who, (email, *_rest) in people.items():
        client = signed_in(app, email)
        frozen = client.get_cookie("session")
        assert frozen is not None
        for scope, query in scopes.items():
            url = f"/supervision{query}"
            first = client.get(url)  # the catalogue and templates, built once per worker
            assert first.status_code == 200, (url, first.status_code)
            as_served()
            walls: list[float] = []
            cpus: list[float] = []
            for _ in range(args.requests):
                client.set_cookie("session", frozen.value)
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                assert response.status_code == 200, response.status_code
            results[f"{who}, {scope}"] = {
                "wall_ms": {
                    "p50": round(statistics.median(walls), 1),
                    "p95": round(percentile(walls, 0.95), 1),
                    "max": round(max(walls), 1),
                },
                "cpu_ms": {
                    "p50": round(statistics.median(cpus), 1),
                    "p95": round(percentile(cpus, 0.95), 1),
                },
            }
    slowest = max(results.values(), key=lambda r: r["wall_ms"]["p95"])
    print(
        json.dumps(
            {
                "machine": machine(),
                "database": (args.database_url or "sqlite").split(":", 1)[0],
                "cases": cases,
                "requests": args.requests,
                "pages": results,
                "slowest_p95_ms": slowest["wall_ms"]["p95"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
