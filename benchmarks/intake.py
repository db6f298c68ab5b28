"""Intake benchmark: screening submissions per second through gunicorn, against a baseline.

    python benchmarks/intake.py --instance DIR [--database-url URL] [--clients 8] [--duration 30]
        [--rounds 1] [--drafts N]

Ruta and a bare Flask endpoint that inserts one row (benchmarks/bare_app.py) are each
served by gunicorn with 2 workers on loopback and loaded by the same number of client
threads, one after the other, in the same run (``--rounds N``: N turns each, DURATION in
all per side, so that other work on a shared machine weighs on both alike). A "submission"
is the request that turns a completed intake draft into a case: it checks every section,
routes the record with the rules core against the live directory, and stores the case, the
screening, its forms, its routing gaps and the audit event in one transaction. The drafts
are prepared before the clock starts, and those left unsubmitted are removed afterwards, so
the benchmark runs again and again against one existing database (for example one filled
with `flask --app referral demo generate`) without regenerating it.
"""

from __future__ import annotations

import argparse
import json
import queue
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from benchmarks.bare_app import create_table
from benchmarks.common import Browser, Timings, gunicorn, machine, run_clients

EMAIL = "bench-screener@example.org"
PASSWORD = "benchmark passphrase 2026"
STATES = ("MX-CHP", "MX-GRO", "MX-TLA", "MX-VER", "MX-CMX", "MX-JAL")
DRAFT: dict[str, Any] = {
    "encounter": "migration_detention",
    "state": "MX-CHP",
    "setting": "urban",
    "age": 15,
    "age_unknown": False,
    "clearly_adult": False,
    "sex": "female",
    "nationality": "HN",
    "languages": ["es"],
    "other_languages": "",
    "migration_status": "irregular",
    "vulnerabilities": [],
    "companions": [],
    "indicators": ["commercial_sex", "threats"],
    "sector": "",
    "needs": ["shelter", "medical"],
    "immediate_danger": False,
    "cross_border": False,
    "organized_crime": False,
    "official_involvement": False,
    "complaint_filed": False,
    "victim_status": False,
    "consent_referral": "yes",
    "consent_statistics": "yes",
    "notes": "",
}


