"""A provider's inbox and the API's referral list (issue 14: p95 < 100 ms at 1,000,000
referrals).

    .venv/bin/python benchmarks/provider.py [--cases 20000] [--referrals 1000000]
        [--database-url URL] [--keep] [--requests 200]

Demo cases come from ``referral.demo.generate`` (routed by the rules core: about 1.4
referrals a case, to each need's first option). Routing a million cases takes half an hour,
so the referrals are then multiplied in SQL up to ``--referrals``: copies of the generated
ones (same case, service, need, status), spread over the previous years, as the busiest
services would accumulate them. The inbox of the service with the most referrals is timed
through the whole Flask request (sign-in session, query, minimal view, template), as is
GET /api/v1/referrals for its provider's token, a screener's and a supervisor's.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from typing import Any

from sqlalchemy import text
from supervision_common import app_with_cases

from benchmarks.common import machine
from referral.db import get_db


def multiply_referrals(app: Any, target: int) -> int:
    """Copy referral rows (INSERT ... SELECT, one round per doubling) until ``target``."""
    engine = get_db(app).writer
    columns = (
        "case_id, screening_id, need, service_id, ad_hoc_provider, ad_hoc_reason, state, "
        "status, reason_code, version, created_by, updated_by, accepted_at"
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
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, **kwargs)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return p95(samples), statistics.median(samples)


def people(app: Any, service: str) -> dict[str, Any]:
    from sqlmodel import select

    from referral.auth import operations as ops
    from referral.casework.models import Case

    password = "benchmark password"
    with app.app_context(), get_db(app).transaction() as session:
        screener_id = session.exec(select(Case.screener_id).limit(1)).one()
        screener = session.get(ops.User, screener_id)
        made: dict[str, Any] = {"password": password}
        for role, states, services in (
            ("provider", [], [service]),
            ("supervisor", ["MX-CHP"], []),
        ):
            email = f"bench-{role}@example.org"
            user = ops.user_by_email(session, email) or ops.create_user(
                session,
                ops.AccountData(
                    email=email, role=role, states=states, national=False, services=services
                ),
                password,
                actor_id=None,
            )
            made[role] = (user.email, ops.issue_token(session, user, actor_id=None))
        made["screener"] = ("", ops.issue_token(session, screener, actor_id=None))
    return made


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="reuse --database-url as it is")
    return parser.parse_args()


def main() -> None:
    args = options()
    referrals, requests = args.referrals, args.requests
    app = app_with_cases(args.database_url, args.cases, args.seed, args.keep)
    app.config.update(SECOND_FACTOR="none", ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8192)
    started = time.perf_counter()
    total = referrals if args.keep else multiply_referrals(app, referrals)
    print(f"referrals: {total} (multiplied in {time.perf_counter() - started:.1f} s)")
    print(f"machine: {machine()}; database: {get_db(app).writer.dialect.name}")
    with get_db(app).writer.connect() as conn:
        service, busiest = conn.execute(
            text(
                "SELECT service_id, count(*) AS n FROM referral WHERE service_id IS NOT NULL "
                "GROUP BY service_id ORDER BY n DESC LIMIT 1"
            )
        ).one()
    print(f"busiest service: {service} with {busiest} referrals")
    accounts = people(app, service)
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
    for who in ("provider", "screener", "supervisor"):
        headers = {"Authorization": f"Bearer {accounts[who][1]}"}
        results[f"API list, {who}"] = timed(api, "/api/v1/referrals", requests, headers=headers)
    results["API list, provider, ?status=requested"] = timed(
        api,
        "/api/v1/referrals?status=requested",
        requests,
        headers={"Authorization": f"Bearer {accounts['provider'][1]}"},
    )
    for name, (high, middle) in results.items():
        verdict = "met" if high < 100 else f"missed by {high / 100 - 1:.0%}"
        print(f"{name}: p95 {high:.1f} ms, median {middle:.1f} ms ({verdict})")


if __name__ == "__main__":
    main()
