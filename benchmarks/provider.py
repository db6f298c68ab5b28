"""A provider's inbox and the API's referral list (issue 14: p95 < 100 ms at 1,000,000
referrals).

    .venv/bin/python benchmarks/provider.py [--cases 20000] [--referrals 1000000]
        [--database-url URL] [--requests 200] [--explain]
    .venv/bin/python benchmarks/provider.py --keep (--instance DIR | --database-url URL)
        [--requests 200] [--explain]

Demo cases come from ``referral.demo.generate`` (routed by the rules core: about 1.4
referrals a case, to each need's first option). Routing a million cases takes hours, so by
default the referrals are then multiplied in SQL up to ``--referrals``: copies of the
generated ones (same case, service, need, status), spread over the previous years, as the
busiest services would accumulate them. ``--keep`` instead times a database that already
holds its cases (an instance directory's SQLite file, or ``--database-url``), as it is: no
reset, no new cases, no copies; it must be migrated to the head first (``flask --app
referral db upgrade``). The inbox of the service with the most referrals is timed through
the whole Flask request (sign-in session, query, minimal view, template), as is
GET /api/v1/referrals for its provider's token, a provider of the two busiest services, the
screener with the fewest referrals (their referrals are the farthest apart in time), the
supervisor of one state (MX-CHP) and of the three states with the fewest referrals.
``--explain`` prints each API list's query plan (SQLite: EXPLAIN QUERY PLAN; PostgreSQL:
EXPLAIN ANALYZE) and its time.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from supervision_common import app_with_cases

from benchmarks.common import as_served, machine
from referral.db import get_db


def multiply_referrals(app: Any, target: int) -> int:
    """Copy referral rows (INSERT ... SELECT, one round per doubling) until ``target``."""
    engine = get_db(app).writer
    columns = (
        "case_id, screening_id, need, service_id, ad_hoc_provider, ad_hoc_reason, state, "
        "status, reason_code, version, created_by, updated_by, accepted_at, "
        "case_screener_id, case_state"
    )
    with engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM referral")).scalar_one()
        shift = 0
        while count < target:
            shift += 1
            room = target - count
            days = 37 * shift  # each copy a little earlier, so the newest stay the originals
            if engine.dialect.name == "sqlite":
                earlier = f"datetime(created_at, '-{days} days')"
                earlier_updated = f"datetime(updated_at, '-{days} days')"
            else:
                earlier = f"created_at - interval '{days} days'"
                earlier_updated = f"updated_at - interval '{days} days'"
            conn.execute(
                text(
                    f"INSERT INTO referral ({columns}, created_at, updated_at) "
                    f"SELECT {columns}, {earlier}, {earlier_updated} FROM referral "
                    f"ORDER BY id LIMIT {room}"
                )
            )
            count = conn.execute(text("SELECT count(*) FROM referral")).scalar_one()
        conn.execute(text("ANALYZE"))
    return int(count)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def timed(client: Any, path: str, requests: int, **kwargs: Any) -> tuple[float, float]:
    """(p95, median) in ms of ``requests`` GETs of ``path``, after two warm-up requests."""
    for _ in range(2):
        assert client.get(path, **kwargs).status_code == 200
    as_served()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, **kwargs)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return p95(samples), statistics.median(samples)


def busiest(conn: Any, column: str, count: int, fewest: bool = False) -> list[Any]:
    """The ``count`` values of ``column`` with the most (or fewest) referrals."""
    order = "ASC" if fewest else "DESC"
    return list(
        conn.execute(
            text(
                f"SELECT {column}, count(*) AS n FROM referral WHERE {column} IS NOT NULL "
                f"GROUP BY {column} ORDER BY n {order}, {column} LIMIT {count}"
            )
        ).all()
    )


def people(app: Any) -> dict[str, Any]:
    """The accounts timed, each (email, bearer token, a description); made once, reused."""
    from referral.auth import operations as ops

    with get_db(app).writer.connect() as conn:
        services = busiest(conn, "service_id", 2)
        screener_id, screener_n = busiest(conn, "case_screener_id", 1, fewest=True)[0]
        quiet_states = busiest(conn, "case_state", 3, fewest=True)
        chiapas = conn.execute(
            text("SELECT count(*) FROM referral WHERE case_state = 'MX-CHP'")
        ).scalar_one()
    made: dict[str, Any] = {"password": PASSWORD}
    wanted = {
        "provider": ("provider", [], [services[0][0]], f"{services[0][0]}: {services[0][1]}"),
        "provider of two services": (
            "provider",
            [],
            [s for s, _n in services],
            " + ".join(f"{s}: {n}" for s, n in services),
        ),
        "supervisor of MX-CHP": ("supervisor", ["MX-CHP"], [], f"MX-CHP: {chiapas}"),
        "supervisor of three states": (
            "supervisor",
            [s for s, _n in quiet_states],
            [],
            " + ".join(f"{s}: {n}" for s, n in quiet_states),
        ),
    }
    with app.app_context(), get_db(app).transaction() as session:
        for name, (role, states, svc, about) in wanted.items():
            email = f"bench-{name.replace(' ', '-')}@example.org"
            user = ops.user_by_email(session, email) or ops.create_user(
                session,
                ops.AccountData(
                    email=email, role=role, states=states, national=False, services=svc
                ),
                PASSWORD,
                actor_id=None,
            )
            made[name] = (user.email, ops.issue_token(session, user, actor_id=None), about, user.id)
        screener = session.get(ops.User, screener_id)
        made["screener"] = (
            "",
            ops.issue_token(session, screener, actor_id=None),
            screener_n,
            screener_id,
        )
    for name in ("provider", "provider of two services", "screener", "supervisor of MX-CHP",
                 "supervisor of three states"):  # fmt: skip
        print(f"{name}: {made[name][2]} referrals")
    return made


PASSWORD = "benchmark password"
API_PERSONAS = (
    "provider",
    "provider of two services",
    "screener",
    "supervisor of MX-CHP",
    "supervisor of three states",
)


def explain(app: Any, accounts: dict[str, Any], status: str | None = None) -> None:
    """Each API list's query, its plan and its time in the database (no request)."""
    from referral.access import Reach
    from referral.auth.models import User
    from referral.provider import operations as ops

    engine = get_db(app).writer
    dialect = engine.dialect
    for name in API_PERSONAS:
        with app.app_context(), get_db(app).transaction() as session:
            user = session.get(User, accounts[name][3])
            assert user is not None
            services = ops.provider_services(session, user.id)
            branches = (
                ops.service_branches(services)
                if user.role == "provider"
                else ops.reach_branches(Reach.of(user))
            )
        query = ops.newest_first(branches, status, 100, 0)
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN ANALYZE "
        with engine.connect() as conn:
            started = time.perf_counter()
            rows = conn.execute(text(sql)).all()
            took = (time.perf_counter() - started) * 1000
            plan = conn.execute(text(prefix + sql)).all()
        print(f"\n-- {name}: {len(rows)} rows in {took:.1f} ms\n{sql}")
        for row in plan:
            print("   ", row[-1])


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--instance", default=None, help="with --keep: its referral.db")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="time --instance's or --database-url's database as it is (no new cases, no copies)",
    )
    parser.add_argument("--explain", action="store_true", help="print the lists' query plans")
    return parser.parse_args()


