"""The annual summary: SQL counts equal counts made independently in Python."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.casework.models import Gap
from referral.db import get_db
from referral.stats.operations import CATEGORIES, RECEIVED
from tests.factories import Person, random_people, record_data, store

MEXICO_CITY = ZoneInfo("America/Mexico_City")


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",))


def category(record: dict, minor: bool) -> str:
    if record["sex"] not in ("male", "female"):
        return "unknown"
    if minor:
        return "boys" if record["sex"] == "male" else "girls"
    if record["age"] is None:
        return "unknown"
    return "men" if record["sex"] == "male" else "women"


def expected_summary(people: list[Person], stored: list[dict], year: int, states=None) -> dict:
    """The summary computed in Python from the records and the rules' answers."""
    victims = 0
    by_form: dict[str, Counter] = {}
    nationality: Counter = Counter()
    status: Counter = Counter()
    need: Counter = Counter()
    received: dict[str, Counter] = {}
    gap_kinds: Counter = Counter()
    gap_reasons: Counter = Counter()
    screenings_status: Counter = Counter()
    encounters: Counter = Counter()
    for person, row in zip(people, stored, strict=True):
        for (
            record,
            when,
        ) in zip(person.records, person.when, strict=True):
            if when.astimezone(MEXICO_CITY).year == year and (
                states is None or record["state"] in states
            ):
                encounters[record["encounter"]] += 1
        latest = person.records[-1]
        result = row["result"]
        if states is not None and latest["state"] not in states:
            continue
        if person.when[0].astimezone(MEXICO_CITY).year != year:
            continue
        if result["screening"]["status"] != "likely":
            continue
        victims += 1
        forms = result["screening"]["forms"]
        cat = category(latest, result["screening"]["minor"])
        for form in forms:
            by_form.setdefault(form, Counter())[cat] += 1
        foreign = latest["nationality"] not in ("MX", "ZZ") or latest["migration_status"] in (
            "regular",
            "irregular",
            "asylum_seeker",
            "refugee",
        )
        if foreign:
            nationality[latest["nationality"]] += 1
        for ref_need, ref_status in person.referrals:
            if ref_status == "entered_in_error":
                continue
            status[ref_status] += 1
            need[ref_need] += 1
            if ref_status in RECEIVED:
                for form in forms:
                    received.setdefault(form, Counter())[ref_need] += 1
        row["victim"] = True
    return {
        "victims": victims,
        "by_form": by_form,
        "nationality": nationality,
        "status": status,
        "need": need,
        "received": received,
        "gap_kinds": gap_kinds,
        "gap_reasons": gap_reasons,
        "encounters": encounters,
        "screenings_status": screenings_status,
    }


def nonzero(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if v}


