"""Microdata: k-anonymous on its quasi-identifiers, nothing forbidden, consent respected."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.casework.models import Case
from referral.db import get_db
from referral.stats.microdata import COLUMNS, QUASI_IDENTIFIERS
from referral.stats.regions import RegionsError, load_regions
from tests.factories import clear_cases, identical_people, random_people, record_data, store

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
FORBIDDEN_COLUMNS = re.compile(
    r"note|code|screener|email|user|date|screened_at|created|municip|text|name|case_id|^id$",
    re.IGNORECASE,
)
EXACT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",), email="maria.screener@example.org")


def microdata(runner, *args: str) -> tuple[list[dict], dict]:
    result = runner.invoke(args=["stats", "microdata", "--format", "csv", *args])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return rows, report


def assert_nothing_forbidden(text: str, header: list[str], stored: list[dict]) -> None:
    assert not [c for c in header if FORBIDDEN_COLUMNS.search(c)]
    assert "secret note" not in text
    assert "maria.screener" not in text
    assert not EXACT_DATE.search(text)
    for row in stored:
        assert row["code"] not in text


people_sets = st.builds(
    lambda seed, count, k: (seed, count, k),
    st.integers(0, 10_000),
    st.integers(5, 70),
    st.integers(2, 12),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people_sets)
def test_every_class_has_at_least_k_rows_and_nothing_forbidden(
    app, runner, screener, params
) -> None:
    seed, count, k = params
    clear_cases(app)
    people = random_people(seed, count)
    stored = store(app, people, screener.id)
    result = runner.invoke(args=["stats", "microdata", "--format", "csv", "--k", str(k)])
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    classes = Counter(tuple(row[q] for q in QUASI_IDENTIFIERS) for row in rows)
    assert all(size >= k for size in classes.values()), classes
    forms: dict[tuple, set] = {}
    for row in rows:
        quasi = tuple(row[q] for q in QUASI_IDENTIFIERS)
        forms.setdefault(quasi, set()).add(row["typeOfExploitConcatenated"])
    assert all(len(f) >= 2 for f in forms.values()), forms  # l = 2 by default
    assert rows == sorted(rows, key=lambda row: [row[c] for c in COLUMNS])
    report = json.loads(result.stderr.strip().splitlines()[-1])
    eligible = sum(
        1
        for person, row in zip(people, stored, strict=True)
        if person.consent_statistics
        and row["result"]["screening"]["status"] in ("likely", "possible")
    )
    assert report["records"] == eligible
    assert report["published"] == len(rows) == eligible - report["suppressed"]
    assert_nothing_forbidden(result.stdout, list(reader.fieldnames or ()), stored)
    as_json = runner.invoke(args=["stats", "microdata", "--format", "json", "--k", str(k)])
    document = json.loads(as_json.stdout)
    assert len(document["records"]) == len(rows)
    assert_nothing_forbidden(as_json.stdout, list(document["records"][0]) if rows else [], stored)


def test_consent_exclusion_and_withdrawal(app, runner, screener) -> None:
    stored = store(app, identical_people(12) + identical_people(5, consent=False), screener.id)
    rows, report = microdata(runner)
    assert len(rows) == 12 and report["records"] == 12 and report["suppressed"] == 0
    # One person withdraws consent (a re-screening records the new answer): they leave.
    from referral.casework.screening import CaseDetails, store_screening
    from referral.directory.catalogue import current_catalogue
    from referral.rules import validate_record

    with app.app_context(), get_db(app).transaction() as session:
        case = session.get(Case, stored[0]["case_id"])
        catalogue = current_catalogue(session)
        record = validate_record(
            record_data(age=15, sex="female", state="MX-CHP", indicators=["commercial_sex"]),
            catalogue.codes,
        )
        store_screening(
            session, record, catalogue, screener_id=screener.id,
            details=CaseDetails(True, False), case=case,
        )  # fmt: skip
    rows, report = microdata(runner)
    assert report["records"] == 11 and len(rows) == 11
    rows, report = microdata(runner, "--k", "12")
    assert rows == [] and report["suppressed"] == 11


def test_small_classes_are_suppressed_and_reported(app, runner, screener) -> None:
    store(app, identical_people(11) + identical_people(3, state="MX-GRO"), screener.id)
    rows, report = microdata(runner)
    # Generalization merges Chiapas and Guerrero (both south): one class of 14.
    assert {row["region"] for row in rows} == {"south"}
    assert len(rows) == 14 and report["suppressed"] == 0
    assert report["generalized_by_column"]["region"] == 14
    store(app, identical_people(2, state="MX-NLE"), screener.id)
    rows, report = microdata(runner)
    assert report["records"] == 16
    assert len(rows) + report["suppressed"] == 16
    assert all(
        size >= 11
        for size in Counter(tuple(r[q] for q in QUASI_IDENTIFIERS) for r in rows).values()
    )


def test_rows_carry_ctdc_values(app, runner, screener) -> None:
    store(app, identical_people(11), screener.id)
    rows, _report = microdata(runner)
    row = next(r for r in rows if r["isSexualExploit"] == "1")
    assert row["gender"] == "Female" and row["majorityStatus"] == "Minor"
    assert row["ageBroad"] in ("9--17", "0--17")
    assert row["citizenship"] == "mexico" and row["yearOfRegistration"] == "2024"
    assert row["isSexualExploit"] == "1" and row["meansOfControlThreats"] == "1"
    assert row["screeningStatus"] == "likely"


def test_dictionary_beside_out_and_audit(app, runner, screener, tmp_path) -> None:
    store(app, identical_people(11), screener.id)
    out = tmp_path / "victims.csv"
    result = runner.invoke(
        args=["stats", "microdata", "--out", str(out), "--lang", "en", "--state", "MX-CHP"]
    )
    assert result.exit_code == 0, result.output
    dictionary = (tmp_path / "victims.dictionary.csv").read_text(encoding="utf-8")
    documented = {row["column"] for row in csv.DictReader(io.StringIO(dictionary))}
    assert documented == set(COLUMNS)
    assert "Mexico City time" in dictionary
    other = tmp_path / "dict-es.csv"
    runner.invoke(args=["stats", "microdata", "--dictionary", str(other)])
    assert "columna" in other.read_text(encoding="utf-8")
    with get_db(app).session() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "export_made")).all()
    assert [(e.object_id, e.state) for e in events] == [
        ("microdata:csv:k11:l2:states1", "MX-CHP"),
        ("microdata:csv:k11:l2:national", None),
    ]


def test_regions_seed_holds_every_state_once(tmp_path) -> None:
    regions = load_regions(SEEDS)
    members = [m for r in regions.states.regions for m in r.members]
    assert len(members) == len(set(members)) == 33  # 32 states and "unknown"
    assert regions.nationalities.region_of("GT") == "central_america"
    assert regions.nationalities.region_of("MX") == "mexico"
    for name in ("states.yaml", "codes.yaml"):
        (tmp_path / name).write_text((SEEDS / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (SEEDS / "regions.yaml").read_text(encoding="utf-8")
    (tmp_path / "regions.yaml").write_text(
        text.replace("MX-TLA]", "MX-TLA, MX-CHP]"), encoding="utf-8"
    )
    with pytest.raises(RegionsError, match="MX-CHP"):
        load_regions(tmp_path)
    (tmp_path / "regions.yaml").write_text(text.replace(", MX-TLA]", "]"), encoding="utf-8")
    with pytest.raises(RegionsError, match="MX-TLA"):
        load_regions(tmp_path)
