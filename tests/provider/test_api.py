"""The referral resource of the JSON API (issue 14): list in reach, status change, 409, 422."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from referral.casework.models import ReferralEvent
from referral.db import get_db
from tests.factories import GIRL_FROM_HONDURAS, refer_a_case


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",))


@pytest.fixture
def referred(app, screener):
    return refer_a_case(app, screener, GIRL_FROM_HONDURAS)


def bearer(api_token, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(user)}"}


def test_the_api_flow_of_a_provider_with_a_conflict(
    app, client, make_user, api_token, referred
) -> None:
    case, referral = referred
    provider = make_user("provider", (), services=[referral.service_id])
    headers = bearer(api_token, provider)
    listed = client.get("/api/v1/referrals?status=requested", headers=headers)
    assert listed.status_code == 200
    item = listed.get_json()["referrals"][0]
    assert {k: item[k] for k in ("id", "case_code", "status", "version", "service")} == {
        "id": referral.id,
        "case_code": case.code,
        "status": "requested",
        "version": 1,
        "service": referral.service_id,
    }
    assert item["person"]["sex"] == "female" and "nationality" not in item["person"]
    assert "record" not in item and "indicators" not in str(item)
    assert client.get("/api/v1/referrals?status=accepted", headers=headers).get_json() == {
        "referrals": []
    }

    path = f"/api/v1/referrals/{referral.id}/status"
    ok = client.post(
        path, json={"status": "accepted", "note": "Mañana", "version": 1}, headers=headers
    )
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["status"] == "accepted" and ok.get_json()["version"] == 2
    stale = client.post(path, json={"status": "in_progress", "version": 1}, headers=headers)
    assert stale.status_code == 409
    body = stale.get_json()
    assert (body["your_version"], body["current_version"]) == (1, 2)
    assert body["referral"]["status"] == "accepted"
    with get_db(app).session() as session:
        events = session.exec(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(col(ReferralEvent.id))
        ).all()
        channels = [e.channel for e in events]
        assert channels == ["screener", "api"]


def test_a_provider_reaches_only_its_services_through_the_api(
    client, make_user, api_token, referred
) -> None:
    _case, referral = referred
    other = make_user("provider", (), services=["svc-hotline-legal"])
    headers = bearer(api_token, other)
    assert client.get("/api/v1/referrals", headers=headers).get_json() == {"referrals": []}
    response = client.post(
        f"/api/v1/referrals/{referral.id}/status",
        json={"status": "accepted", "version": 1},
        headers=headers,
    )
    assert response.status_code == 404 and response.is_json
    missing = client.post(
        "/api/v1/referrals/999999/status",
        json={"status": "accepted", "version": 1},
        headers=headers,
    )
    assert missing.status_code == 404


def test_field_errors_all_at_once_in_the_readers_language(
    client, make_user, api_token, referred
) -> None:
    _case, referral = referred
    provider = make_user("provider", (), services=[referral.service_id])
    headers = {**bearer(api_token, provider), "Accept-Language": "en"}
    path = f"/api/v1/referrals/{referral.id}/status"
    broken = client.post(
        path, json={"status": 3, "version": "one", "colour": "red"}, headers=headers
    )
    assert broken.status_code == 422
    errors = broken.get_json()["errors"]
    assert set(errors) == {"status", "version", "colour"}
    assert client.post(path, json=[1], headers=headers).status_code == 422
    cancelled = client.post(
        path, json={"status": "cancelled", "reason": "other", "version": 1}, headers=headers
    )
    assert cancelled.status_code == 422 and "status" in cancelled.get_json()["errors"]
    no_reason = client.post(path, json={"status": "rejected", "version": 1}, headers=headers)
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["errors"]
    assert client.get("/api/v1/referrals?status=lost", headers=headers).status_code == 422


def test_screeners_see_their_own_and_supervisors_their_states(
    app, client, make_user, api_token, screener, referred
) -> None:
    _case, referral = referred
    mine = client.get("/api/v1/referrals", headers=bearer(api_token, screener)).get_json()
    assert [r["id"] for r in mine["referrals"]] == [referral.id]
    assert set(mine["referrals"][0]) == {
        "id",
        "case_code",
        "need",
        "service",
        "status",
        "reason",
        "version",
        "updated_at",
    }
    other = make_user("screener", ("MX-CHP",))
    assert client.get("/api/v1/referrals", headers=bearer(api_token, other)).get_json() == {
        "referrals": []
    }
    same = make_user("supervisor", ("MX-CHP",))
    far = make_user("supervisor", ("MX-GRO",))
    assert (
        len(
            client.get("/api/v1/referrals", headers=bearer(api_token, same)).get_json()["referrals"]
        )
        == 1
    )
    assert client.get("/api/v1/referrals", headers=bearer(api_token, far)).get_json() == {
        "referrals": []
    }
    response = client.post(
        f"/api/v1/referrals/{referral.id}/status",
        json={"status": "accepted", "version": 1},
        headers=bearer(api_token, far),
    )
    assert response.status_code == 404