def summary(runner, *args: str) -> dict:
    result = runner.invoke(args=["stats", "summary", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("seed", [1, 2])
def test_summary_equals_independent_counts(app, runner, screener, seed) -> None:
    people = random_people(seed, 90)
    stored = store(app, people, screener.id)
    for year in (2023, 2024, 2025):
        got = summary(runner, "--year", str(year))
        want = expected_summary(people, stored, year)
        assert got["year"] == year
        assert got["victims"]["total"] == want["victims"]
        for form, row in got["victims"]["by_form"].items():
            counts = want["by_form"].get(form, Counter())
            assert {c: row[c] for c in CATEGORIES} == {c: counts[c] for c in CATEGORIES}, form
            assert row["total"] == sum(counts.values())
        assert got["foreign_victims"]["by_nationality"] == dict(want["nationality"])
        assert got["foreign_victims"]["total"] == sum(want["nationality"].values())
        assert nonzero(got["referrals"]["by_status"]) == dict(want["status"])
        assert nonzero(got["referrals"]["by_need"]) == dict(want["need"])
        assert got["referrals"]["total"] == sum(want["status"].values())
        for form, entry in got["services_received_by_form"].items():
            assert nonzero(entry["by_need"]) == dict(want["received"].get(form, {})), form
        assert nonzero(got["screenings"]["by_encounter"]) == dict(want["encounters"])
        assert got["disclosure"]["public"] is False
        assert got["disclosure"]["suppressed_cells"] == 0


def test_gaps_are_counted_by_kind_need_and_reason(app, runner, screener) -> None:
    people = random_people(5, 60, years=(2024,))
    stored = store(app, people, screener.id)
    got = summary(runner, "--year", "2024")["gaps"]
    # Counted here from the stored gap records, one by one.
    with get_db(app).session() as session:
        stored_gaps = session.exec(select(Gap)).all()
        victim_cases = {
            row["case_id"] for row in stored if row["result"]["screening"]["status"] == "likely"
        }
        kinds = Counter(g.kind for g in stored_gaps if g.case_id in victim_cases)
        reasons = Counter(
            (g.need, r) for g in stored_gaps if g.case_id in victim_cases for r in g.reasons
        )
    assert nonzero(got["by_kind"]) == dict(kinds)
    assert got["total"] == sum(kinds.values())
    assert {(n, r): c for n, rs in got["by_need"].items() for r, c in rs.items()} == dict(reasons)
    assert kinds["routing"] >= 1


def test_mexico_city_year_boundaries(app, runner, screener) -> None:
    # 05:30 UTC on 1 January 2025 is still 31 December 2024 in Mexico City (UTC-6).
    late = Person(
        [record_data(age=15, indicators=["commercial_sex"])],
        [datetime(2025, 1, 1, 5, 30, tzinfo=UTC)],
    )
    early = Person(
        [record_data(age=15, indicators=["commercial_sex"])],
        [datetime(2025, 1, 1, 6, 0, tzinfo=UTC)],
    )
    store(app, [late, early], screener.id)
    assert summary(runner, "--year", "2024")["victims"]["total"] == 1
    assert summary(runner, "--year", "2025")["victims"]["total"] == 1
    assert summary(runner, "--year", "2024")["screenings"]["total"] == 1


def test_consent_does_not_change_aggregates_and_is_stated(app, runner, screener) -> None:
    with_consent = Person(
        [record_data(age=15, indicators=["commercial_sex"])], [datetime(2024, 5, 1, tzinfo=UTC)]
    )
    without = Person(
        [record_data(age=16, indicators=["commercial_sex"])],
        [datetime(2024, 5, 2, tzinfo=UTC)],
        consent_statistics=False,
    )
    store(app, [with_consent, without], screener.id)
    got = summary(runner, "--year", "2024")
    assert got["victims"]["total"] == 2
    assert (
        "every case" in summary(runner, "--year", "2024", "--lang", "en")["disclosure"]["consent"]
    )
    assert "todos los casos" in got["disclosure"]["consent"]


def test_public_summary_hides_small_cells_and_says_how_many(app, runner, screener) -> None:
    people = random_people(3, 80, years=(2024,))
    store(app, people, screener.id)
    internal = summary(runner, "--year", "2024")
    public = summary(runner, "--year", "2024", "--public", "--threshold", "5")
    hidden = 0

    def walk(a, b):
        nonlocal hidden
        for key, value in a.items():
            if isinstance(value, dict):
                walk(value, b[key])
            elif isinstance(value, int) and not isinstance(value, bool):
                if b[key] is None:
                    hidden += 1
                else:
                    assert b[key] == value
                    assert not 0 < value < 5, (key, value)

    walk({k: v for k, v in internal.items() if k not in ("disclosure", "year")}, public)
    assert hidden == public["disclosure"]["suppressed_cells"] > 0
    assert public["disclosure"]["threshold"] == 5


def test_formats_and_languages(app, runner, screener, tmp_path) -> None:
    store(app, random_people(4, 40, years=(2024,)), screener.id)
    csv_en = runner.invoke(
        args=["stats", "summary", "--year", "2024", "--format", "csv", "--lang", "en", "--public"]
    )
    assert csv_en.exit_code == 0, csv_en.output
    assert "Victims by form of exploitation" in csv_en.stdout
    assert "Sexual exploitation" in csv_en.stdout
    csv_es = runner.invoke(
        args=["stats", "summary", "--year", "2024", "--format", "csv", "--public"]
    )
    assert "Explotación sexual" in csv_es.stdout
    assert "menos de 5" in csv_es.stdout
    out = tmp_path / "summary.html"
    html = runner.invoke(
        args=[
            "stats",
            "summary",
            "--year",
            "2024",
            "--format",
            "html",
            "--out",
            str(out),
            "--lang",
            "en",
        ]
    )
    assert html.exit_code == 0, html.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") or "<!doctype html>" in page
    assert "Annual summary 2024" in page
    refused = runner.invoke(args=["stats", "summary", "--year", "2024", "--state", "MX-XXX"])
    assert refused.exit_code == 2


def test_cli_exports_are_audited(app, runner, screener) -> None:
    store(app, random_people(4, 10, years=(2024,)), screener.id)
    summary(
        runner,
        "--year",
        "2024",
        "--public",
        "--threshold",
        "7",
        "--state",
        "MX-CHP",
        "--state",
        "MX-GRO",
    )
    with get_db(app).session() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "export_made")).all()
    assert sorted(e.state for e in events) == ["MX-CHP", "MX-GRO"]
    assert {e.object_id for e in events} == {"summary:2024:json:public:t7:states2"}
    assert all(e.actor_id is None and e.object_kind == "export" for e in events)
