"""Generated demo data: deterministic, routed against the live directory, in proportion."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, func, select

from referral.casework.models import Case, Gap, GapReason, Referral, Screening, ScreeningForm
from referral.db import get_db


def screenings(app) -> list[Screening]:
    with get_db(app).session() as session:
        return list(session.exec(select(Screening).order_by(col(Screening.id))).all())


def test_generate_is_deterministic_and_adds_to_what_is_there(app, runner) -> None:
    first = runner.invoke(args=["demo", "generate", "--cases", "120", "--seed", "7"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", "generate", "--cases", "120", "--seed", "7"])
    assert second.exit_code == 0, second.output
    rows = screenings(app)
    assert len(rows) == 240
    assert [r.record for r in rows[:120]] == [r.record for r in rows[120:]]
    with get_db(app).session() as session:
        codes = session.exec(select(Case.code)).all()
    assert len(set(codes)) == 240


def test_generated_cases_are_routed_and_consistent(app, runner) -> None:
    result = runner.invoke(args=["demo", "generate", "--cases", "400", "--seed", "1"])
    assert result.exit_code == 0, result.output
    with get_db(app).session() as session:
        statuses = dict(
            session.exec(
                select(Case.latest_status, func.count()).group_by(Case.latest_status)
            ).all()
        )
        assert set(statuses) == {"likely", "possible", "not_indicated"}
        assert statuses["likely"] > 60
        for screening in session.exec(select(Screening)).all():
            assert screening.rules_version == screening.result["rules_version"]
            assert screening.screened_at.replace(tzinfo=None) <= datetime(2026, 11, 1)
            assert "excluded" not in screening.result
            forms = session.exec(
                select(ScreeningForm.form).where(ScreeningForm.screening_id == screening.id)
            ).all()
            assert sorted(forms) == sorted(screening.result["screening"]["forms"])
        for gap in session.exec(select(Gap)).all():
            reasons = session.exec(select(GapReason.reason).where(GapReason.gap_id == gap.id)).all()
            assert sorted(reasons) == gap.reasons
        routing_gaps = session.exec(
            select(func.count()).select_from(Gap).where(Gap.kind == "routing")
        ).one()
        expected = sum(len(s.result["gaps"]) for s in session.exec(select(Screening)).all())
        assert routing_gaps == expected
        referrals = session.exec(select(Referral)).all()
        assert referrals and all(
            r.reason_code for r in referrals if r.status in {"rejected", "failed", "cancelled"}
        )
