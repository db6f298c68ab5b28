"""The receiving service answers (issue 14): provider accounts, the minimal view, answer links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from referral.auth.models import ServiceAccount
from referral.casework.models import Gap, Referral, ReferralEvent
from referral.db import get_db
from referral.provider.models import AnswerToken
from tests.conftest import csrf_token
from tests.factories import GIRL_FROM_HONDURAS, refer_a_case


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",))


@pytest.fixture
def referred(app, screener):
    return refer_a_case(
        app, screener, {**GIRL_FROM_HONDURAS, "age": 15, "companions": [{"age": 3, "sex": "male"}]}
    )


@pytest.fixture
def provider(make_user, referred):
    _case, referral = referred
    return make_user("provider", (), services=[referral.service_id])


def fresh(app, referral_id: int) -> Referral:
    with get_db(app).session() as session:
        found = session.get(Referral, referral_id)
        assert found is not None
        return found


def answer(client, path: str, **data):
    token = csrf_token(client, "/account")
    return client.post(path, data={"csrf_token": token, **data})


def test_provider_accounts_are_attached_to_services(app, provider, referred) -> None:
    with get_db(app).session() as session:
        rows = session.exec(select(ServiceAccount).where(ServiceAccount.user_id == provider.id))
        assert [r.service_id for r in rows] == [referred[1].service_id]
        assert provider.states == [] and not provider.national


def test_cli_creates_a_provider_and_refuses_one_without_service(app, runner, referred) -> None:
    service = referred[1].service_id
    made = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "shelter@example.org",
            "--role",
            "provider",
            "--service",
            service,
            "--lang",
            "en",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert made.exit_code == 0, made.output
    assert "shelter@example.org provider" in made.output
    refused = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "provider",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert refused.exit_code == 2
    assert "--service" in refused.output
    unknown = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "y@example.org",
            "--role",
            "provider",
            "--service",
            "svc-nowhere",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert unknown.exit_code == 2 and "svc-nowhere" in unknown.output


def test_the_inbox_and_the_minimal_view(app, client, login, provider, referred) -> None:
    case, referral = referred
    login(client, provider)
    inbox = client.get("/provider").get_data(as_text=True)
    assert case.code in inbox
    page = client.get(f"/provider/referrals/{referral.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert case.code in text and "12-17" in text
    # never the screening's answers, indicators, notes or the nationality
    assert "commercial_sex" not in text and "Honduras" not in text and "HN" not in text
    assert f"/cases/{case.code}" not in text


def test_a_provider_reaches_nothing_outside_its_services(
    app, client, login, make_user, referred, screener
) -> None:
    case, referral = referred
    other = make_user("provider", (), services=["svc-hotline-legal"])
    login(client, other)
    assert client.get(f"/provider/referrals/{referral.id}").status_code == 404
    assert case.code not in client.get("/provider").get_data(as_text=True)
    for path in (
        "/cases",
        f"/cases/{case.code}",
        "/intake",
        f"/referrals/{referral.id}/sheet",
        "/supervision",
        "/directory",
        "/audit",
        "/stats",
        f"/referrals/{referral.id}/service-copy",
    ):
        assert client.get(path).status_code == 404, path
    response = answer(client, "/provider", status="accepted", version=referral.version)
    assert response.status_code in (404, 405)
    posted = client.post(
        f"/provider/referrals/{referral.id}/status",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "status": "accepted",
            "version": referral.version,
        },
    )
    assert posted.status_code == 404


def test_provider_accepts_closes_gaps_and_stale_version_conflicts(
    app, client, login, provider, referred
) -> None:
    _case, referral = referred
    login(client, provider)
    path = f"/provider/referrals/{referral.id}"
    ok = answer(
        client, f"{path}/status", status="accepted", version=referral.version, note="Llegar a las 9"
    )
    assert ok.status_code == 302
    now = fresh(app, referral.id)
    assert now.status == "accepted" and now.updated_by == provider.id
    with get_db(app).session() as session:
        event = session.exec(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.id.desc())  # type: ignore[union-attr]
        ).first()
        assert event.channel == "provider" and event.note == "Llegar a las 9"
    stale = client.post(
        f"{path}/status",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "status": "in_progress",
            "version": referral.version,
        },
    )
    assert stale.status_code == 409
    assert fresh(app, referral.id).status == "accepted"


def test_provider_rejects_for_capacity_and_a_gap_is_recorded(
    app, client, login, provider, referred
) -> None:
    case, referral = referred
    login(client, provider)
    path = f"/provider/referrals/{referral.id}"
    missing = answer(client, f"{path}/status", status="rejected", version=referral.version)
    assert missing.status_code == 400  # a decline needs its reason
    response = answer(
        client,
        f"{path}/status",
        status="rejected",
        reason_code="no_capacity",
        version=referral.version,
    )
    assert response.status_code == 302
    with get_db(app).session() as session:
        gap = session.exec(select(Gap).where(Gap.case_id == case.id, Gap.kind == "declined")).one()
        assert gap.reasons == ["no_capacity"]


def test_provider_sets_free_places(app, client, login, provider, referred) -> None:
    from referral.directory.models import Service

    login(client, provider)
    service = referred[1].service_id
    bad = answer(client, "/provider", capacity_available="9", capacity_maximum="4")
    assert bad.status_code in (404, 405)  # the form posts to the service's own address
    too_many = answer(
        client,
        f"/provider/services/{service}/capacity",
        capacity_available="9",
        capacity_maximum="4",
    )
    assert too_many.status_code == 302
    ok = answer(
        client,
        f"/provider/services/{service}/capacity",
        capacity_available="3",
        capacity_maximum="12",
    )
    assert ok.status_code == 302
    with get_db(app).session() as session:
        row = session.get(Service, service)
        assert row.entry["capacity_available"] == 3 and row.capacity_maximum == 12
        assert row.capacity_updated is not None
    assert (
        answer(
            client, "/provider/services/svc-hotline-legal/capacity", capacity_available="1"
        ).status_code
        == 404
    )


# --- the answer link -------------------------------------------------------------------------


def service_copy(client, referral_id: int) -> str:
    response = answer(client, f"/referrals/{referral_id}/service-copy")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    match = re.search(r"/r/([A-Za-z0-9_-]+)", text)
    assert match and "data:image/svg+xml" in text
    return f"/r/{match.group(1)}"


def test_the_link_shows_changes_nothing_and_is_used_up(
    app, client, login, screener, referred
) -> None:
    case, referral = referred
    login(client, screener)
    link = service_copy(client, referral.id)
    stranger = app.test_client()
    for _ in range(2):  # a link preview uses nothing up
        page = stranger.get(link)
        assert page.status_code == 200 and case.code in page.get_data(as_text=True)
        assert page.headers["Cache-Control"] == "no-store"
        assert "noindex" in page.headers["X-Robots-Tag"]
    assert fresh(app, referral.id).status == "requested"
    token = csrf_token(stranger, link)
    refused = stranger.post(
        link,
        data={
            "csrf_token": token,
            "status": "rejected",
            "reason_code": "no_capacity",
            "version": referral.version,
        },
    )
    assert refused.status_code == 400  # no name and role
    done = stranger.post(
        link,
        data={
            "csrf_token": token,
            "status": "rejected",
            "reason_code": "no_capacity",
            "version": referral.version,
            "responder_name": "Ana",
            "responder_role": "Coordinadora",
        },
    )
    assert done.status_code == 200
    with get_db(app).session() as session:
        event = session.exec(
            select(ReferralEvent).where(
                ReferralEvent.referral_id == referral.id, ReferralEvent.channel == "link"
            )
        ).one()
        assert (event.responder_name, event.responder_role, event.by_user_id) == (
            "Ana",
            "Coordinadora",
            None,
        )
        assert session.exec(select(Gap).where(Gap.case_id == case.id, Gap.kind == "declined")).one()
    again = stranger.get(link, headers={"Accept-Language": "en"})
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_a_revoked_or_expired_link_says_so(app, client, login, screener, referred) -> None:
    _case, referral = referred
    login(client, screener)
    link = service_copy(client, referral.id)
    assert answer(client, f"/referrals/{referral.id}/service-copy/revoke").status_code == 302
    page = app.test_client().get(link, headers={"Accept-Language": "en"})
    assert page.status_code == 410
    assert "withdrawn" in page.get_data(as_text=True)
    link = service_copy(client, referral.id)
    with get_db(app).transaction() as session:
        row = session.exec(
            select(AnswerToken).where(
                AnswerToken.referral_id == referral.id, AnswerToken.revoked_at.is_(None)
            )
        ).one()  # type: ignore[union-attr]
        row.expires_at = row.created_at - timedelta(minutes=1)
        session.add(row)
    expired = app.test_client().get(link, headers={"Accept-Language": "en"})
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert app.test_client().get("/r/not-a-token").status_code == 404


# --- the service keeps its entry true ---------------------------------------------------------


def test_a_provider_edits_and_confirms_its_entry_and_an_admin_undoes_it(
    app, client, login, make_user, provider, referred
) -> None:
    from referral.audit.models import AuditEvent
    from referral.directory.models import DirectoryVersion, Service
    from referral.provider.models import ServiceEntryEdit

    service = referred[1].service_id
    with get_db(app).session() as session:
        before = dict(session.get(Service, service).entry)
        versions = len(session.exec(select(DirectoryVersion)).all())
    login(client, provider)
    page = client.get(f"/provider/services/{service}")
    assert page.status_code == 200
    half = answer(client, f"/provider/services/{service}", contact_es="Tel. 55 1234 5678")
    assert half.status_code == 422  # both languages, or neither
    saved = answer(
        client,
        f"/provider/services/{service}",
        contact_es="Tel. 55 1234 5678",
        contact_en="Phone 55 1234 5678",
        hours_es="Lunes a viernes",
        hours_en="Monday to Friday",
        documents_es="Identificación",
        documents_en="Identity document",
    )
    assert saved.status_code == 302, re.findall(
        r"(?:error|flash)[^>]*>([^<]*)", saved.get_data(as_text=True)
    )
    with get_db(app).session() as session:
        entry = session.get(Service, service).entry
        assert entry["contact"] == {"es": "Tel. 55 1234 5678", "en": "Phone 55 1234 5678"}
        assert entry["last_verified"] == utc_today()
        assert entry["min_age"] == before["min_age"]  # eligibility is not the provider's
        assert len(session.exec(select(DirectoryVersion)).all()) == versions + 1
        assert session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "directory_changed", AuditEvent.actor_id == provider.id
            )
        ).first()
        edit = session.exec(select(ServiceEntryEdit)).one()
    assert answer(client, "/provider/services/svc-hotline-legal").status_code == 404
    assert client.get(f"/directory/{service}/service-edits").status_code == 404

    admin = make_user("admin", (), national=True)
    admin_client = app.test_client()
    login(admin_client, admin)
    listing = admin_client.get(f"/directory/{service}/service-edits")
    assert listing.status_code == 200 and "contact" in listing.get_data(as_text=True)
    undone = answer(admin_client, f"/directory/service-edits/{edit.id}/undo")
    assert undone.status_code == 302
    with get_db(app).session() as session:
        assert session.get(Service, service).entry == before
        assert session.get(ServiceEntryEdit, edit.id).undone_by == admin.id
    again = answer(admin_client, f"/directory/service-edits/{edit.id}/undo")
    assert again.status_code == 302  # refused with a message: already undone


def utc_today() -> str:
    import datetime as dt

    return dt.date.today().isoformat()


def test_the_hsds_export_writes_the_service_capacity(
    app, runner, client, login, provider, referred
) -> None:
    import json

    service = referred[1].service_id
    login(client, provider)
    answer(
        client,
        f"/provider/services/{service}/capacity",
        capacity_available="2",
        capacity_maximum="10",
    )
    result = runner.invoke(args=["directory", "export", "--format", "hsds"])
    assert result.exit_code == 0, result.output
    services = json.loads(result.output)
    mine = next(s for s in services if any(a.get("value") == service for a in s["attributes"]))
    (capacity,) = mine["capacities"]
    assert (capacity["available"], capacity["maximum"], capacity["unit"]["name"]) == (
        2,
        10,
        "place",
    )
    assert capacity["updated"]


def test_a_confidential_location_stays_off_the_copy_and_the_link(
    app, client, login, screener, make_user
) -> None:
    from tests.test_security import refer_to_a_shelter

    _case, referral, service = refer_to_a_shelter(app, screener)
    secret = service.contact["es"]
    login(client, screener)
    copy = answer(client, f"/referrals/{referral.id}/service-copy")
    assert secret not in copy.get_data(as_text=True)
    link = re.search(r"/r/([A-Za-z0-9_-]+)", copy.get_data(as_text=True)).group(0)
    assert secret not in app.test_client().get(link).get_data(as_text=True)
    own = app.test_client()
    login(own, make_user("provider", (), services=[service.id]))
    assert secret in own.get(f"/provider/referrals/{referral.id}").get_data(as_text=True)


def test_the_admin_form_makes_a_provider_of_some_services(app, client, make_user, login) -> None:
    from referral.auth.models import User

    login(client, make_user("admin", (), national=True))
    form = {
        "csrf_token": csrf_token(client, "/admin/users/new"),
        "email": "refugio@example.org",
        "role": "provider",
        "language": "es",
        "active": "y",
        "password": "long enough password",
        "confirm": "long enough password",
    }
    refused = client.post("/admin/users/new", data=form)
    assert refused.status_code == 400  # a provider without a service
    made = client.post("/admin/users/new", data={**form, "services": ["svc-hotline-legal"]})
    assert made.status_code == 302
    with get_db(app).session() as session:
        user = session.exec(select(User).where(User.email == "refugio@example.org")).one()
        links = session.exec(select(ServiceAccount).where(ServiceAccount.user_id == user.id))
        assert [row.service_id for row in links] == ["svc-hotline-legal"]
    edit = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert (
        'value="svc-hotline-legal" selected' in edit or 'selected value="svc-hotline-legal"' in edit
    )