def prepare(env: dict[str, str], drafts: int) -> tuple[list[str], int]:
    """The benchmark screener, ``drafts`` completed drafts, and the number of cases now."""
    import os

    os.environ.update(env)
    from referral import create_app
    from referral.auth import operations as accounts
    from referral.casework import forms
    from referral.casework.drafts import SECTIONS
    from referral.casework.models import Case, Draft
    from referral.casework.routes import section_problems
    from referral.db import get_db, utcnow
    from referral.directory.catalogue import current_catalogue

    app = create_app({"AUTO_SETUP": False})
    with app.test_request_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        digest = catalogue.seeds_digest
        user = accounts.user_by_email(session, EMAIL)
        if user is None:
            data = accounts.AccountData(EMAIL, "screener", [], True, "Benchmark")
            user = accounts.create_user(session, data, PASSWORD, actor_id=None)
        keys = [secrets.token_urlsafe(24) for _ in range(drafts)]
        now = utcnow()
        rows = []
        stamps: dict[tuple[str, int], dict[str, str]] = {}
        for index, key in enumerate(keys):
            data = dict(DRAFT, state=STATES[index % len(STATES)], age=10 + index % 50)
            variant = (data["state"], data["age"])
            if variant not in stamps:
                # As if each section had been saved through its form: validated by the app's
                # own code, then stamped (so submission does not validate it again).
                if section_problems(Draft(data=data, checked={})):
                    raise RuntimeError(f"the benchmark's draft {variant} is not valid")
                stamps[variant] = {
                    s: forms.section_fingerprint(data, s, digest, catalogue.indicators)
                    for s in SECTIONS[:-1]
                }
            rows.append(
                {
                    "key": key,
                    "user_id": user.id,
                    "data": data,
                    "checked": stamps[variant],
                    "section": "review",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        session.execute(insert(Draft), rows)
        cases = session.execute(select(func.count()).select_from(Case)).scalar_one()
    return keys, int(cases)


def count_cases(env: dict[str, str]) -> int:
    from referral import create_app
    from referral.casework.models import Case
    from referral.db import get_db

    app = create_app({"AUTO_SETUP": False})
    with Session(get_db(app).reader) as session:
        return int(session.execute(select(func.count()).select_from(Case)).scalar_one())


def discard_unsubmitted(keys: list[str]) -> int:
    """Remove the benchmark's drafts the clock left unsubmitted (run after run against one
    large database, they would pile up in its screener's list). Returns how many."""
    from referral import create_app
    from referral.casework.models import Draft
    from referral.db import get_db

    app = create_app({"AUTO_SETUP": False})
    removed = 0
    with get_db(app).transaction() as session:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            result = session.execute(
                delete(Draft).where(
                    Draft.key.in_(chunk),  # type: ignore[attr-defined]
                    Draft.submitted_case_id.is_(None),  # type: ignore[union-attr]
                )
            )
            removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed


def signed_in_browsers(port: int, clients: int) -> list[tuple[Browser, str]]:
    """One signed-in browser and its CSRF token per client."""
    browsers = []
    for _ in range(clients):
        browser = Browser(port)
        browser.sign_in(EMAIL, PASSWORD)
        token = browser.csrf("/")
        browser.frozen = True
        browsers.append((browser, token))
    return browsers


def submit_phase(
    browsers: list[tuple[Browser, str]], pending: queue.Queue[str], duration: float
) -> tuple[Timings, float]:
    def work(index: int, timings: Timings, deadline: float) -> None:
        browser, token = browsers[index]
        while time.monotonic() < deadline:
            try:
                key = pending.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            try:
                status, _h, _t = browser.request(
                    "POST", f"/intake/{key}/submit", {"csrf_token": token}
                )
            except OSError:
                status = 0  # the connection failed: counted, never hidden
            timings.add(time.perf_counter() - started, status)

    return run_clients(len(browsers), duration, work)


def merged(phases: list[tuple[Timings, float]]) -> tuple[Timings, float]:
    """The rounds of one side as one phase: every latency and status, the seconds summed."""
    total = Timings()
    for timings, _seconds in phases:
        total.latencies.extend(timings.latencies)
        for status, count in timings.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
    return total, sum(seconds for _t, seconds in phases)


def bare_phase(port: int, clients: int, duration: float) -> tuple[Timings, float]:
    def work(index: int, timings: Timings, deadline: float) -> None:
        browser = Browser(port)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status, _h, _t = browser.request("POST", "/insert", body=f"row {index}")
            except OSError:
                status = 0  # the connection failed: counted, never hidden
            timings.add(time.perf_counter() - started, status)

    return run_clients(clients, duration, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--drafts", type=int, default=None)
    parser.add_argument(
        "--rounds", type=int, default=1, help="phases taking turns (each side DURATION in all)"
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.instance.resolve()}/referral.db"
    env = {
        "REFERRAL_INSTANCE_PATH": str(args.instance.resolve()),
        "REFERRAL_DATABASE_URL": url,
        "REFERRAL_SECRET_KEY": "benchmark-secret-key-not-for-production",
        "REFERRAL_AUTO_SETUP": "false",
    }
    drafts = args.drafts or int(args.clients * args.duration * 400)
    keys, before = prepare(env, drafts)
    pending: queue.Queue[str] = queue.Queue()
    for key in keys:
        pending.put(key)
    bare_env = {"BARE_DATABASE_URL": url}
    create_table(url)
    # Both servers up at once (the idle one costs nothing); with --rounds N the phases take
    # turns, so load from outside the benchmark weighs on both sides of the ratio alike.
    share = args.duration / args.rounds
    ruta_phases, bare_phases = [], []
    with (
        gunicorn("wsgi:app", env) as ruta_port,
        gunicorn("benchmarks.bare_app:create_app()", bare_env) as bare_port,
    ):
        browsers = signed_in_browsers(ruta_port, args.clients)
        for _ in range(args.rounds):
            ruta_phases.append(submit_phase(browsers, pending, share))
            bare_phases.append(bare_phase(bare_port, args.clients, share))
    ruta, ruta_seconds = merged(ruta_phases)
    bare, bare_seconds = merged(bare_phases)
    after = count_cases(env)
    left = discard_unsubmitted(keys)
    ruta_summary = ruta.summary(ruta_seconds)
    bare_summary = bare.summary(bare_seconds)
    result = {
        "machine": machine(),
        "database": url.split(":", 1)[0],
        "cases_before": before,
        "clients": args.clients,
        "rounds": args.rounds,
        "ruta_submissions": ruta_summary,
        "ruta_statuses": ruta.statuses,
        "cases_stored": after - before,
        "unsubmitted_drafts_removed": left,
        "bare_inserts": bare_summary,
        "bare_statuses": bare.statuses,
        "ratio_throughput": ruta_summary["per_second"] / max(bare_summary["per_second"], 1e-9),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
