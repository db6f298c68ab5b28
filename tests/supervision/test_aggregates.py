"""The maintained dashboard counts equal a full recount (the reference queries) after any
sequence of intake, referral, status change, re-screening, gap closure and import; erasure
keeps a case's anonymous counts; the rebuild command finds and fixes a difference."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, or_, select

from referral.access import Reach
from referral.casework import lifecycle, workflow
from referral.casework.models import (
    Case,
    Draft,
    EventChannel,
    Gap,
    GapReason,
    Referral,
    ReferralEvent,
    Screening,
    ScreeningForm,
)
from referral.casework.rows import CaseDetails
from referral.casework.screening import store_screening
from referral.clocks import operations as clock_operations
from referral.clocks import queries as clock_queries
from referral.db import get_db
from referral.directory.catalogue import current_catalogue
from referral.mail.models import OutboxMessage
from referral.rules import validate_record
from referral.rules.contract import REASON_REQUIRED_STATUSES
from referral.supervision import aggregates, loop, queries
from referral.supervision.models import AggregateCount, AggregateDelta
from tests.factories import DASHBOARD_NEEDS, DASHBOARD_STATES, random_dashboard_record

REACHES = {
    "admin": Reach(role="admin", user_id=None, states=frozenset(), national=True),
    "national": Reach(role="supervisor", user_id=None, states=frozenset(), national=True),
    "gro": Reach(role="supervisor", user_id=None, states=frozenset({"MX-GRO"}), national=False),
    "two": Reach(
        role="supervisor", user_id=None, states=frozenset({"MX-GRO", "MX-CHP"}), national=False
    ),
    "screener": Reach(role="screener", user_id=None, states=frozenset({"MX-GRO"}), national=False),
}
FILTERS = (
    queries.Filters(),
    queries.Filters(state="MX-CHP"),
    queries.Filters(need="shelter"),
    queries.Filters(reason="ad_hoc"),
    queries.Filters(kind="routing"),
    queries.Filters(kind="routing", need="shelter"),  # two gap filters: a recount
    queries.Filters(since=date(2024, 2, 10), until=date(2025, 5, 20)),
    queries.Filters(since=date(2024, 2, 1), until=date(2024, 3, 31), state="MX-GRO"),
    queries.Filters(since=date(2024, 6, 3), until=date(2024, 6, 9)),
    queries.Filters(until=date(2024, 12, 31), need="medical"),  # whole months: counts
    queries.Filters(since=date(2024, 2, 10), need="medical"),  # cut month: a recount
    queries.Filters(since=date(2026, 11, 1)),
    queries.Filters(since=date(2025, 1, 1), until=date(2024, 1, 1)),  # empty period
)


def assert_counts_equal_recount(app: Any) -> None:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        for name, reach in REACHES.items():
            for filters in FILTERS:
                got = aggregates.dashboard(session, reach, filters)
                want = aggregates.recount(session, reach, filters)
                where = (name, filters)
                assert got.total == want.total, where
                assert got.gap_panels == want.gap_panels, where
                assert got.referral_panels == want.referral_panels, where
                assert got.encounters == want.encounters, where
                assert got.gap_endings == want.gap_endings, where
                # The open/closed panel: its closed count from the maintained endings equals
                # the one counted from the rows.
                now = datetime(2030, 1, 1, tzinfo=UTC)
                assert queries.gaps_open_and_closed(
                    session, reach, filters, now, closed=got.closed_gaps
                ) == queries.gaps_open_and_closed(session, reach, filters, now), where
                o, w = got.outcomes, want.outcomes
                assert (o.referrals, o.accepted, o.cases_accepted) == (
                    w.referrals,
                    w.accepted,
                    w.cases_accepted,
                ), where
                if w.median_hours is None:
                    assert o.median_hours is None, where
                else:
                    assert o.median_hours is not None, where
                    # Whole-hour bins: the middle bin's centre, within half an hour.
                    assert abs(o.median_hours - w.median_hours) <= 0.5 + 1e-6, where


CLOCK_SETTINGS = clock_queries.Settings(
    answer_due=timedelta(hours=48),
    escalate_after=timedelta(hours=24),
    reminder_before=timedelta(days=5),
)
# Moments to read the legal clocks at: inside the data's years (some periods running, some
# ended) and after all of them.
NOWS = (
    datetime(2024, 3, 15, 12, tzinfo=UTC),
    datetime(2025, 6, 1, tzinfo=UTC),
    datetime(2030, 1, 1, tzinfo=UTC),
)


# The loop panel reads the period, state and need (not kind or reason).
LOOP_FILTERS = (
    queries.Filters(),
    queries.Filters(state="MX-CHP"),
    queries.Filters(need="shelter"),
    queries.Filters(since=date(2024, 2, 10), until=date(2025, 5, 20)),
    queries.Filters(since=date(2024, 6, 3), until=date(2024, 6, 9), state="MX-GRO"),
    queries.Filters(until=date(2024, 12, 31), need="medical"),
    queries.Filters(since=date(2025, 1, 1), until=date(2024, 1, 1)),  # empty period
)


def ids_behind(session: Any, selection: Any) -> list[int]:
    if isinstance(selection, list):
        return selection
    return list(session.execute(selection).scalars())


def assert_loop_equals_recount(app: Any) -> None:
    """The loop panel from the maintained answer counts and clock rows equals the panel read
    from every event and screening, and each number equals the list behind it."""
    with app.app_context(), get_db(app).transaction(write=False) as session:
        for name, reach in REACHES.items():
            for filters in LOOP_FILTERS:
                where = (name, filters)
                for now in NOWS:
                    got = loop.loop_panel(session, reach, filters, CLOCK_SETTINGS, now)
                    want = loop.loop_panel_recount(session, reach, filters, CLOCK_SETTINGS, now)
                    assert got.answered_by == want.answered_by, where
                    assert got.unanswered == want.unanswered, where
                    assert got.child_notices_overdue == want.child_notices_overdue, (where, now)
                    assert (got.reflections_ending, got.reflections_ended) == (
                        want.reflections_ending,
                        want.reflections_ended,
                    ), (where, now)
                    old = loop.overdue_child_notices(session, reach, filters, CLOCK_SETTINGS, now)
                    new = ids_behind(
                        session,
                        loop.loop_case_ids(
                            session, reach, filters, CLOCK_SETTINGS, now, "child_notice", "overdue"
                        ),
                    )
                    assert sorted(new) == sorted(c.id for c in old), (where, now)
                    assert len(new) == got.child_notices_overdue
                    for key, count in (
                        ("ending", got.reflections_ending),
                        ("ended", got.reflections_ended),
                    ):
                        old = loop.reflections(session, reach, filters, CLOCK_SETTINGS, now, key)
                        new = ids_behind(
                            session,
                            loop.loop_case_ids(
                                session, reach, filters, CLOCK_SETTINGS, now, "reflection", key
                            ),
                        )
                        assert sorted(new) == sorted(c.id for c in old), (where, now, key)
                        assert len(new) == count
                times = {t.key: t for t in got.answer_times}
                assert sorted(times) == sorted(t.key for t in want.answer_times), where
                for exact in want.answer_times:
                    key = exact.key
                    binned = times[key]
                    assert binned.answered == exact.answered, where
                    # Whole-hour bins: each percentile within half an hour of the exact one.
                    assert abs(binned.median_hours - exact.median_hours) <= 0.5 + 1e-6, where
                    assert abs(binned.p90_hours - exact.p90_hours) <= 0.5 + 1e-6, where
                    listed = ids_behind(
                        session,
                        loop.loop_case_ids(
                            session, reach, filters, CLOCK_SETTINGS, NOWS[0], "answer_time", key
                        ),
                    )
                    assert len(listed) == binned.answered, where
                for key, count in got.answered_by.items():
                    listed = ids_behind(
                        session,
                        loop.loop_case_ids(
                            session, reach, filters, CLOCK_SETTINGS, NOWS[0], "answered_by", key
                        ),
                    )
                    assert len(listed) == count, where


def moment(rng: random.Random) -> datetime:
    """Any time from 2023 on (Mexico City has kept UTC-6 all year since late 2022)."""
    start = datetime(2023, 1, 1, 6, tzinfo=UTC)
    return start + timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 3))


def intake(app: Any, screener_id: int, rng: random.Random, case_id: int | None) -> None:
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record(random_dashboard_record(rng), catalogue.codes)
        case = session.get(Case, case_id) if case_id else None
        when = moment(rng)
        if case is not None:
            when = max(when, case.first_screened_at + timedelta(hours=1))
        store_screening(
            session,
            record,
            catalogue,
            screener_id=screener_id,
            details=CaseDetails(consent_referral=True, consent_statistics=True),
            case=case,
            screened_at=when,
        )


def refer(app: Any, screener_id: int, rng: random.Random, case_id: int) -> None:
    with (
        app.app_context(),
        get_db(app).transaction() as session,
        mock.patch.object(workflow, "utcnow", lambda: moment(rng)),
    ):
        catalogue = current_catalogue(session)
        case = session.get(Case, case_id)
        assert case is not None
        need = rng.choice(DASHBOARD_NEEDS)
        options = [s for s in catalogue.services_by_id.values() if s.need == need]
        try:
            if options and rng.random() < 0.7:
                workflow.refer(
                    session,
                    case,
                    need=need,
                    service_id=rng.choice(options).id,
                    catalogue=catalogue,
                    user_id=screener_id,
                )
            else:
                workflow.refer_ad_hoc(
                    session,
                    case,
                    need=need,
                    provider="Casa",
                    reason="Sin opción",
                    user_id=screener_id,
                )
        except workflow.ReferralError:
            session.rollback()


def change_status(app: Any, screener_id: int, rng: random.Random, referral_id: int) -> None:
    with app.app_context(), get_db(app).transaction() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        allowed = sorted(workflow.TRANSITIONS[referral.status])
        if not allowed:
            return
        status = rng.choice(allowed)
        reason = None
        if status in REASON_REQUIRED_STATUSES:
            reason = rng.choice(["no_capacity", "not_eligible", "person_declined", "no_response"])
        # Answered some hours (up to a few weeks) after the last change, by any channel.
        later = referral.updated_at + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        channel = rng.choice(list(EventChannel))
        with mock.patch.object(workflow, "utcnow", lambda: later):
            workflow.change_status(
                session,
                referral,
                status=status,
                reason_code=reason,
                expected_version=referral.version,
                user_id=None if channel == EventChannel.link else screener_id,
                answer=workflow.Answer(channel=channel),
            )


def close_gap(app: Any, gap_id: int) -> None:
    with app.app_context(), get_db(app).transaction() as session:
        gap = session.get(Gap, gap_id)
        assert gap is not None
        workflow.close_gaps(session, gap.case_id or 0, gap.need)


def record_notice(app: Any, screener_id: int, rng: random.Random, case_id: int) -> None:
    with app.app_context(), get_db(app).transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        clock_operations.record_child_notice(
            session,
            case,
            authority="procuraduria",
            authority_other=None,
            notified_at=moment(rng),
            user_id=screener_id,
            now=datetime(2030, 1, 1, tzinfo=UTC),
        )


def erase(app: Any, case_id: int) -> None:
    with app.app_context(), get_db(app).transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        lifecycle.erase_case(session, case, reason="duplicate", actor_id=None)


def import_lines(runner: Any, rng: random.Random, screener_email: str) -> None:
    lines = []
    for _ in range(rng.randint(1, 2)):
        record = random_dashboard_record(rng)
        record.pop("clearly_adult", None)
        record.pop("companions", None)
        lines.append(
            dict(
                record,
                screener=screener_email,
                consent_referral=True,
                consent_statistics=True,
                screened_at=moment(rng).isoformat(),
            )
        )
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    result = runner.invoke(args=["cases", "import", "-"], input=text)
    assert result.exit_code == 0, result.output


def ids(app: Any, column: Any) -> list[int]:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        return list(session.execute(select(column).order_by(column)).scalars())


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "intake",
                "intake",
                "refer",
                "refer",
                "status",
                "status",
                "status",
                "rescreen",
                "close",
                "import",
                "notice",
                "erase",
            ]
        ),
        st.integers(0, 10_000),
    ),
    min_size=3,
    max_size=16,
)


@settings(
    max_examples=12,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_maintained_counts_equal_a_recount(
    app, runner, db_connection, make_user, operations
) -> None:
    savepoint = db_connection.begin_nested()
    try:
        screener = make_user("screener", DASHBOARD_STATES, email="agg@example.org")
        erased = False
        for name, seed in operations:
            rng = random.Random(seed)
            cases = ids(app, Case.id)
            if name == "intake" or (name != "import" and not cases):
                intake(app, screener.id, rng, None)
            elif name == "rescreen":
                intake(app, screener.id, rng, rng.choice(cases))
            elif name == "refer":
                refer(app, screener.id, rng, rng.choice(cases))
            elif name == "status":
                referrals = ids(app, Referral.id)
                if referrals:
                    change_status(app, screener.id, rng, rng.choice(referrals))
            elif name == "close":
                gaps = ids(app, Gap.id)
                if gaps:
                    close_gap(app, rng.choice(gaps))
            elif name == "import":
                import_lines(runner, rng, "agg@example.org")
            elif name == "notice":
                record_notice(app, screener.id, rng, rng.choice(cases))
            elif name == "erase" and len(cases) > 1:
                erase(app, rng.choice(cases))
                erased = True
        # An erased case stays in the counted panels (not in a bare recount: the rebuild
        # below adds it back), and leaves the loop panel, as it leaves the lists behind it.
        if not erased:
            assert_counts_equal_recount(app)  # with the changes waiting as deltas
        assert_loop_equals_recount(app)
        with app.app_context(), get_db(app).transaction() as session:
            assert aggregates.pending(session) > 0
            aggregates.fold(session)
            assert aggregates.pending(session) == 0
        if not erased:
            assert_counts_equal_recount(app)  # folded
        assert_loop_equals_recount(app)
        with app.app_context(), get_db(app).transaction() as session:
            assert aggregates.rebuild(session).differed == 0
    finally:
        savepoint.rollback()


def erase_rows(session: Any, case_id: int) -> None:
    """Delete every row of a case through the ORM (as an erasure would)."""
    referral_ids = list(
        session.execute(select(Referral.id).where(Referral.case_id == case_id)).scalars()
    )
    gap_ids = list(session.execute(select(Gap.id).where(Gap.case_id == case_id)).scalars())
    screening_ids = list(
        session.execute(select(Screening.id).where(Screening.case_id == case_id)).scalars()
    )
    for model, condition in (
        (
            OutboxMessage,
            or_(OutboxMessage.referral_id.in_(referral_ids), OutboxMessage.case_id == case_id),
        ),
        (GapReason, GapReason.gap_id.in_(gap_ids)),
        (Gap, Gap.id.in_(gap_ids)),
        (ReferralEvent, ReferralEvent.referral_id.in_(referral_ids)),
        (Referral, Referral.id.in_(referral_ids)),
        (ScreeningForm, ScreeningForm.screening_id.in_(screening_ids)),
        (Draft, Draft.submitted_case_id == case_id),
    ):
        for row in session.execute(select(model).where(condition)).scalars():
            session.delete(row)
        session.flush()
    case = session.get(Case, case_id)
    case.latest_screening_id = None
    session.flush()
    for row in session.execute(select(Screening).where(Screening.case_id == case_id)).scalars():
        session.delete(row)
    session.flush()
    session.delete(case)
    session.flush()


def test_an_erased_case_stays_counted_and_the_rebuild_knows_it(app, make_user) -> None:
    screener = make_user("screener", DASHBOARD_STATES, email="erase@example.org")
    rng = random.Random(5)
    for _ in range(6):
        intake(app, screener.id, rng, None)
    case_ids = ids(app, Case.id)
    for case_id in case_ids:
        refer(app, screener.id, rng, case_id)
    for referral_id in ids(app, Referral.id):
        change_status(app, screener.id, random.Random(referral_id), referral_id)
    admin = REACHES["admin"]
    with app.app_context(), get_db(app).transaction() as session:
        before = aggregates.dashboard(session, admin, queries.Filters())
        assert before.total > 0
        victim = case_ids[0]
        aggregates.record_erasure(session, victim)
        erase_rows(session, victim)
        assert session.get(Case, victim) is None
        after = aggregates.dashboard(session, admin, queries.Filters())
        assert after == before  # the anonymous counts stay
        # The rows are gone: a bare recount no longer sees the case ...
        assert aggregates.recount(session, admin, queries.Filters()) != before
        # ... but the rebuild adds what the erased case had contributed.
        assert aggregates.rebuild(session).differed == 0
        assert aggregates.dashboard(session, admin, queries.Filters()) == before


def test_rebuild_command_reports_and_fixes_a_difference(app, runner, make_user) -> None:
    screener = make_user("screener", DASHBOARD_STATES, email="rebuild@example.org")
    rng = random.Random(9)
    for _ in range(3):
        intake(app, screener.id, rng, None)
    result = runner.invoke(args=["aggregates", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "equal a recount" in result.output
    with app.app_context(), get_db(app).transaction() as session:
        session.execute(delete(AggregateCount).where(AggregateCount.dim == "screenings"))
        session.execute(delete(AggregateDelta))
    result = runner.invoke(args=["aggregates", "rebuild"])
    assert result.exit_code == 1
    assert "differed from a recount" in result.output
    result = runner.invoke(args=["aggregates", "rebuild"])
    assert result.exit_code == 0, result.output
    assert_counts_equal_recount(app)


def test_demo_data_is_counted(app) -> None:
    from referral.demo.generate import generate

    with app.app_context(), get_db(app).transaction() as session:
        generate(session, 40, seed=3, batch=15)
    assert_counts_equal_recount(app)
    with app.app_context(), get_db(app).transaction() as session:
        assert aggregates.rebuild(session).differed == 0
        assert session.execute(select(func.count()).select_from(AggregateCount)).scalar_one() > 0


def test_period_ranges_cover_whole_months_with_month_rows() -> None:
    ranges = aggregates.period_ranges(
        queries.Filters(since=date(2024, 2, 10), until=date(2024, 5, 20))
    )
    assert ranges == [
        ("d", "2024-02-10", "2024-02-29"),
        ("d", "2024-05-01", "2024-05-20"),
        ("m", "2024-03", "2024-04"),
    ]
    assert aggregates.period_ranges(queries.Filters()) == [("m", None, None)]
    assert aggregates.period_ranges(
        queries.Filters(since=date(2024, 1, 1), until=date(2024, 1, 31))
    ) == [("m", "2024-01", "2024-01")]
    assert aggregates.period_ranges(
        queries.Filters(since=date(2024, 3, 2), until=date(2024, 3, 3))
    ) == [("d", "2024-03-02", "2024-03-03")]


def test_the_page_shows_the_counts_and_says_the_median_is_binned(
    app, client, login, make_user
) -> None:
    screener = make_user("screener", DASHBOARD_STATES, email="page@example.org")
    admin = make_user("admin", (), national=True, email="page-admin@example.org")
    rng = random.Random(21)
    for _ in range(4):
        intake(app, screener.id, rng, None)
    for case_id in ids(app, Case.id):
        refer(app, screener.id, rng, case_id)
    with app.app_context(), get_db(app).transaction() as session:
        for referral in session.execute(select(Referral)).scalars():
            workflow.change_status(
                session,
                referral,
                status="accepted",
                reason_code=None,
                expected_version=referral.version,
                user_id=screener.id,
            )
    login(client, admin)
    page = client.get("/supervision", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert (
        "within half an hour of the exact median" in text
        or "a menos de media hora de la mediana exacta" in text  # the admin's own language
    )
    with app.app_context(), get_db(app).transaction(write=False) as session:
        numbers = aggregates.recount(session, REACHES["admin"], queries.Filters())
    assert f"<dd>{numbers.outcomes.referrals}</dd>" in text


def test_rows_inserted_without_a_flush_are_counted_as_deltas(app, make_user) -> None:
    """An intake that writes with Core inserts (no ORM flush) feeds the counts this way."""
    screener = make_user("screener", DASHBOARD_STATES, email="core@example.org")
    rng = random.Random(33)
    intake(app, screener.id, rng, None)
    case_id = ids(app, Case.id)[-1]
    refer(app, screener.id, rng, case_id)
    with app.app_context(), get_db(app).transaction() as session:
        session.execute(delete(AggregateDelta))  # as if no flush had seen these rows
        before = aggregates.dashboard(session, REACHES["admin"], queries.Filters())
        assert before != aggregates.recount(session, REACHES["admin"], queries.Filters())
        aggregates.count_new_rows(
            session,
            gap_ids=list(session.execute(select(Gap.id).where(Gap.case_id == case_id)).scalars()),
            referral_ids=list(
                session.execute(select(Referral.id).where(Referral.case_id == case_id)).scalars()
            ),
            screening_ids=list(
                session.execute(select(Screening.id).where(Screening.case_id == case_id)).scalars()
            ),
            case_ids=[case_id],
            as_deltas=True,
        )
        assert aggregates.pending(session) > 0
    assert_counts_equal_recount(app)


def test_erasing_a_case_through_casework_keeps_its_counts(app, make_user) -> None:
    """casework's erasure tells the maintained counts (a signal: casework imports no feature)."""
    from referral.casework import lifecycle

    screener = make_user("screener", DASHBOARD_STATES, email="erase-signal@example.org")
    rng = random.Random(8)
    for _ in range(3):
        intake(app, screener.id, rng, None)
    admin = REACHES["admin"]
    with app.app_context(), get_db(app).transaction() as session:
        before = aggregates.dashboard(session, admin, queries.Filters())
        victim = session.get(Case, ids(app, Case.id)[0])
        assert victim is not None
        lifecycle.erase_case(session, victim, reason="person_request", actor_id=None)
        assert aggregates.dashboard(session, admin, queries.Filters()) == before
        assert aggregates.rebuild(session).differed == 0
