"""Gap dashboard (issue 6 per panel; issue 17 asks the whole page < 1 s at 1,000,000 cases).

    .venv/bin/python benchmarks/dashboard.py [--cases 20000] [--database-url URL] [--keep]
        [--rebuild] [--no-panels]

``--keep`` times a database as it is (migrated first, never regenerated; the counts are
rebuilt only with ``--rebuild``, which takes long at 1,000,000 cases); ``--no-panels`` leaves
out the last table (each reference panel alone, three times: slow at that size).

Times, best of three, for a national admin and for a supervisor of one state, with no
filter, a one-year range and a range that cuts months: the whole page's numbers from the
maintained aggregates (``aggregates.read_dashboard``: every panel, in one snapshot) against
the full recount of every panel (the reference queries, the page before issue 17), as a
ratio; then every panel of the recount alone. Also the time of a full ``rebuild``.

"Whole page" is every number the page shows: ``read_dashboard`` plus the panels read per
request besides it (gap endings, open gaps by age and the oldest, the loop panel:
``extra_panels``), each of which is also timed alone. The loop panel is timed twice in the
same run: as the page reads it (maintained answer counts and clock rows) and as the
reference reads it (``loop.loop_panel_recount``: every referral event and screening, the
page before the third pass), once each scope, with the ratio.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from functools import partial
from typing import Any

from supervision_common import NATIONAL, ONE_STATE, app_with_cases

from benchmarks.common import machine
from referral.clocks.queries import Settings as ClockSettings
from referral.db import get_db, utcnow
from referral.supervision import aggregates, loop, queries


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


def extra_panels(app: Any, reach: Any, filters: queries.Filters) -> dict[str, Any]:
    """The panels the page reads besides ``read_dashboard`` (as routes.dashboard does)."""
    settings = ClockSettings.of(app.config)

    def run(name: str) -> Any:
        with get_db(app).session(write=False) as session:
            now = utcnow()
            if name == "gap_endings":
                return queries.gap_endings(session, reach, filters)
            if name == "open_and_closed":
                return queries.gaps_open_and_closed(session, reach, filters, now)
            return loop.loop_panel(session, reach, filters, settings, now)

    return {name: partial(run, name) for name in ("gap_endings", "open_and_closed", "loop")}


def whole_page(app: Any, reach: Any, filters: queries.Filters) -> None:
    aggregates.read_dashboard(reach, filters)
    for work in extra_panels(app, reach, filters).values():
        work()


def loop_reference(app: Any, reach: Any, filters: queries.Filters) -> None:
    settings = ClockSettings.of(app.config)
    with get_db(app).session(write=False) as session:
        loop.loop_panel_recount(session, reach, filters, settings, utcnow())


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep", action="store_true", help="reuse --database-url as it is (no reset, no new cases)"
    )
    parser.add_argument("--rebuild", action="store_true", help="time a full rebuild (--keep)")
    parser.add_argument("--no-panels", action="store_true", help="skip the per-panel table")
    return parser.parse_args()


def loop_parts(app: Any, reach: Any, filters: queries.Filters) -> dict[str, Any]:
    """The loop panel's parts, each alone (for the profile)."""
    settings = ClockSettings.of(app.config)

    def run(name: str) -> Any:
        with get_db(app).session(write=False) as session:
            now = utcnow()
            if name == "answer_times":
                return loop.answer_times(session, reach, filters)
            if name == "answered_by":
                return loop.answered_by(session, reach, filters)
            if name == "unanswered":
                return loop.unanswered(session, reach, filters, now)
            if name == "child_notices":
                return loop.overdue_child_notice_count(session, reach, filters, settings, now)
            return loop.reflection_counts(session, reach, filters, settings, now)

    names = ("answer_times", "answered_by", "unanswered", "child_notices", "reflections")
    return {name: partial(run, name) for name in names}


def main() -> None:
    args = arguments()
    app = app_with_cases(args.database_url, args.cases, args.seed, args.keep)
    if args.keep:  # a kept database from an older branch: migrate it first
        from referral.setup import ensure_database

        ensure_database(app)
    print(f"machine: {machine()}; database: {get_db(app).writer.dialect.name}")
    year = queries.Filters(since=date(2024, 1, 1), until=date(2024, 12, 31))
    cut = queries.Filters(since=date(2024, 2, 10), until=date(2025, 5, 20))
    with app.app_context():
        if args.rebuild or not args.keep:
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
                    f"counted panels, {who}, {label}: aggregates {page * 1000:.0f} ms, "
                    f"recount {full * 1000:.0f} ms, ratio {page / full:.3f}"
                )
                everything = best_of(3, partial(whole_page, app, reach, filters))
                extras = {k: best_of(3, w) for k, w in extra_panels(app, reach, filters).items()}
                parts = {k: best_of(3, w) for k, w in loop_parts(app, reach, filters).items()}
                reference = best_of(1, partial(loop_reference, app, reach, filters))
                print(
                    f"whole page, {who}, {label}: {everything * 1000:.0f} ms; "
                    + ", ".join(f"{k} {v * 1000:.0f}" for k, v in extras.items())
                    + "; loop parts: "
                    + ", ".join(f"{k} {v * 1000:.0f}" for k, v in parts.items())
                    + f"; loop reference {reference * 1000:.0f} ms, ratio "
                    + f"{extras['loop'] / reference:.3f}",
                    flush=True,
                )
    if args.no_panels:
        return
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
