"""What-if at scale (issue 6): stored screenings routed again under today's directory and a draft.

    .venv/bin/python benchmarks/whatif.py [--cases 100000] [--database-url URL]

Goal: 100,000 stored screenings in under 30 s (load the records, route each distinct record
against both catalogues, count the gaps). The draft adds a shelter for men in Guerrero.
"""

from __future__ import annotations

import time

from supervision_common import NATIONAL, app_with_cases, arguments

from benchmarks.common import machine
from referral.db import get_db
from referral.directory.catalogue import catalogue_cache
from referral.supervision import whatif

DRAFT = whatif.DraftChange(
    kind="add",
    values={
        "id": "draft-gro-men", "name": {"es": "Albergue", "en": "Shelter"}, "need": "shelter",
        "status": "active", "operator": "ngo", "coverage": ["MX-GRO"], "min_age": 18,
        "max_age": None, "sexes": ["male"], "male_max_age": None, "accepts_foreign": True,
        "languages": ["es"], "capacity_available": None, "requires_complaint": False,
        "requires_victim_status": False, "accepts_companions": True,
        "companion_max_age_male": None, "specializations": [], "tags": [], "source": "draft",
    },
)  # fmt: skip


def main() -> None:
    args = arguments(__doc__ or "", 100_000)
    app = app_with_cases(args.database_url, args.cases, args.seed, args.keep)
    with app.app_context(), get_db(app).transaction(write=False) as session:
        started = time.perf_counter()
        today = catalogue_cache(app).get(session)
        draft = whatif.draft_catalogue(today, [DRAFT], catalogue_cache(app).rules)
        built = time.perf_counter()
        records = whatif.stored_records(session, NATIONAL, None, None, None)
        loaded = time.perf_counter()
        comparison = whatif.compare(records, today, draft)
        done = time.perf_counter()
    dialect = get_db(app).writer.dialect.name
    print(f"machine: {machine()}; database: {dialect}")
    print(
        f"screenings {comparison.screenings}, distinct records {comparison.distinct}; "
        f"draft catalogue {built - started:.2f} s, load {loaded - built:.2f} s, "
        f"route and count {done - loaded:.2f} s, total {done - started:.2f} s "
        f"(goal: 100,000 in < 30 s); gaps today {comparison.total_today}, "
        f"with the draft {comparison.total_draft}, closed {dict(comparison.closed)}"
    )


if __name__ == "__main__":
    main()
