"""Case page benchmark: server time of `GET /cases/<code>` on a filled database (issue 17).

    python benchmarks/case_page.py --instance DIR [--database-url URL] [--requests 300]

The app runs in this process (Flask's test client: no network, no gunicorn), signed in as a
national supervisor; each request opens a different case picked at random (fixed seed)
among every case stored. Reported: wall and CPU milliseconds per request (p50, p95), the
CPU time being the part a busy, shared machine does not inflate. Use
`flask --app referral demo generate` first to fill the database.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from benchmarks.common import as_served, ensure_account, in_process_app, machine, signed_in

EMAIL = "bench-supervisor@example.org"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    app = in_process_app(args.instance, args.database_url)
    from referral.casework.models import Case
    from referral.db import get_db

    with app.app_context(), get_db(app).transaction() as session:
        ensure_account(session, EMAIL, "supervisor", [], True)
        cases = int(session.execute(select(func.count()).select_from(Case)).scalar_one())
        top = int(session.execute(select(func.max(Case.id))).scalar_one() or 0)
        rng = random.Random(17)
        wanted = sorted({rng.randint(1, top) for _ in range(args.requests * 2)})
        codes = list(session.execute(select(Case.code).where(Case.id.in_(wanted))).scalars())  # type: ignore[union-attr]
    rng.shuffle(codes)
    codes = codes[: args.requests]
    client = signed_in(app, EMAIL)
    assert client.get(f"/cases/{codes[0]}").status_code == 200, "the supervisor cannot open it"
    frozen = client.get_cookie("session")
    assert frozen is not None
    client.get(f"/cases/{codes[0]}")  # the catalogue and templates, built once per worker
    as_served()
    walls: list[float] = []
    cpus: list[float] = []
    statuses: dict[int, int] = {}
    for code in codes:
        client.set_cookie("session", frozen.value)
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/cases/{code}")
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert code in response.get_data(as_text=True) or response.status_code != 200
    result = {
        "machine": machine(),
        "database": (args.database_url or "sqlite").split(":", 1)[0],
        "cases": cases,
        "requests": len(codes),
        "statuses": statuses,
        "wall_ms": {
            "p50": statistics.median(walls),
            "p95": percentile(walls, 0.95),
            "max": max(walls),
        },
        "cpu_ms": {"p50": statistics.median(cpus), "p95": percentile(cpus, 0.95)},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
