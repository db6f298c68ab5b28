"""Differentially private synthetic microdata: CTDC's columns, stored, on the same ledger."""

from __future__ import annotations

import csv
import io
import json

from sqlmodel import select

from referral.db import get_db
from referral.stats.microdata import COLUMNS, EXPLOITATION_NAMES
from referral.stats.models import PrivacyRelease
from referral.stats.synthetic import AGES, GENDERS, MINOR_AGES
from tests.conftest import csrf_token
from tests.factories import download, random_people, store


def synthetic(runner, *args: str) -> tuple[str, dict]:
    result = runner.invoke(args=["stats", "synthetic", "--year", "2024", *args])
    assert result.exit_code == 0, result.output
    return result.stdout, json.loads(result.stderr.strip().splitlines()[-1])


def test_synthetic_rows_have_ctdc_columns_and_are_stored(app, runner, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    store(app, random_people(8, 150, years=(2024,)), screener.id)
    text, report = synthetic(runner)
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    assert report["rows"] == len(rows) and report["epsilon"] == 2
    assert rows == sorted(rows, key=lambda r: [r[c] for c in COLUMNS])
    for row in rows:
        assert row["yearOfRegistration"] == "2024"
        assert row["gender"] in GENDERS and row["ageBroad"] in AGES
        assert row["screeningStatus"] in ("likely", "possible")
        if row["majorityStatus"] == "Adult":
            assert row["ageBroad"] not in MINOR_AGES
        names = [EXPLOITATION_NAMES[f] for f in EXPLOITATION_NAMES if row[f] == "1"]
        assert row["typeOfExploitConcatenated"] == ";".join(names)
    # Asked again: the same file, from the stored release; nothing more spent.
    again, _report = synthetic(runner)
    assert again == text
    with get_db(app).session() as session:
        made = session.exec(select(PrivacyRelease)).all()
    assert [(r.table_name, r.scope, r.edition) for r in made] == [("synthetic", "national", 1)]


def test_synthetic_and_summary_share_the_budget(app, runner, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    store(app, random_people(9, 40, years=(2024,)), screener.id)
    runner.invoke(args=["stats", "summary", "--year", "2024", "--public", "--epsilon", "4"])
    refused = runner.invoke(
        args=["stats", "synthetic", "--year", "2024", "--epsilon", "4", "--lang", "en"]
    )
    assert refused.exit_code == 1 and "privacy budget of 2024 is spent" in refused.output
    synthetic(runner, "--state", "MX-CHP", "--epsilon", "2")


def test_supervisor_makes_and_downloads_synthetic_microdata(app, client, make_user, login) -> None:
    screener = make_user("screener", ("MX-CHP",))
    store(app, random_people(10, 60, years=(2024,)), screener.id)
    login(client, make_user("supervisor", ("MX-CHP", "MX-GRO")))
    assert download(client, "/stats/synthetic.csv?year=2024").status_code == 302
    token = csrf_token(client, "/stats?year=2024")
    client.post("/stats/releases", data={"csrf_token": token, "year": "2024", "table": "synthetic"})
    response = download(client, "/stats/synthetic.csv?year=2024")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["region"] for row in rows} <= {"south", "unknown"}
    with get_db(app).session() as session:
        made = session.exec(select(PrivacyRelease)).all()
    assert sorted((r.table_name, r.scope) for r in made) == [
        ("synthetic", "MX-CHP"),
        ("synthetic", "MX-GRO"),
    ]
