"""The loop panel's legal clocks (issue 17, third pass): counted from the maintained clock
rows, equal to the lists behind them and to the clocks' own notions (the case page, the
clocks command) at the boundaries: exactly 30 days, exactly the escalation time, a notice
recorded, a re-screening, an erased case."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from referral.access import Reach
from referral.casework import lifecycle
from referral.casework.models import Case
from referral.casework.screening import CaseDetails, store_screening
from referral.clocks import operations
from referral.clocks import queries as clocks
from referral.db import get_db
from referral.directory.catalogue import current_catalogue
from referral.rules import validate_record
from referral.supervision import aggregates, loop
from referral.supervision.models import AnswerCount, LoopClock
from referral.supervision.queries import Filters
from tests.clocks.test_clocks import FOREIGN_ADULT, store_case
from tests.factories import GIRL_FROM_HONDURAS, record_data

SETTINGS = clocks.Settings(
    answer_due=timedelta(hours=48),
    escalate_after=timedelta(hours=24),
    reminder_before=timedelta(days=5),
)
NATIONAL = Reach(role="supervisor", user_id=None, states=frozenset(), national=True)
CHIAPAS = Reach(role="supervisor", user_id=None, states=frozenset({"MX-CHP"}), national=False)
GUERRERO = Reach(role="supervisor", user_id=None, states=frozenset({"MX-GRO"}), national=False)
T0 = datetime(2026, 3, 2, 15, 30, 12, 345678, tzinfo=UTC)
ADULT_MEXICAN = record_data(state="MX-CHP", needs=["shelter"])


def numbers(app: Any, reach: Reach, now: datetime, filters: Filters | None = None) -> dict:
    """Each clock number, the cases behind it, and the same read as the clocks read it."""
    filters = filters or Filters()
    with app.app_context(), get_db(app).transaction(write=False) as session:
        panel = loop.loop_panel(session, reach, filters, SETTINGS, now)
        out: dict[str, Any] = {
            "overdue": panel.child_notices_overdue,
            "ending": panel.reflections_ending,
            "ended": panel.reflections_ended,
        }
        for name, panel_name, key in (
            ("overdue", "child_notice", "overdue"),
            ("ending", "reflection", "ending"),
            ("ended", "reflection", "ended"),
        ):
            ids = loop.loop_case_ids(session, reach, filters, SETTINGS, now, panel_name, key)
            listed = sorted(session.execute(ids).scalars())
            assert len(listed) == out[name], name  # the list behind a number: that many cases
            out[f"{name}_ids"] = listed
        reference = loop.loop_panel_recount(session, reach, filters, SETTINGS, now)
        assert (out["overdue"], out["ending"], out["ended"]) == (
            reference.child_notices_overdue,
            reference.reflections_ending,
            reference.reflections_ended,
        )
        return out


def test_a_notice_is_overdue_exactly_at_the_escalation_time(app, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    minor = store_case(app, GIRL_FROM_HONDURAS, screener, T0)
    due = T0 + SETTINGS.escalate_after
    assert numbers(app, NATIONAL, due - timedelta(microseconds=1))["overdue"] == 0
    at = numbers(app, NATIONAL, due)
    assert at["overdue"] == 1 and at["overdue_ids"] == [minor.id]
    assert numbers(app, CHIAPAS, due)["overdue"] == 1
    assert numbers(app, GUERRERO, due)["overdue"] == 0
    assert numbers(app, NATIONAL, due, Filters(state="MX-GRO"))["overdue"] == 0
    # As the case page and the clocks command see it.
    with app.app_context(), get_db(app).transaction(write=False) as session:
        (open_one,) = clocks.open_child_notices(session, due_before=due - SETTINGS.escalate_after)
        assert open_one[0].id == minor.id


def test_a_recorded_notice_is_no_longer_overdue(app, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    minor = store_case(app, GIRL_FROM_HONDURAS, screener, T0)
    late = T0 + timedelta(days=3)
    assert numbers(app, NATIONAL, late)["overdue"] == 1
    with app.app_context(), get_db(app).transaction() as session:
        case = session.get(Case, minor.id)
        operations.record_child_notice(
            session,
            case,
            authority="procuraduria",
            authority_other=None,
            notified_at=T0 + timedelta(hours=2),
            user_id=screener.id,
            now=late,
        )
    assert numbers(app, NATIONAL, late)["overdue"] == 0


def test_a_reflection_period_ends_exactly_after_30_days(app, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    foreign = store_case(app, FOREIGN_ADULT, screener, T0)
    ends = T0 + timedelta(days=clocks.REFLECTION_DAYS)
    before = numbers(app, NATIONAL, ends - timedelta(microseconds=1))
    assert (before["ending"], before["ended"]) == (1, 0)
    assert before["ending_ids"] == [foreign.id]
    at = numbers(app, NATIONAL, ends)
    assert (at["ending"], at["ended"]) == (0, 1)
    assert at["ended_ids"] == [foreign.id]
    # The reminder days: ending soon from exactly five days before the end.
    reminder = ends - SETTINGS.reminder_before
    assert numbers(app, NATIONAL, reminder)["ending"] == 1
    assert numbers(app, NATIONAL, reminder - timedelta(microseconds=1))["ending"] == 0
    with app.app_context(), get_db(app).transaction(write=False) as session:
        (period,) = clocks.reflection_periods(session, case_ids=[foreign.id])
        assert period.ends == ends and period.ended(ends)


def rescreen(app: Any, case_id: int, data: dict[str, Any], screener: Any, when: datetime) -> None:
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        store_screening(
            session,
            validate_record(data, catalogue.codes),
            catalogue,
            screener_id=screener.id,
            details=CaseDetails(True, True),
            case=session.get(Case, case_id),
            screened_at=when,
        )


def test_a_rescreening_moves_and_starts_clocks(app, make_user) -> None:
    screener = make_user("screener", ("MX-CHP", "MX-GRO"))
    case = store_case(app, ADULT_MEXICAN, screener, T0)
    later = T0 + timedelta(days=40)
    first = numbers(app, NATIONAL, later)
    assert (first["overdue"], first["ending"], first["ended"]) == (0, 0, 0)
    # Screened again ten days on: a foreign person, in Guerrero. The period starts then.
    again = T0 + timedelta(days=10)
    rescreen(app, case.id, dict(FOREIGN_ADULT, state="MX-GRO"), screener, again)
    ends = again + timedelta(days=clocks.REFLECTION_DAYS)
    assert numbers(app, GUERRERO, ends)["ended_ids"] == [case.id]
    assert numbers(app, CHIAPAS, ends)["ended"] == 0
    assert numbers(app, GUERRERO, ends - timedelta(seconds=1))["ending"] == 1
    # Once more as a minor in Chiapas: the notice falls due at this screening, and the
    # reflection period still runs from the first screening that raised it.
    third = T0 + timedelta(days=12)
    rescreen(app, case.id, GIRL_FROM_HONDURAS, screener, third)
    at = numbers(app, CHIAPAS, third + SETTINGS.escalate_after)
    assert at["overdue_ids"] == [case.id]
    assert numbers(app, CHIAPAS, ends)["ended_ids"] == [case.id]
    assert numbers(app, GUERRERO, ends)["ended"] == 0


def test_an_erased_case_leaves_the_clocks(app, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    minor = store_case(app, GIRL_FROM_HONDURAS, screener, T0)
    foreign = store_case(app, FOREIGN_ADULT, screener, T0)
    late = T0 + timedelta(days=31)
    before = numbers(app, NATIONAL, late)
    assert before["overdue_ids"] == [minor.id]
    assert foreign.id in before["ended_ids"]
    with app.app_context(), get_db(app).transaction() as session:
        for case_id in (minor.id, foreign.id):
            case = session.get(Case, case_id)
            lifecycle.erase_case(session, case, reason="duplicate", actor_id=None)
    after = numbers(app, NATIONAL, late)
    assert (after["overdue"], after["ending"], after["ended"]) == (0, 0, 0)
    with app.app_context(), get_db(app).transaction() as session:
        assert aggregates.rebuild(session).differed == 0


def test_the_migration_fills_the_answer_counts_and_clocks_from_existing_rows(app) -> None:
    """0019 on a database that already holds cases: both tables as the flush keeps them."""
    from referral.demo.generate import generate

    path = Path(aggregates.__file__).parents[1] / "migrations/versions/0020_perf_loop.py"
    spec = importlib.util.spec_from_file_location("migration_0019", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context(), get_db(app).transaction() as session:
        generate(session, 60, seed=4, batch=25)
        aggregates.fold(session)
        kept = {
            model: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (AnswerCount, LoopClock)
        }
        assert all(kept.values())
        session.execute(delete(AnswerCount))
        session.execute(delete(LoopClock))
        migration._backfill(session.connection())
        for model, count in kept.items():
            assert session.execute(select(func.count()).select_from(model)).scalar_one() == count
        assert aggregates.rebuild(session).differed == 0


def test_a_new_cases_clock_row_read_in_one_statement_equals_the_general_read(
    app, make_user
) -> None:
    """Intake writes a new case's clock row from its screenings alone (no notice can exist
    yet): the same row as the general read, for a girl, a foreign adult and an adult with
    no clock."""
    screener = make_user("screener", ("MX-CHP",))
    cases = [
        store_case(app, data, screener, T0)
        for data in (GIRL_FROM_HONDURAS, FOREIGN_ADULT, ADULT_MEXICAN)
    ]
    ids = [case.id for case in cases]
    with app.app_context(), get_db(app).transaction(write=False) as session:
        general = aggregates.clock_rows(session, ids)
        assert set(general) == set(ids[:2])  # the girl's notice, the foreign adult's period
        assert aggregates._new_clock_rows(session, ids) == general
