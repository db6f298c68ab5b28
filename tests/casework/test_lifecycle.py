"""The life of a case: closure and reopening, handover, consent withdrawn (operations)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from referral.access import Reach
from referral.audit.models import AuditEvent
from referral.casework import lifecycle, queries
from referral.casework.lifecycle import LifecycleError
from referral.casework.models import Case, CaseEvent, Gap, Referral, ReferralEvent
from referral.db import get_db
from referral.rules.contract import GapClosedReason
from tests.factories import referred_case


def in_session(app: Flask, work: Any) -> Any:
    with app.app_context(), get_db(app).transaction() as session:
        return work(session)


def case_of(session: Session, code: str) -> Case:
    return session.exec(select(Case).where(Case.code == code)).one()


def actions(session: Session, case: Case) -> list[str]:
    return list(
        session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.object_kind == "case", AuditEvent.object_id == str(case.id))
            .order_by(col(AuditEvent.id))
        ).all()
    )


def open_gaps(session: Session, case: Case) -> list[Gap]:
    return list(
        session.exec(select(Gap).where(Gap.case_id == case.id, col(Gap.closed_at).is_(None))).all()
    )


def test_closing_closes_the_open_gaps_as_case_closed_and_is_audited(app, make_user) -> None:
    screener = make_user("screener")
    code = referred_case(app, screener.id)

    def close(session: Session) -> None:
        case = case_of(session, code)
        assert open_gaps(session, case), "the ad hoc referral opened a gap"
        closed = lifecycle.close_case(
            session, case, reason="services_completed", note=None, user_id=screener.id
        )
        assert closed == len(session.exec(select(Gap).where(Gap.case_id == case.id)).all())
        assert open_gaps(session, case) == []
        reasons = session.exec(select(Gap.closed_reason).where(Gap.case_id == case.id)).all()
        assert set(reasons) == {GapClosedReason.case_closed}
        assert (case.closed_reason, case.closed_by) == ("services_completed", screener.id)
        assert case.closed_at is not None
        assert actions(session, case)[-1] == "case_closed"
        with pytest.raises(LifecycleError, match="already_closed"):
            lifecycle.close_case(session, case, reason="duplicate", note=None, user_id=screener.id)

    in_session(app, close)


def test_other_needs_a_note_kept_with_the_case(app, make_user) -> None:
    screener = make_user("screener")
    code = referred_case(app, screener.id)

    def close(session: Session) -> None:
        case = case_of(session, code)
        for note in (None, "   "):
            with pytest.raises(LifecycleError, match="note_required"):
                lifecycle.close_case(session, case, reason="other", note=note, user_id=1)
        with pytest.raises(LifecycleError, match="note_too_long"):
            lifecycle.close_case(session, case, reason="other", note="x" * 501, user_id=1)
        with pytest.raises(LifecycleError, match="unknown_reason"):
            lifecycle.close_case(session, case, reason="bored", note=None, user_id=1)
        assert case.closed_at is None
        lifecycle.close_case(
            session, case, reason="other", note="Moved to a relative", user_id=screener.id
        )
        event = lifecycle.history(session, case)[0]
        assert (event.kind, event.reason, event.note) == ("closed", "other", "Moved to a relative")
        audit = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
        assert audit is not None and "Moved" not in str(audit.model_dump())

    in_session(app, close)


def test_closed_cases_leave_the_working_list_but_stay_under_closed(app, make_user) -> None:
    screener = make_user("screener")
    kept, closed = referred_case(app, screener.id), referred_case(app, screener.id)

    def check(session: Session) -> None:
        lifecycle.close_case(
            session, case_of(session, closed), reason="duplicate", note=None, user_id=screener.id
        )
        reach = Reach.of(screener)

        def listed(which: str) -> set[str]:
            rows, total = queries.case_list(
                session, reach, stale_days=7, filters=queries.CaseFilters(show=which)
            )
            assert total == len(rows)
            return {row.case.code for row in rows}

        assert listed("open") == {kept}
        assert listed("closed") == {closed}
        assert listed("all") == {kept, closed}

    in_session(app, check)


def test_reopening_needs_a_reason_and_is_audited(app, make_user) -> None:
    screener = make_user("screener")
    code = referred_case(app, screener.id)

    def reopen(session: Session) -> None:
        case = case_of(session, code)
        with pytest.raises(LifecycleError, match="not_closed"):
            lifecycle.reopen_case(session, case, note="why", user_id=screener.id)
        lifecycle.close_case(
            session, case, reason="person_unreachable", note=None, user_id=screener.id
        )
        with pytest.raises(LifecycleError, match="note_required"):
            lifecycle.reopen_case(session, case, note="", user_id=screener.id)
        lifecycle.reopen_case(session, case, note="She called back", user_id=screener.id)
        assert (case.closed_at, case.closed_reason, case.closed_by) == (None, None, None)
        assert actions(session, case)[-2:] == ["case_closed", "case_reopened"]
        kinds = [(e.kind, e.note) for e in lifecycle.history(session, case)]
        assert kinds[0] == ("reopened", "She called back")
        # Its gap records stay closed as case_closed: the next routing opens new ones.
        assert open_gaps(session, case) == []

    in_session(app, reopen)


def test_withdrawing_consent_to_referral_cancels_open_referrals(app, make_user) -> None:
    screener = make_user("screener")
    code = referred_case(app, screener.id)

    def withdraw(session: Session) -> None:
        case = case_of(session, code)
        referrals = session.exec(select(Referral).where(Referral.case_id == case.id)).all()
        assert len(referrals) == 2
        cancelled = lifecycle.withdraw_consent(
            session, case, referral=True, statistics=False, user_id=screener.id
        )
        assert len(cancelled) == 2
        for referral in referrals:
            session.refresh(referral)
            assert (referral.status, referral.reason_code) == ("cancelled", "person_declined")
            last = session.exec(
                select(ReferralEvent)
                .where(ReferralEvent.referral_id == referral.id)
                .order_by(col(ReferralEvent.id).desc())
            ).first()
            assert last is not None and last.status == "cancelled"
        assert case.consent_referral is False and case.consent_statistics is True
        assert "consent_referral_withdrawn" in actions(session, case)
        assert lifecycle.history(session, case)[0].kind == "consent_referral_withdrawn"
        with pytest.raises(LifecycleError, match="no_referral_consent"):
            lifecycle.withdraw_consent(
                session, case, referral=True, statistics=False, user_id=screener.id
            )
        from referral.casework.workflow import ReferralError, refer_ad_hoc

        with pytest.raises(ReferralError, match="no_consent"):
            refer_ad_hoc(
                session, case, need="shelter", provider="x", reason="y", user_id=screener.id
            )

    in_session(app, withdraw)


def test_withdrawing_consent_to_statistics(app, make_user) -> None:
    screener = make_user("screener")
    code = referred_case(app, screener.id)

    def withdraw(session: Session) -> None:
        case = case_of(session, code)
        with pytest.raises(LifecycleError, match="nothing_withdrawn"):
            lifecycle.withdraw_consent(
                session, case, referral=False, statistics=False, user_id=screener.id
            )
        cancelled = lifecycle.withdraw_consent(
            session, case, referral=False, statistics=True, user_id=screener.id
        )
        assert cancelled == []
        assert case.consent_statistics is False and case.statistics_withdrawn_at is not None
        assert case.consent_referral is True  # referrals go on
        statuses = session.exec(select(Referral.status).where(Referral.case_id == case.id)).all()
        assert "cancelled" not in statuses
        assert "consent_statistics_withdrawn" in actions(session, case)

    in_session(app, withdraw)


def test_handover_to_a_screener_of_the_state_only(app, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    colleague = make_user("screener", ("MX-CHP",))
    national = make_user("screener", (), national=True)
    elsewhere = make_user("screener", ("MX-GRO",))
    inactive = make_user("screener", ("MX-CHP",), active=False)
    supervisor = make_user("supervisor", ("MX-CHP",))
    code = referred_case(app, screener.id)

    def hand(session: Session) -> None:
        case = case_of(session, code)
        for wrong in (elsewhere, inactive, supervisor, screener):
            with pytest.raises(LifecycleError, match="cannot_receive"):
                lifecycle.hand_over(
                    session, case, wrong, from_user=screener, by_user_id=supervisor.id
                )
        assert lifecycle.can_receive(national, case)
        lifecycle.hand_over(session, case, colleague, from_user=screener, by_user_id=supervisor.id)
        assert case.screener_id == colleague.id
        event = lifecycle.history(session, case)[0]
        assert (event.kind, event.from_user_id, event.to_user_id, event.by_user_id) == (
            "handed_over",
            screener.id,
            colleague.id,
            supervisor.id,
        )
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.action == "case_handed_over")
        ).one()
        assert (audit.actor_id, audit.object_id) == (supervisor.id, str(case.id))
        # The previous screener no longer reaches the case; the new one does.
        assert not Reach.of(screener).can_see(case.state, case.screener_id)
        assert Reach.of(colleague).can_see(case.state, case.screener_id)

    in_session(app, hand)


def test_history_is_erased_with_the_case(app, make_user) -> None:
    screener = make_user("screener")
    code = referred_case(app, screener.id)

    def erase(session: Session) -> None:
        case = case_of(session, code)
        lifecycle.close_case(session, case, reason="other", note="A note", user_id=screener.id)
        case_id = case.id
        lifecycle.erase_case(session, case, reason="person_request", actor_id=None)
        assert session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).all() == []

    in_session(app, erase)


def test_a_withdrawn_consent_to_statistics_leaves_later_releases(app, make_user) -> None:
    from referral.directory.catalogue import current_catalogue
    from referral.stats.bounded import bounded_counts, public_codes
    from referral.stats.operations import Scope, annual_summary, summary_codes
    from tests.factories import identical_people, store

    screener = make_user("screener", ("MX-CHP",))
    stored = store(app, identical_people(3), screener.id)
    never_asked = store(app, identical_people(1, consent=False), screener.id)
    assert never_asked

    def counts(session: Session) -> tuple[int, int]:
        catalogue = current_catalogue(session)
        exact = annual_summary(session, 2024, Scope(), summary_codes(catalogue))
        bounded = bounded_counts(session, 2024, None, public_codes(catalogue))
        return exact["victims"]["total"], sum(bounded["victims_by_category"].values())

    # Victims are the likely cases (every other one of identical_people is "possible"); one
    # who never agreed to statistics is still in the aggregates (not in the microdata).
    assert in_session(app, counts) == (3, 3)

    def withdraw(session: Session) -> None:
        case = session.get(Case, stored[0]["case_id"])
        assert case is not None
        lifecycle.withdraw_consent(
            session, case, referral=False, statistics=True, user_id=screener.id
        )
        other = session.get(Case, stored[2]["case_id"])
        assert other is not None  # withdrawing consent to referral changes no statistic
        lifecycle.withdraw_consent(
            session, other, referral=True, statistics=False, user_id=screener.id
        )

    in_session(app, withdraw)
    assert in_session(app, counts) == (2, 2)


def test_the_dashboard_keeps_gaps_of_closed_cases_apart(app, make_user, login) -> None:
    from referral.supervision import queries as dashboard

    screener = make_user("screener", ("MX-CHP",))
    supervisor = make_user("supervisor", ("MX-CHP",), language="en")
    code = referred_case(app, screener.id)

    def endings(session: Session) -> dict[str, int]:
        return dict(dashboard.gap_endings(session, Reach.of(supervisor), dashboard.Filters()))

    before = in_session(app, endings)
    assert before["open"] >= 1 and before["case_closed"] == 0
    client = app.test_client()
    login(client, supervisor)
    behind = "/supervision/cases?panel=total&key=all"
    assert code in client.get(behind).get_data(as_text=True)

    def close(session: Session) -> int:
        return lifecycle.close_case(
            session, case_of(session, code), reason="duplicate", note=None, user_id=screener.id
        )

    closed = in_session(app, close)
    after = in_session(app, endings)
    assert after["case_closed"] == closed == before["open"]
    assert after["open"] == 0 and sum(after.values()) == sum(before.values())
    page = client.get("/supervision").get_data(as_text=True)
    assert "Closed: the case was closed" in page
    # The cases behind a number are a working list: the closed case leaves it.
    assert code not in client.get(behind).get_data(as_text=True)


def test_a_closed_case_is_reopened_before_anyone_refers_it(app, make_user) -> None:
    from referral.casework import workflow

    screener = make_user("screener")
    code = referred_case(app, screener.id)

    def refer_closed(session: Session) -> None:
        case = case_of(session, code)
        lifecycle.close_case(session, case, reason="duplicate", note=None, user_id=screener.id)
        with pytest.raises(workflow.ReferralError) as refused:
            workflow.refer_ad_hoc(
                session, case, need="shelter", provider="X", reason="Y", user_id=screener.id
            )
        assert refused.value.code == "case_closed"

    in_session(app, refer_closed)