def existing_app(instance: str | None, database_url: str | None) -> Any:
    """An app on a database that already holds its cases, migrated to the head."""
    from referral import create_app, migrate

    if not instance and not database_url:
        raise SystemExit("--keep needs --instance DIR or --database-url URL")
    config: dict[str, Any] = {
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(Path(instance or tempfile.mkdtemp(prefix="ruta-bench-")).resolve()),
        "AUTO_SETUP": False,
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    app = create_app(config)
    if not migrate.is_up_to_date(get_db(app).writer):
        raise SystemExit(
            "the database is not at the newest migration: run "
            "`flask --app referral db upgrade` on it first (REFERRAL_INSTANCE_PATH, "
            "REFERRAL_DATABASE_URL)"
        )
    return app


def main() -> None:
    args = options()
    referrals, requests = args.referrals, args.requests
    if args.keep:
        app = existing_app(args.instance, args.database_url)
    else:
        app = app_with_cases(args.database_url, args.cases, args.seed)
    app.config.update(SECOND_FACTOR="none", ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8192)
    started = time.perf_counter()
    if not args.keep:
        multiply_referrals(app, referrals)
        print(f"multiplied in {time.perf_counter() - started:.1f} s")
    with get_db(app).writer.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM referral")).scalar_one()
    print(f"referrals: {total}")
    print(f"machine: {machine()}; database: {get_db(app).writer.dialect.name}")
    accounts = people(app)
    if args.explain:
        explain(app, accounts)
    client = app.test_client()
    token = client.get("/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token)
    assert csrf is not None
    signed = client.post(
        "/sign-in",
        data={
            "csrf_token": csrf.group(1),
            "email": accounts["provider"][0],
            "password": accounts["password"],
        },
    )
    assert signed.status_code == 302, signed.status_code
    results = {"provider inbox (page)": timed(client, "/provider", requests)}
    api = app.test_client()
    for who in API_PERSONAS:
        headers = {"Authorization": f"Bearer {accounts[who][1]}"}
        results[f"API list, {who}"] = timed(api, "/api/v1/referrals", requests, headers=headers)
    results["API list, provider, ?status=requested"] = timed(
        api,
        "/api/v1/referrals?status=requested",
        requests,
        headers={"Authorization": f"Bearer {accounts['provider'][1]}"},
    )
    print()
    for name, (high, middle) in results.items():
        verdict = "met" if high < 100 else f"missed by {high / 100 - 1:.0%}"
        print(f"{name}: p95 {high:.1f} ms, median {middle:.1f} ms ({verdict})")


if __name__ == "__main__":
    main()
