"""People are told (issue 14): mail through a real SMTP server, from an outbox filled in the
transaction of the change, sent after the response, never blocking the change."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import select

from referral.casework.models import Case, EventChannel
from referral.casework.notices import notify_referral_created
from referral.casework.workflow import Answer, change_status, refer
from referral.db import get_db
from referral.mail import sending
from referral.mail.models import OutboxMessage
from tests.factories import fill_all, refer_a_case, submit
from tests.mail.conftest import Inbox


def submit_case(client: Any) -> str:
    """The intake form's minor in immediate danger in Chiapas, submitted; the case code."""
    response = submit(client, fill_all(client))
    assert response.status_code == 302
    response.close()  # the server closes the response once sent: the outbox goes then
    return response.headers["Location"].rsplit("/", 1)[-1]


def outbox(app: Any) -> list[OutboxMessage]:
    with app.app_context(), get_db(app).transaction() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def test_danger_and_minor_mail_the_states_supervisors_in_their_language(
    mail_app, inbox: Inbox, make_user, login
) -> None:
    english = make_user("supervisor", ("MX-CHP",), email="sup-en@example.org", language="en")
    spanish = make_user("supervisor", ("MX-CHP",), email="sup-es@example.org", language="es")
    make_user("supervisor", ("MX-GRO",), email="sup-gro@example.org")
    national = make_user("supervisor", (), national=True, email="sup-nat@example.org")
    client = mail_app.test_client()
    login(client, make_user("screener", ("MX-CHP",)))
    code = submit_case(client)

    assert {len(inbox.to(u.email)) for u in (english, spanish, national)} == {2}
    assert inbox.to("sup-gro@example.org") == []
    subjects = sorted(m["Subject"].strip() for m in inbox.to(english.email))
    assert subjects == [
        f"Ruta: case {code} is a minor's",
        f"Ruta: case {code} is in immediate danger",
    ]
    for message in inbox.to(english.email):
        body = message.get_content()
        assert code in body
        assert f"https://ruta.example.org/cases/{code}" in body
        # Never details of the person: not the notes, the nationality or the age typed.
        for detail in ("Habla poco", "Honduras", "HN", "15"):
            assert detail not in body.replace(code, "")
        assert message["Content-Language"] == "en"
        assert message["From"] == "ruta@example.org"
    assert {m["Content-Language"] for m in inbox.to(spanish.email)} == {"es"}
    assert all(m.sent_at is not None and m.attempts == 1 for m in outbox(mail_app))


def test_a_rescreening_that_says_the_same_mails_nobody_again(
    mail_app, inbox: Inbox, make_user, login
) -> None:
    make_user("supervisor", ("MX-CHP",), email="sup@example.org")
    screener = make_user("screener", ("MX-CHP",))
    client = mail_app.test_client()
    login(client, screener)
    code = submit_case(client)
    assert len(inbox.to("sup@example.org")) == 2
    from tests.conftest import csrf_token

    response = client.post(
        f"/cases/{code}/rescreen", data={"csrf_token": csrf_token(client, f"/cases/{code}")}
    )
    key = response.headers["Location"].split("/")[2]
    response = submit(client, key)
    response.close()
    assert response.status_code == 302
    assert len(inbox.to("sup@example.org")) == 2


def test_without_a_mail_server_messages_wait_and_the_log_says_only_that(
    app_factory, make_user, login, caplog
) -> None:
    app = app_factory(PUBLIC_URL="https://ruta.example.org")
    make_user("supervisor", ("MX-CHP",), email="sup@example.org")
    client = app.test_client()
    login(client, make_user("screener", ("MX-CHP",)))
    with caplog.at_level(logging.INFO, logger="referral.mail"):
        code = submit_case(client)
    waiting = outbox(app)
    assert len(waiting) == 2 and all(m.sent_at is None and m.attempts == 0 for m in waiting)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("referral.mail"))
    assert "waiting in the outbox" in logged
    assert code not in logged and "sup@example.org" not in logged and "http" not in logged

    admin = make_user("admin", (), national=True)
    admin_client = app.test_client()
    login(admin_client, admin)
    page = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert "No mail server is set" in page or "No hay servidor de correo configurado" in page
    assert 'id="outbox-waiting">2<' in page
    assert code not in page


