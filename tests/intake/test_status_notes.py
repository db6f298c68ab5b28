"""Changing a referral's status: nothing chosen in advance, a note with each change (kept with
the case, never exported), "other" needs one, and the timeline says who acted."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from referral.casework import workflow
from referral.casework.models import EventChannel, Referral, ReferralEvent
from referral.db import get_db
from tests.conftest import csrf_token
from tests.intake.test_referrals import new_case, options, refer, referrals_of


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",), display_name="Ana Pérez")


@pytest.fixture
def client_in(client, screener, login):
    login(client, screener)
    client.get("/language/en")
    return client


def change(client, referral: Referral, status: str, reason: str = "", note: str = ""):
    token = csrf_token(client, "/cases")
    return client.post(
        f"/referrals/{referral.id}/status",
        data={
            "csrf_token": token,
            "status": status,
            "reason_code": reason,
            "note": note,
            "version": referral.version,
        },
    )


def referred(app, client) -> tuple[str, Referral]:
    code = new_case(client)
    refer(client, code, "shelter", options(app, code)["shelter"][0]["service"])
    return code, referrals_of(app, code)[0]


def events(app, referral: Referral) -> list[ReferralEvent]:
    with get_db(app).session() as session:
        return list(
            session.exec(
                select(ReferralEvent)
                .where(ReferralEvent.referral_id == referral.id)
                .order_by(ReferralEvent.id)
            ).all()
        )


def test_no_status_is_chosen_in_advance(app, client_in) -> None:
    code, referral = referred(app, client_in)
    page = client_in.get(f"/cases/{code}").get_data(as_text=True)
    select_html = re.search(rf'<select id="r{referral.id}-status".*?</select>', page, re.S)[0]
    assert '<option value="" selected>Choose…</option>' in select_html
    assert select_html.count(" selected") == 1
    answer = change(client_in, referral, "")
    assert answer.status_code == 400
    assert "Choose a status." in answer.get_data(as_text=True)
    assert len(events(app, referral)) == 1  # only the request


def test_a_note_goes_with_the_change_and_shows_on_the_timeline(app, client_in) -> None:
    code, referral = referred(app, client_in)
    answer = change(client_in, referral, "accepted", note="Llamar a Lucía el lunes")
    assert answer.status_code == 302
    assert events(app, referral)[-1].note == "Llamar a Lucía el lunes"
    page = client_in.get(f"/cases/{code}").get_data(as_text=True)
    timeline = page[page.index('id="timeline-title"') :]
    assert "Llamar a Lucía el lunes" in timeline
    assert "by Ana Pérez" in timeline


def test_other_needs_a_note_and_what_was_typed_is_kept(app, client_in) -> None:
    _, referral = referred(app, client_in)
    answer = change(client_in, referral, "rejected", reason="other")
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "The reason is “other”: say what happened in a note." in page
    assert '<option value="rejected" selected>' in page
    assert '<option value="other" selected>' in page
    assert len(events(app, referral)) == 1
    done = change(client_in, referral, "rejected", reason="other", note="Cerró por obras")
    assert done.status_code == 302
    last = events(app, referral)[-1]
    assert (last.status, last.reason_code, last.note) == ("rejected", "other", "Cerró por obras")


def test_the_workflow_refuses_other_without_a_note(app, client_in) -> None:
    _, referral = referred(app, client_in)
    with get_db(app).transaction() as session:
        fresh = session.get(Referral, referral.id)
        with pytest.raises(workflow.ReferralError) as refused:
            workflow.change_status(
                session,
                fresh,
                status="rejected",
                reason_code="other",
                expected_version=fresh.version,
                user_id=None,
                answer=workflow.Answer(channel=EventChannel.link, note="  "),
            )
    assert refused.value.code == "note_required"


def test_the_timeline_names_who_answered_through_the_link(app, client_in) -> None:
    code, referral = referred(app, client_in)
    with app.app_context(), get_db(app).transaction() as session:  # the screener is mailed
        fresh = session.get(Referral, referral.id)
        workflow.change_status(
            session,
            fresh,
            status="accepted",
            reason_code=None,
            expected_version=fresh.version,
            user_id=None,
            answer=workflow.Answer(
                channel=EventChannel.link,
                responder_name="Marta Ruiz",
                responder_role="Trabajadora social",
                note="Puede llegar hoy",
            ),
        )
    page = client_in.get(f"/cases/{code}").get_data(as_text=True)
    timeline = page[page.index('id="timeline-title"') :]
    assert "Marta Ruiz (Trabajadora social), for the service, through the answer link" in timeline
    assert "Puede llegar hoy" in timeline


def test_notes_are_never_exported(app, client_in, runner, make_user, login) -> None:
    _, referral = referred(app, client_in)
    change(client_in, referral, "accepted", note="Nota privada de la canalización")
    exported = runner.invoke(args=["cases", "export-jsonl"])
    assert exported.exit_code == 0
    assert "Nota privada" not in exported.output
    admin = app.test_client()
    login(admin, make_user("admin", (), national=True))
    assert "Nota privada" not in admin.get("/stats").get_data(as_text=True)
