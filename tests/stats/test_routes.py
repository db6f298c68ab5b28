"""The statistics page and downloads: supervisors get public exports of their states only."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.db import get_db
from tests.factories import identical_people, random_people, store


@pytest.fixture
def data(app, make_user):
    screener = make_user("screener", ("MX-CHP",))
    people = (
        random_people(11, 120, years=(2024,))
        + identical_people(12)
        + identical_people(13, state="MX-NLE")
    )
    return store(app, people, screener.id)


def exports(app) -> list[AuditEvent]:
    with get_db(app).session() as session:
        return list(
            session.exec(select(AuditEvent).where(AuditEvent.action == "export_made")).all()
        )


def test_supervisor_download_is_public_and_of_their_states(
    app, client, runner, make_user, login, data
) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",))
    login(client, supervisor)
    response = client.get("/stats/summary.json?year=2024&public=0&state=MX-NLE")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    got = json.loads(response.get_data(as_text=True))
    assert got["disclosure"]["public"] is True and got["disclosure"]["threshold"] == 5
    cli = runner.invoke(
        args=["stats", "summary", "--year", "2024", "--public", "--state", "MX-CHP"]
    )
    expected = json.loads(cli.stdout)
    assert got["victims"] == expected["victims"]
    assert got["referrals"] == expected["referrals"]
    assert got["scope"] == ["MX-CHP"]
    events = [e for e in exports(app) if e.actor_id == supervisor.id]
    assert [(e.object_id, e.state) for e in events] == [
        ("summary:2024:json:public:t5:states1", "MX-CHP")
    ]


def test_supervisor_microdata_covers_only_their_states(app, client, make_user, login, data) -> None:
    supervisor = make_user("supervisor", ("MX-NLE",))
    login(client, supervisor)
    response = client.get("/stats/microdata.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # Random people in Nuevo León exist only below k; the 13 identical ones are published.
    assert len(rows) >= 13
    assert {row["region"] for row in rows} <= {"north", "all"}
    assert [(e.object_id, e.state) for e in exports(app) if e.actor_id == supervisor.id] == [
        ("microdata:csv:k11:states1", "MX-NLE")
    ]


def test_admin_chooses_internal_or_public(app, client, make_user, login, data) -> None:
    admin = make_user("admin", (), national=True)
    login(client, admin)
    internal = json.loads(client.get("/stats/summary.json?year=2024").get_data(as_text=True))
    assert internal["disclosure"]["public"] is False and internal["scope"] == "national"
    public = json.loads(
        client.get("/stats/summary.json?year=2024&public=1&threshold=3").get_data(as_text=True)
    )
    assert public["disclosure"]["threshold"] == 3
    one_state = json.loads(
        client.get("/stats/summary.json?year=2024&state=MX-NLE").get_data(as_text=True)
    )
    assert one_state["scope"] == ["MX-NLE"]
    assert one_state["victims"]["total"] < internal["victims"]["total"]
    codes = [e.object_id for e in exports(app) if e.actor_id == admin.id]
    assert codes == [
        "summary:2024:json:internal:national",
        "summary:2024:json:public:t3:national",
        "summary:2024:json:internal:states1",
    ]


def test_page_in_both_languages(app, client, make_user, login, data) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",))
    login(client, supervisor)
    page = client.get("/stats?year=2024").get_data(as_text=True)
    assert "Víctimas por forma de explotación" in page
    assert "Estadísticas" in page
    assert "/stats/summary.csv?year=2024" in page
    client.get("/language/en")
    page = client.get("/stats?year=2024").get_data(as_text=True)
    assert "Victims by form of exploitation" in page
    assert "Disclosure control applied" in page
    assert not exports(app)  # looking is not exporting
    csv_text = client.get("/stats/summary.csv?year=2024").get_data(as_text=True)
    assert "Victims by form of exploitation" in csv_text
    html = client.get("/stats/summary.html?year=2024").get_data(as_text=True)
    assert "<table>" in html
    assert client.get("/stats/summary.xml?year=2024").status_code == 404