def test_a_down_mail_server_delays_the_message_never_the_case(
    app_factory, smtp_server, make_user, login
) -> None:
    inbox, port = smtp_server
    from tests.mail.conftest import free_port

    down = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TLS="none")
    make_user("supervisor", ("MX-CHP",), email="sup@example.org")
    client = down.test_client()
    login(client, make_user("screener", ("MX-CHP",)))
    code = submit_case(client)
    assert client.get(f"/cases/{code}").status_code == 200  # the case was kept
    tried = outbox(down)
    assert [(m.attempts, m.last_error, m.sent_at) for m in tried] == [
        (1, "smtp_unreachable", None)
    ] * 2
    assert all(m.next_attempt_at > m.created_at for m in tried)

    # The server is back: the next run (after the wait) sends them, once.
    up = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none")
    later = max(m.next_attempt_at for m in tried)
    with up.app_context():
        assert sending.send_waiting(up, now=later).sent == 2
        assert sending.send_waiting(up, now=later).sent == 0
    assert len(inbox.to("sup@example.org")) == 2


def test_the_screener_is_told_when_the_service_answers_not_when_they_record_it(
    mail_app, inbox: Inbox, make_user
) -> None:
    screener = make_user("screener", ("MX-CHP",), email="screener@example.org", language="en")
    case, referral = refer_a_case(mail_app, screener)
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        change_status(
            session,
            referral,
            status="on_hold",
            reason_code="other",
            expected_version=1,
            user_id=screener.id,
            answer=Answer(note="Waiting for a place"),  # "other" needs a note
        )  # the screener's own record: nobody is told
        change_status(
            session,
            referral,
            status="accepted",
            reason_code=None,
            expected_version=2,
            user_id=None,
            answer=Answer(channel=EventChannel.link, responder_name="Ana", responder_role="Staff"),
        )
    with mail_app.app_context():
        sending.send_waiting(mail_app)
    received = inbox.to("screener@example.org")
    assert [m["Subject"].strip() for m in received] == [
        f"Ruta: the service answered the referral of case {case.code}"
    ]
    body = received[0].get_content()
    assert f"https://ruta.example.org/cases/{case.code}" in body
    assert "Ana" not in body


def test_a_new_referral_is_mailed_to_the_recipients_given(
    mail_app, inbox: Inbox, make_user
) -> None:
    screener = make_user("screener", ("MX-CHP",))
    someone = make_user("screener", ("MX-CHP",), email="service@example.org", language="en")
    case, referral = refer_a_case(mail_app, screener)
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        assert len(notify_referral_created(session, referral, [someone])) == 1
        assert notify_referral_created(session, referral, [someone]) == []  # once per referral
    with mail_app.app_context():
        sending.send_waiting(mail_app)
    (message,) = inbox.to("service@example.org")
    assert message["Subject"].strip() == f"Ruta: a new referral for your service (case {case.code})"
    assert f"/referrals/{referral.id}/sheet" in message.get_content()


