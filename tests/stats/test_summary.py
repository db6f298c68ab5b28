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
from referral.stats.models import PrivacyRelease
from referral.stats.operations import CATEGORIES, RECEIVED
from tests.factories import Person, random_people, record_data, store

MEXICO_CITY = ZoneInfo("America/Mexico_City")


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",))


def category(record: dict, minor: bool) -> str:
    """CONTRACT 7: a clearly adult person of unknown age is a man or a woman; a presumed
    minor of unknown age is "unknown"; intersex joins "unknown" in published tables."""
    if record["sex"] not in ("male", "female"):
        return "unknown"
    if record["age"] is None:
        if not record.get("clearly_adult"):
            return "unknown"
        return "men" if record["sex"] == "male" else "women"
    if minor:
        return "boys" if record["sex"] == "male" else "girls"
    return "men" if record["sex"] == "male" else "women"


def test_section_7_counts_unknown_ages_as_the_contract_says(app, runner, screener) -> None:
    """A clearly adult person of unknown age is a man or a woman; a presumed minor of
    unknown age is "unknown", not a child; intersex people are "unknown" when published."""
    likely = ["deceived_job_nature", "deceived_conditions", "commercial_sex", "threats", "violence"]
    when = datetime(2024, 6, 1, 12, tzinfo=UTC)
    people = [
        Person([record_data(age=None, clearly_adult=True, sex="male", indicators=likely)], [when]),
        Person([record_data(age=None, clearly_adult=True, indicators=likely)], [when]),
        Person([record_data(age=None, sex="male", indicators=likely)], [when]),
        Person([record_data(age=30, sex="intersex", indicators=likely)], [when]),
        Person([record_data(age=15, sex="male", indicators=likely)], [when]),
    ]
    store(app, people, screener.id)
    row = summary(runner, "--year", "2024")["victims"]["by_form"]["sexual_exploitation"]
    assert {c: row[c] for c in CATEGORIES} == {
        "men": 1,
        "women": 1,
        "boys": 1,
        "girls": 0,
        "unknown": 2,
    }


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
        assert "privacy" not in got  # the internal summary is exact


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


def test_public_summary_is_a_stored_differentially_private_release(app, runner, screener) -> None:
    people = random_people(3, 80, years=(2024,))
    store(app, people, screener.id)
    internal = summary(runner, "--year", "2024")
    public = summary(runner, "--year", "2024", "--public")
    privacy = public["privacy"]
    assert privacy["mechanism"] == "discrete_laplace" and privacy["epsilon"] == 2
    assert privacy["library"].startswith("OpenDP ")
    assert public["disclosure"]["public"] is True
    assert "épsilon = 2" in public["disclosure"]["privacy_note"]  # Spanish, the CLI's default
    # Non-negative whole numbers that add up within each table.
    victims = public["victims"]
    assert victims["total"] == sum(victims["by_category"].values())
    for row in victims["by_form"].values():
        assert row["total"] == sum(v for k, v in row.items() if k != "total")
        assert all(isinstance(v, int) and v >= 0 for v in row.values())
    for key in ("by_status", "by_need"):
        assert public["referrals"]["total"] == sum(public["referrals"][key].values())
    for key in ("by_status", "by_encounter"):
        assert public["screenings"]["total"] == sum(public["screenings"][key].values())
    assert public["gaps"]["total"] == sum(public["gaps"]["by_kind"].values())
    assert public["foreign_victims"]["total"] == sum(
        public["foreign_victims"]["by_nationality"].values()
    )
    # Every count has its 95 % interval, and the form totals (sums of five noisy cells) a
    # wider one than their cells.
    margins = privacy["margins"]["victims"]["by_form"]["sexual_exploitation"]
    assert margins["total"] > margins["men"] > 0
    low, high = privacy["intervals"]["victims"]["total"]
    assert low == max(0, victims["total"] - privacy["margins"]["victims"]["total"])
    assert high == victims["total"] + privacy["margins"]["victims"]["total"]
    # The noise is real: the release is not the internal summary (with overwhelming odds).
    assert public["victims"]["by_form"] != internal["victims"]["by_form"]
    # Asking again gives the same numbers, and spends nothing.
    assert summary(runner, "--year", "2024", "--public") == public
    with get_db(app).session() as session:
        made = session.exec(select(PrivacyRelease)).all()
    assert [(r.scope, r.edition, r.epsilon, len(r.states)) for r in made] == [
        ("national", 1, 2.0, 33)
    ]


