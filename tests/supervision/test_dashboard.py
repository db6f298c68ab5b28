"""The gap dashboard: its numbers equal counts computed in Python from a generated data set,
and a supervisor never sees another state's numbers or cases."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection

from referral.access import Reach
from referral.db import get_db
from referral.supervision import queries
from tests.conftest import bound_app, rolled_back
from tests.factories import (
    DASHBOARD_STATES,
    DataSet,
    ExpectedGap,
    create_user,
    generate_dashboard_data,
)


@pytest.fixture(scope="module")
def db_connection(test_engine) -> Iterator[Connection]:
    """One transaction for the module: the data set is stored once; each test runs in a
    savepoint of its own, rolled back after it."""
    with rolled_back(test_engine) as connection:
        yield connection


@pytest.fixture(scope="module")
def stored(db_connection, seeded_database, tmp_path_factory) -> tuple[dict[str, Any], DataSet]:
    instance = tmp_path_factory.mktemp("instance")
    with bound_app(seeded_database, instance, db_connection) as app:
        people = {
            "screener": create_user(app, "screener", DASHBOARD_STATES, email="s@example.org"),
            "admin": create_user(app, "admin", (), national=True, email="a@example.org"),
            "gro": create_user(app, "supervisor", ("MX-GRO",), email="gro@example.org"),
            "chp": create_user(app, "supervisor", ("MX-CHP",), email="chp@example.org"),
        }
        data = generate_dashboard_data(app, people["screener"].id, count=60, seed=11)
    return people, data


@pytest.fixture
def people(stored) -> dict[str, Any]:
    return stored[0]


@pytest.fixture
def data(stored) -> DataSet:
    return stored[1]


def month(moment) -> str:
    return (moment - timedelta(hours=6)).strftime("%Y-%m")


def expected_counts(gaps: list[ExpectedGap], panel: str) -> dict[str, int]:
    counter: Counter[str] = Counter()
    for gap in gaps:
        if panel == "reason":
            counter.update(gap.reasons)
        elif panel == "form":
            counter.update(gap.forms or [queries.NONE])
        elif panel in ("sex", "age_band", "minor", "foreign"):
            counter[gap.profile[panel]] += 1
        elif panel == "month":
            counter[month(gap.opened_at)] += 1
        else:
            counter[getattr(gap, panel)] += 1
    return dict(counter)


def counts(app, reach: Reach, filters: queries.Filters, panel: str) -> dict[str, int]:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        return dict(queries.gap_counts(session, reach, filters, panel))


ALL_PANELS = (*queries.GAP_PANELS, *queries.PROFILE_PANELS)


def test_gap_counts_equal_independent_counts(app, people, data) -> None:
    admin = Reach.of(people["admin"])
    assert data.gaps, "the generated data set must hold gaps"
    for panel in ALL_PANELS:
        assert counts(app, admin, queries.Filters(), panel) == expected_counts(data.gaps, panel), (
            panel
        )
    with app.app_context(), get_db(app).transaction(write=False) as session:
        assert queries.gap_total(session, admin, queries.Filters()) == len(data.gaps)


@pytest.mark.parametrize(
    "filters",
    [
        queries.Filters(state="MX-GRO"),
        queries.Filters(need="shelter"),
        queries.Filters(reason="sex"),
        queries.Filters(kind="routing", state="MX-CHP"),
        queries.Filters(since=date(2024, 2, 1), until=date(2024, 3, 31)),
    ],
)
def test_filtered_gap_counts(app, people, data, filters) -> None:
    def keep(gap: ExpectedGap) -> bool:
        local_day = (gap.opened_at - timedelta(hours=6)).date()
        return (
            (not filters.state or gap.state == filters.state)
            and (not filters.need or gap.need == filters.need)
            and (not filters.kind or gap.kind == filters.kind)
            and (not filters.reason or filters.reason in gap.reasons)
            and (not filters.since or local_day >= filters.since)
            and (not filters.until or local_day <= filters.until)
        )

    kept = [g for g in data.gaps if keep(g)]
    for panel in ALL_PANELS:
        got = counts(app, Reach.of(people["admin"]), filters, panel)
        assert got == expected_counts(kept, panel), (panel, filters)


def test_referral_outcomes_equal_independent_counts(app, people, data) -> None:
    admin = Reach.of(people["admin"])
    with app.app_context(), get_db(app).transaction(write=False) as session:
        by_status = dict(
            queries.referral_counts(session, admin, queries.Filters(), "referral_status")
        )
        reasons = dict(
            queries.referral_counts(session, admin, queries.Filters(), "rejection_reason")
        )
        result = queries.outcomes(session, admin, queries.Filters())
    assert by_status == Counter(r["status"] for r in data.referrals)
    assert reasons == Counter(
        r["reason_code"] for r in data.referrals if r["status"] in ("rejected", "failed")
    )
    accepted = [r for r in data.referrals if r["accepted_at"] is not None]
    assert result.referrals == len(data.referrals)
    assert result.accepted == len(accepted)
    first: dict[int, Any] = {}
    for r in accepted:
        first[r["case_id"]] = min(first.get(r["case_id"], r["accepted_at"]), r["accepted_at"])
    hours = [
        (at - data.cases[case_id]["first_screened_at"]).total_seconds() / 3600
        for case_id, at in first.items()
    ]
    assert result.cases_accepted == len(hours)
    assert result.median_hours == pytest.approx(statistics.median(hours), abs=0.01)


def test_screenings_by_encounter(app, people, data) -> None:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        rows = queries.screenings_by_encounter(session, Reach.of(people["gro"]), queries.Filters())
    mine = [s for s in data.screenings if s["state"] == "MX-GRO"]
    assert {r.encounter: r.screenings for r in rows} == Counter(s["encounter"] for s in mine)
    assert {r.encounter: r.likely for r in rows} == {
        e: sum(1 for s in mine if s["encounter"] == e and s["status"] == "likely")
        for e in {s["encounter"] for s in mine}
    }


def test_a_supervisor_sees_only_their_states_numbers(app, people, data) -> None:
    gro = Reach.of(people["gro"])
    mine = [g for g in data.gaps if g.state == "MX-GRO"]
    for panel in ALL_PANELS:
        assert counts(app, gro, queries.Filters(), panel) == expected_counts(mine, panel), panel
    # Asking for another state's numbers gives nothing, not that state's numbers.
    assert counts(app, gro, queries.Filters(state="MX-CHP"), "need") == {}


def case_codes(html: str) -> set[str]:
    return set(re.findall(r"RT-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", html))


def test_the_cases_behind_a_number_stay_within_reach(app, client, login, people, data) -> None:
    login(client, people["gro"])
    page = client.get("/supervision")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    links = set(re.findall(r'href="(/supervision/cases\?[^"]+)"', html))
    assert links, "every number links to its cases"
    codes_by_id = {}
    with app.app_context(), get_db(app).transaction(write=False) as session:
        from sqlmodel import select

        from referral.casework.models import Case

        for case in session.exec(select(Case)).all():
            codes_by_id[case.code] = case.state
    seen: set[str] = set()
    for link in links:
        listing = client.get(link.replace("&amp;", "&"))
        assert listing.status_code == 200
        seen |= case_codes(listing.get_data(as_text=True))
    assert seen
    assert {codes_by_id[c] for c in seen} == {"MX-GRO"}
    # Forcing another state through the query string changes nothing.
    forced = client.get("/supervision/cases?panel=need&key=shelter&state=MX-CHP")
    assert {codes_by_id[c] for c in case_codes(forced.get_data(as_text=True))} <= {"MX-GRO"}
    # The dashboard shows no other state's name in its state panel.
    assert "Chiapas" not in html.split('id="by-state-heading"')[1].split("</section>")[0]


def test_the_number_links_to_exactly_the_cases_behind_it(app, client, login, people, data) -> None:
    login(client, people["admin"])
    gaps = [g for g in data.gaps if g.need == "shelter" and g.kind == "routing"]
    expected_cases = {g.case_id for g in gaps}
    listing = client.get("/supervision/cases?panel=need&key=shelter&kind=routing")
    html = listing.get_data(as_text=True)
    assert f"{len(expected_cases)} " in html
    with app.app_context(), get_db(app).transaction(write=False) as session:
        from referral.casework.models import Case

        codes = {session.get(Case, i).code for i in expected_cases}
    assert case_codes(html) == codes or len(codes) > 50


def test_screeners_do_not_see_the_dashboard(client, login, people) -> None:
    login(client, people["screener"])
    assert client.get("/supervision").status_code == 404
    assert client.get("/supervision/cases?panel=need&key=shelter").status_code == 404


def test_each_gap_reason_links_to_its_recommendation(client, login, people, data) -> None:
    login(client, people["admin"])
    html = client.get("/supervision?reason=sex").get_data(as_text=True)
    section = html.split('id="by-reason-heading"')[1].split("</section>")[0]
    assert 'href="/sources/report#RECOMMENDATIONS-3"' in section  # named in the reader's language
    assert '<q lang="en">' in section  # the report's own English words, marked as English
    assert "Ningún albergue de trata acepta hombres" in section  # why, in the reader's language


def test_the_dashboard_speaks_both_languages(client, login, people, data) -> None:
    login(client, people["admin"])
    client.get("/language/en")
    english = client.get("/supervision").get_data(as_text=True)
    assert "Gaps by need" in english and "<svg" in english
    client.get("/language/es")
    spanish = client.get("/supervision").get_data(as_text=True)
    assert "Brechas por necesidad" in spanish
    assert "<script>" not in spanish  # no inline script: the charts are plain SVG


def test_the_dashboard_says_from_when_gap_reasons_follow_v4(
    app, client, login, people, data
) -> None:
    from sqlmodel import select

    from referral.casework.models import Screening
    from referral.db import get_db

    login(client, people["admin"])
    client.get("/language/en")
    with get_db(app).session() as session:
        screenings = session.exec(select(Screening)).all()
        assert any(s.rules_version.startswith("4/") for s in screenings)
    html = client.get("/supervision").get_data(as_text=True)
    assert 'id="v4-since"' in html and "contract v4 from" in html
    with get_db(app).session() as session:
        for s in session.exec(select(Screening)).all():
            s.rules_version = "6df6216bc68d/17"  # as v3 stored it
            session.add(s)
        session.commit()
    assert 'id="v4-since"' not in client.get("/supervision").get_data(as_text=True)
