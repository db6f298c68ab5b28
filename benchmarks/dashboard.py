"""Gap dashboard (issue 6 per panel; issue 17 asks the whole page < 1 s at 1,000,000 cases).

    .venv/bin/python benchmarks/dashboard.py [--cases 20000] [--database-url URL] [--keep]

Times, best of three, for a national admin and for a supervisor of one state, with no
filter, a one-year range and a range that cuts months: the whole page's numbers from the
maintained aggregates (``aggregates.read_dashboard``: every panel, in one snapshot) against
the full recount of every panel (the reference queries, the page before issue 17), as a
ratio; then every panel of the recount alone. Also the time of a full ``rebuild``.
"""

from __future__ import annotations

import time
from datetime import date
from functools import partial
from typing import Any

from supervision_common import NATIONAL, ONE_STATE, app_with_cases, arguments

from benchmarks.common import machine
from referral.db import get_db
from referral.supervision import aggregates, queries


def best_of(runs: int, work: Any) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def panel_work(session: Any, reach: Any, filters: queries.Filters) -> dict[str, Any]:
    """Every panel of the dashboard as a function of nothing, ready to time."""
    work: dict[str, Any] = {
        p: partial(queries.gap_counts, session, reach, filters, p)
        for p in (*queries.GAP_PANELS, *queries.PROFILE_PANELS)
    }
    work["total"] = partial(queries.gap_total, session, reach, filters)
    for p in queries.REFERRAL_PANELS:
        work[p] = partial(queries.referral_counts, session, reach, filters, p)
    work["outcomes"] = partial(queries.outcomes, session, reach, filters)
    work["encounter"] = partial(queries.screenings_by_encounter, session, reach, filters)
    return work


def main() -> None:
    args = arguments(__doc__ or "", 20_000)
    app = app_with_cases(args.database_url, args.cases, args.seed, args.keep)
    print(f"machine: {machine()}; database: {get_db(app).writer.dialect.name}")
    year = queries.Filters(since=date(2024, 1, 1), until=date(2024, 12, 31))
    cut = queries.Filters(since=date(2024, 2, 10), until=date(2025, 5, 20))
    with app.app_context():
        with get_db(app).transaction() as session:
            started = time.perf_counter()
            result = aggregates.rebuild(session)
            rebuild = time.perf_counter() - started
        print(f"rebuild: {rebuild:.1f} s, {result.rows} count rows, differed {result.differed}")
        for who, reach in (("national", NATIONAL), ("one state", ONE_STATE)):
            for label, filters in (("all time", queries.Filters()), ("2024", year), ("cut", cut)):
                page = best_of(3, partial(aggregates.read_dashboard, reach, filters))
                with get_db(app).transaction(write=False) as session:
                    full = best_of(1, partial(aggregates.recount, session, reach, filters))
                print(
                    f"whole page, {who}, {label}: aggregates {page * 1000:.0f} ms, "
                    f"recount {full * 1000:.0f} ms, ratio {page / full:.3f}"
                )
    with app.app_context(), get_db(app).transaction(write=False) as session:
        for who, reach in (("national", NATIONAL), ("one state", ONE_STATE)):
            for label, filters in (("all time", queries.Filters()), ("2024", year)):
                panels = panel_work(session, reach, filters)
                timings = {name: best_of(3, work) for name, work in panels.items()}
                worst = max(timings, key=lambda k: timings[k])
                print(
                    f"{who}, {label}: slowest panel {worst} {timings[worst] * 1000:.0f} ms; "
                    + ", ".join(f"{k} {v * 1000:.0f}" for k, v in timings.items())
                )


if __name__ == "__main__":
    main()