def test_the_ledger_refuses_what_the_budget_does_not_allow(app, runner, screener) -> None:
    store(app, random_people(4, 30, years=(2024,)), screener.id)
    summary(runner, "--year", "2024", "--public", "--epsilon", "4")  # national: 4 of 6
    refused = runner.invoke(
        args=[
            "stats", "summary", "--year", "2024", "--public", "--state", "MX-CHP",
            "--epsilon", "4", "--lang", "en",
        ]
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "privacy budget of 2024 is spent for Chiapas" in refused.output
    assert "left: 2" in refused.output
    # Another year has its own budget; a smaller epsilon still fits.
    summary(runner, "--year", "2023", "--public", "--state", "MX-CHP")
    summary(runner, "--year", "2024", "--public", "--state", "MX-CHP", "--epsilon", "2")
    with get_db(app).session() as session:
        assert len(session.exec(select(PrivacyRelease)).all()) == 3


def test_later_cases_go_into_a_later_edition(app, runner, screener) -> None:
    store(app, random_people(5, 20, years=(2024,)), screener.id)
    first = summary(runner, "--year", "2024", "--public", "--state", "MX-CHP")
    assert first["disclosure"]["newer_cases"] is False
    late = Person(
        [record_data(age=15, state="MX-CHP", indicators=["commercial_sex"])],
        [datetime(2024, 6, 1, tzinfo=UTC)],
    )
    store(app, [late], screener.id)
    again = summary(runner, "--year", "2024", "--public", "--state", "MX-CHP")
    assert again["disclosure"]["newer_cases"] is True
    assert again["victims"] == first["victims"]  # the stored release, until asked to update
    updated = summary(runner, "--year", "2024", "--public", "--state", "MX-CHP", "--update")
    assert updated["disclosure"]["newer_cases"] is False
    assert updated["privacy"]["releases"][0]["edition"] == 2
    with get_db(app).session() as session:
        made = session.exec(select(PrivacyRelease)).all()
    assert [(r.scope, r.edition) for r in made] == [("MX-CHP", 1), ("MX-CHP", 2)]
    # Nothing new since the second edition: --update spends nothing more.
    summary(runner, "--year", "2024", "--public", "--state", "MX-CHP", "--update")
    with get_db(app).session() as session:
        assert len(session.exec(select(PrivacyRelease)).all()) == 2


def test_several_states_are_assembled_from_per_state_releases(app, runner, screener) -> None:
    store(app, random_people(6, 60, years=(2024,)), screener.id)
    both = summary(runner, "--year", "2024", "--public", "--state", "MX-CHP", "--state", "MX-GRO")
    chiapas = summary(runner, "--year", "2024", "--public", "--state", "MX-CHP")
    guerrero = summary(runner, "--year", "2024", "--public", "--state", "MX-GRO")
    # Subtracting one scope from the other gives exactly the other state's own release.
    for form, row in both["victims"]["by_form"].items():
        for key, value in row.items():
            assert (
                value
                == chiapas["victims"]["by_form"][form][key]
                + guerrero["victims"]["by_form"][form][key]
            )
    # Two states' noise adds up: a wider interval than one state's.
    assert (
        both["privacy"]["margins"]["victims"]["total"]
        > chiapas["privacy"]["margins"]["victims"]["total"]
    )
    with get_db(app).session() as session:
        made = session.exec(select(PrivacyRelease)).all()
    assert sorted(r.scope for r in made) == ["MX-CHP", "MX-GRO"]


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
    assert "Men: 95% interval" in csv_en.stdout
    assert "OpenDP" in csv_es.stdout
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
        runner, "--year", "2024", "--public", "--epsilon", "1", "--state", "MX-CHP",
        "--state", "MX-GRO",
    )  # fmt: skip
    with get_db(app).session() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "export_made")).all()
    assert sorted((e.object_id, e.state) for e in events) == [
        ("release:summary:2024:e1:MX-CHP:ed1", "MX-CHP"),
        ("release:summary:2024:e1:MX-GRO:ed1", "MX-GRO"),
        ("summary:2024:json:public:e1:states2", "MX-CHP"),
        ("summary:2024:json:public:e1:states2", "MX-GRO"),
    ]
    assert all(e.actor_id is None and e.object_kind == "export" for e in events)


def test_the_summary_says_from_when_gap_reasons_follow_contract_v4(app, runner, screener) -> None:
    store(app, random_people(5, 20, years=(2024,)), screener.id)
    for document in (
        summary(runner, "--year", "2024"),
        summary(runner, "--year", "2024", "--public"),
    ):
        note = document["disclosure"]["gap_reasons"]
        assert "contrato v4" in note and "2024" in note  # Spanish, the CLI's default
