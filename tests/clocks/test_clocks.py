"""The clocks the law and good practice set (issue 14): shown on the case page whether or not
the clocks command runs; `flask --app referral clocks run` mails each due thing exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from referral.casework.models import Referral
from referral.casework.screening import CaseDetails, store_screening
from referral.casework.workflow import refer
from referral.clocks import operations
from referral.db import get_db, utcnow
from referral.directory.catalogue import current_catalogue
from referral.rules import validate_record
from tests.conftest import csrf_token
from tests.factories import GIRL_FROM_HONDURAS, record_data
from tests.mail.conftest import Inbox

FOREIGN_ADULT = record_data(
    state="MX-CHP",
    nationality="GT",
    migration_status="irregular",
    indicators=["deceived_job_nature", "commercial_sex", "threats"],
    needs=["shelter"],
)


def store_case(app: Any, data: dict[str, Any], screener: Any, when: datetime) -> Any:
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        case, _screening, _result = store_screening(
            session,
            validate_record(data, catalogue.codes),
            catalogue,
            screener_id=screener.id,
            details=CaseDetails(True, True),
            screened_at=when,
        )
        return case


def run(app: Any) -> list[str]:
    """`flask --app referral clocks run`, as cron runs it; its output's lines."""
    result = app.test_cli_runner().invoke(args=["clocks", "run"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_an_open_child_notice_goes_to_the_states_supervisors_once(
    mail_app, inbox: Inbox, make_user
) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",), email="sup@example.org", language="en")
    make_user("supervisor", ("MX-GRO",), email="other@example.org")
    screener = make_user("screener", ("MX-CHP",))
    late = store_case(mail_app, GIRL_FROM_HONDURAS, screener, utcnow() - timedelta(hours=25))
    store_case(mail_app, GIRL_FROM_HONDURAS, screener, utcnow() - timedelta(hours=2))

    assert "child-protection notices escalated: 1" in run(mail_app)[0]
    assert "child-protection notices escalated: 0" in run(mail_app)[0]  # twice: nothing twice
    (message,) = inbox.to(supervisor.email)
    assert message["Subject"].strip() == (
        f"Ruta: the child-protection notice of case {late.code} is overdue"
    )
    assert "24 hours" in message.get_content()
    assert inbox.to("other@example.org") == []


def test_a_recorded_notice_closes_the_task_and_nothing_is_escalated(
    mail_app, inbox: Inbox, make_user, login
) -> None:
    make_user("supervisor", ("MX-CHP",), email="sup@example.org")
    screener = make_user("screener", ("MX-CHP",), language="en")
    case = store_case(mail_app, GIRL_FROM_HONDURAS, screener, utcnow() - timedelta(hours=30))
    client = mail_app.test_client()
    login(client, screener)
    page = client.get(f"/cases/{case.code}").get_data(as_text=True)
    assert "Notice to the child-protection authority" in page
    assert "Overdue:" in page

    token = csrf_token(client, f"/cases/{case.code}")
    today = (utcnow() - timedelta(hours=26)).astimezone().date().isoformat()
    # Another authority, unnamed: refused at its field, what was typed kept.
    refused = client.post(
        f"/cases/{case.code}/child-notice",
        data={
            "csrf_token": token,
            "authority": "other",
            "notified_on": today,
            "notified_time": "10:30",
        },
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Name the authority the notice was given to." in text
    assert f'value="{today}"' in text and 'value="10:30"' in text
    future = client.post(
        f"/cases/{case.code}/child-notice",
        data={
            "csrf_token": token,
            "authority": "procuraduria",
            "notified_on": (utcnow() + timedelta(days=3)).date().isoformat(),
            "notified_time": "10:30",
        },
    )
    assert future.status_code == 422
    assert "later than now" in future.get_data(as_text=True)

    done = client.post(
        f"/cases/{case.code}/child-notice",
        data={
            "csrf_token": token,
            "authority": "other",
            "authority_other": "Fiscalía de la niñez",
            "notified_on": today,
            "notified_time": "10:30",
        },
    )
    assert done.status_code == 302
    page = client.get(f"/cases/{case.code}").get_data(as_text=True)
    assert "Done. Notified: Fiscalía de la niñez, on" in page
    assert "Overdue:" not in page
    run(mail_app)
    assert inbox.to("sup@example.org") == []


def test_the_reflection_period_shows_its_end_and_is_reminded_once(
    mail_app, inbox: Inbox, make_user, login
) -> None:
    screener = make_user("screener", ("MX-CHP",), email="s@example.org", language="en")
    case = store_case(mail_app, FOREIGN_ADULT, screener, utcnow() - timedelta(days=26))
    store_case(mail_app, FOREIGN_ADULT, screener, utcnow() - timedelta(days=10))  # not yet
    store_case(mail_app, record_data(state="MX-CHP"), screener, utcnow() - timedelta(days=26))

    client = mail_app.test_client()
    login(client, screener)
    page = client.get(f"/cases/{case.code}").get_data(as_text=True)
    assert "Reflection period" in page and "The reflection period ends soon." in page
    ends = (utcnow() + timedelta(days=4)).astimezone().strftime("%b")
    assert ends in page  # the end date, in the reader's language

    assert "reflection reminders: 1" in run(mail_app)[0]
    assert "reflection reminders: 0" in run(mail_app)[0]
    (message,) = inbox.to("s@example.org")
    assert (
        message["Subject"]
        .strip()
        .startswith(f"Ruta: the reflection period of case {case.code} ends")
    )


def _referral(app: Any, case: Any, screener: Any, hours_ago: int) -> Any:
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        need = "shelter"
        service = next(s for s in catalogue.services_by_id.values() if s.need == need)
        referral = refer(
            session,
            case,
            need=need,
            service_id=service.id,
            catalogue=catalogue,
            user_id=screener.id,
        )
        session.execute(
            update(Referral)
            .where(Referral.id == referral.id)  # type: ignore[arg-type]
            .values(created_at=utcnow() - timedelta(hours=hours_ago))
        )
        return referral


def test_referrals_past_their_answer_time_are_flagged_and_digested_once_a_day(
    mail_app, inbox: Inbox, make_user, login
) -> None:
    screener = make_user("screener", ("MX-CHP",), email="s@example.org", language="en")
    make_user("supervisor", ("MX-CHP",), email="sup@example.org")
    make_user("supervisor", ("MX-GRO",), email="other@example.org")
    overdue = store_case(mail_app, record_data(state="MX-CHP"), screener, utcnow())
    recent = store_case(mail_app, record_data(state="MX-CHP"), screener, utcnow())
    _referral(mail_app, overdue, screener, hours_ago=50)
    _referral(mail_app, recent, screener, hours_ago=10)

    client = mail_app.test_client()
    login(client, screener)
    page = client.get(f"/cases/{overdue.code}").get_data(as_text=True)
    assert "Referrals waiting for an answer past their due time" in page
    assert "Referrals waiting" not in client.get(f"/cases/{recent.code}").get_data(as_text=True)

    assert "digests: 2" in run(mail_app)[0]
    assert "digests: 0" in run(mail_app)[0]
    for address in ("s@example.org", "sup@example.org"):
        (digest,) = inbox.to(address)
        body = digest.get_content()
        assert f"https://ruta.example.org/cases/{overdue.code}" in body
        assert recent.code not in body
    assert inbox.to("other@example.org") == []


def test_the_answer_due_time_is_configurable(app_factory, make_user) -> None:
    app = app_factory(ANSWER_DUE_HOURS=8)
    screener = make_user("screener", ("MX-CHP",))
    case = store_case(app, record_data(state="MX-CHP"), screener, utcnow())
    _referral(app, case, screener, hours_ago=10)
    with app.app_context():
        report = operations.run_clocks(app)
    assert report.digests == 1 and report.sent == 0  # no mail server: it waits


def test_a_sent_messages_text_is_cleared_after_the_keep_days_and_never_sent_again(
    mail_app, inbox: Inbox, make_user
) -> None:
    """Data minimization: a mail's link and case code do not outlive OUTBOX_KEEP_DAYS in the
    outbox; the row (kind, recipient, times, dedup key) stays, so nothing is sent twice."""
    from sqlmodel import select

    from referral.mail.models import OutboxMessage

    screener = make_user("screener", ("MX-CHP",), email="s@example.org", language="en")
    store_case(mail_app, FOREIGN_ADULT, screener, utcnow() - timedelta(days=26))
    assert "old message texts cleared: 0" in run(mail_app)[0]  # sent just now: kept
    assert len(inbox.to("s@example.org")) == 1

    later = utcnow() + timedelta(days=mail_app.config["OUTBOX_KEEP_DAYS"], hours=1)
    with mail_app.app_context():
        report = operations.run_clocks(mail_app, now=later)
        again = operations.run_clocks(mail_app, now=later)
    assert report.cleared == 1 and report.reminded == 0 and report.sent == 0
    with mail_app.app_context(), get_db(mail_app).transaction(write=False) as session:
        (message,) = session.exec(select(OutboxMessage)).all()
        assert (message.subject, message.body) == ("", "")
        assert message.kind and message.sent_at is not None and message.dedup_key
    assert again.cleared == 0 and again.sent == 0
    assert len(inbox.to("s@example.org")) == 1