def test_an_inactive_recipient_is_given_up_not_retried(mail_app, inbox: Inbox, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    gone = make_user("screener", ("MX-CHP",), active=False)
    _case, referral = refer_a_case(mail_app, screener)
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        notify_referral_created(session, referral, [gone])
    with mail_app.app_context():
        report = sending.send_waiting(mail_app)
    assert (report.sent, report.given_up) == (0, 1)
    assert [m.last_error for m in outbox(mail_app)] == ["no_address"]
    assert inbox.messages == []


def test_the_outbox_page_is_counts_only(mail_app, inbox: Inbox, make_user, login) -> None:
    make_user("supervisor", ("MX-CHP",), email="sup@example.org")
    client = mail_app.test_client()
    login(client, make_user("screener", ("MX-CHP",)))
    code = submit_case(client)
    admin_client = mail_app.test_client()
    login(admin_client, make_user("admin", (), national=True))
    page = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert 'id="outbox-sent">2<' in page and 'id="outbox-waiting">0<' in page
    assert "No mail server is set" not in page
    assert code not in page and "sup@example.org" not in page
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        assert session.exec(select(Case).where(Case.code == code)).one()


def test_a_message_to_an_address_without_an_account_goes_in_its_language(
    mail_app, inbox: Inbox, make_user
) -> None:
    from referral.casework.notices import CREATED_SUBJECT, CREATED_TEXT, Kind
    from referral.mail.outbox import Letter, enqueue_to_address

    screener = make_user("screener", ("MX-CHP",))
    case, referral = refer_a_case(mail_app, screener)
    letter = Letter(Kind.referral_created, CREATED_SUBJECT, (CREATED_TEXT,), {"code": case.code})
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        made = enqueue_to_address(
            session, letter, " intake@shelter.example.org ", "en", referral_id=referral.id
        )
        assert made is not None and made.recipient_id is None
    with mail_app.app_context():
        assert sending.send_waiting(mail_app).sent == 1
    (message,) = inbox.to("intake@shelter.example.org")
    assert message["Content-Language"] == "en"
    assert case.code in message.get_content()


def test_a_service_with_accounts_hears_of_each_new_referral_with_its_inbox_link(
    mail_app, inbox: Inbox, make_user
) -> None:
    from referral.casework.screening import CaseDetails, store_screening
    from referral.directory.catalogue import current_catalogue
    from referral.rules import validate_record
    from tests.factories import GIRL_FROM_HONDURAS

    screener = make_user("screener", ("MX-CHP",))
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record(GIRL_FROM_HONDURAS, catalogue.codes)
        case, _s, result = store_screening(
            session, record, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
        )
        need = next(n for n, options in result.options.items() if options)
        service_id = result.options[need][0].service
    make_user(
        "provider", (), email="desk@service.example.org", language="en", services=[service_id]
    )
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        case = session.get(Case, case.id)
        referral = refer(
            session,
            case,
            need=need,
            service_id=service_id,
            catalogue=current_catalogue(session),
            user_id=screener.id,
        )
    with mail_app.app_context():
        sending.send_waiting(mail_app)
    (message,) = inbox.to("desk@service.example.org")
    assert message["Subject"].strip() == f"Ruta: a new referral for your service (case {case.code})"
    assert f"/provider/referrals/{referral.id}" in message.get_content()


def test_both_screeners_hear_of_a_handover(mail_app, inbox: Inbox, make_user) -> None:
    from referral.casework import lifecycle

    former = make_user("screener", ("MX-CHP",), email="former@example.org", language="en")
    new = make_user("screener", ("MX-CHP",), email="new@example.org", language="es")
    supervisor = make_user("supervisor", ("MX-CHP",))
    case, _referral = refer_a_case(mail_app, former)
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        case = session.get(Case, case.id)
        lifecycle.hand_over(session, case, new, from_user=former, by_user_id=supervisor.id)
    with mail_app.app_context():
        sending.send_waiting(mail_app)
    (to_new,) = inbox.to("new@example.org")
    (to_former,) = inbox.to("former@example.org")
    assert case.code in to_new["Subject"] and case.code in to_former["Subject"]
    assert f"/cases/{case.code}" in to_new.get_content()
    assert to_former["Subject"].strip() == f"Ruta: case {case.code} was handed over"


def test_after_a_handover_the_new_screener_hears_the_services_answer(
    mail_app, inbox: Inbox, make_user
) -> None:
    """The answer's mail follows the case: the former screener no longer opens it."""
    from referral.casework import lifecycle

    former = make_user("screener", ("MX-CHP",), email="former@example.org", language="en")
    new = make_user("screener", ("MX-CHP",), email="new@example.org", language="en")
    case, referral = refer_a_case(mail_app, former)
    with mail_app.app_context(), get_db(mail_app).transaction() as session:
        stored = session.get(Case, case.id)
        lifecycle.hand_over(session, stored, new, from_user=former, by_user_id=None)
        change_status(
            session,
            referral,
            status="accepted",
            reason_code=None,
            expected_version=1,
            user_id=None,
            answer=Answer(channel=EventChannel.link, responder_name="Ana", responder_role="Staff"),
        )
    with mail_app.app_context():
        sending.send_waiting(mail_app)
    answered = f"Ruta: the service answered the referral of case {case.code}"
    assert answered in [m["Subject"].strip() for m in inbox.to("new@example.org")]
    assert answered not in [m["Subject"].strip() for m in inbox.to("former@example.org")]
