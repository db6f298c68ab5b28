"""The statistics page and downloads: supervisors get public exports of their states only."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.db import get_db
from referral.stats.models import PrivacyRelease
from tests.conftest import csrf_token
from tests.factories import download, identical_people, random_people, store


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


def releases_made(app) -> list[PrivacyRelease]:
    with get_db(app).session() as session:
        return list(session.exec(select(PrivacyRelease)).all())


def make_release(client, **fields) -> str:
    """Press the page's button: a POST with the page's CSRF token; the page it lands on."""
    token = csrf_token(client, "/stats?year=2024")
    response = client.post("/stats/releases", data={"csrf_token": token, "year": "2024", **fields})
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_supervisor_release_is_made_by_a_post_then_downloaded(
    app, client, runner, make_user, login, data
) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",))
    login(client, supervisor)
    page = client.get("/stats?year=2024").get_data(as_text=True)
    assert (
        "Hacer la publicación" in page or "Make the public release" in page or "csrf_token" in page
    )
    # Looking, or asking for a download, never spends budget.
    missing = download(client, "/stats/summary.json?year=2024")
    assert missing.status_code == 302 and not releases_made(app)
    # A POST without the CSRF token (as from another site) is refused.
    assert client.post("/stats/releases", data={"year": "2024"}).status_code == 400
    assert not releases_made(app)
    make_release(client, state="MX-NLE", epsilon="4")  # a supervisor cannot choose these
    assert [(r.scope, r.epsilon) for r in releases_made(app)] == [("MX-CHP", 2.0)]
    response = download(client, "/stats/summary.json?year=2024&public=0&state=MX-NLE")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    got = json.loads(response.get_data(as_text=True))
    assert got["disclosure"]["public"] is True and got["scope"] == ["MX-CHP"]
    assert got["privacy"]["epsilon"] == 2
    # The console reads the same stored release: the same numbers.
    cli = runner.invoke(
        args=["stats", "summary", "--year", "2024", "--public", "--state", "MX-CHP"]
    )
    expected = json.loads(cli.stdout)
    assert got["victims"] == expected["victims"]
    assert got["referrals"] == expected["referrals"]
    assert len(releases_made(app)) == 1
    events = [e for e in exports(app) if e.actor_id == supervisor.id]
    assert [(e.object_id, e.state) for e in events] == [
        ("release:summary:2024:e2:MX-CHP:ed1", "MX-CHP"),
        ("summary:2024:json:public:e2:states1", "MX-CHP"),
    ]


def test_supervisor_microdata_covers_only_their_states(app, client, make_user, login, data) -> None:
    supervisor = make_user("supervisor", ("MX-NLE",))
    login(client, supervisor)
    response = download(client, "/stats/microdata.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # Random people in Nuevo León exist only below k; the 13 identical ones are published.
    assert len(rows) >= 13
    assert {row["region"] for row in rows} <= {"north", "all"}
    assert [(e.object_id, e.state) for e in exports(app) if e.actor_id == supervisor.id] == [
        ("microdata:csv:k11:l2:states1", "MX-NLE")
    ]


def test_admin_chooses_internal_or_public_and_sees_the_ledger(
    app, client, make_user, login, data
) -> None:
    admin = make_user("admin", (), national=True)
    login(client, admin)
    internal = json.loads(download(client, "/stats/summary.json?year=2024").get_data(as_text=True))
    assert internal["disclosure"]["public"] is False and internal["scope"] == "national"
    assert "privacy" not in internal
    one_state = json.loads(
        download(client, "/stats/summary.json?year=2024&state=MX-NLE").get_data(as_text=True)
    )
    assert one_state["scope"] == ["MX-NLE"]
    assert one_state["victims"]["total"] < internal["victims"]["total"]
    page = make_release(client, state="MX-NLE", epsilon="1")
    assert [(r.scope, r.epsilon) for r in releases_made(app)] == [("MX-NLE", 1.0)]
    public = json.loads(
        download(client, "/stats/summary.json?year=2024&public=1&state=MX-NLE&epsilon=1").get_data(
            as_text=True
        )
    )
    assert public["privacy"]["epsilon"] == 1 and public["scope"] == ["MX-NLE"]
    assert "csrf_token" in page
    # Four more at epsilon 2 would need 9 of Nuevo León's 6: the third is refused.
    make_release(client, state="MX-NLE", epsilon="2")
    make_release(client, state="MX-NLE", epsilon="0.5")
    page = make_release(client, state="MX-NLE", epsilon="4")
    assert "MX-NLE" not in [r.scope for r in releases_made(app) if r.epsilon == 4.0]
    assert "presupuesto de privacidad" in page or "privacy budget" in page
    ledger = client.get("/stats/ledger?year=2024").get_data(as_text=True)
    assert "Nuevo León" in ledger and "3.5" in ledger and "2.5" in ledger
    codes = [e.object_id for e in exports(app) if e.actor_id == admin.id]
    assert codes[:2] == [
        "summary:2024:json:internal:national",
        "summary:2024:json:internal:states1",
    ]
    assert "summary:2024:json:public:e1:states1" in codes


def test_only_admins_see_the_ledger(client, make_user, login) -> None:
    login(client, make_user("supervisor", ("MX-CHP",), national=True))
    assert client.get("/stats/ledger").status_code == 404


def test_page_in_both_languages(app, client, make_user, login, data) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",))
    login(client, supervisor)
    page = make_release(client)
    assert "Víctimas por forma de explotación" in page
    assert "Estadísticas" in page
    assert "/stats/summary.csv?year=2024" in page
    client.get("/language/en")
    page = client.get("/stats?year=2024").get_data(as_text=True)
    assert "Victims by form of exploitation" in page
    assert "Published with differential privacy" in page
    assert "95 % interval" in page
    exported = len(exports(app))
    client.get("/stats?year=2024")
    assert len(exports(app)) == exported  # looking is not exporting
    csv_text = download(client, "/stats/summary.csv?year=2024").get_data(as_text=True)
    assert "Victims by form of exploitation" in csv_text and "Men: 95% interval" in csv_text
    html = download(client, "/stats/summary.html?year=2024").get_data(as_text=True)
    assert "<table>" in html and "OpenDP" in html
    assert download(client, "/stats/summary.xml?year=2024").status_code == 404
