"""Cases and referrals are looked up only here, through the one load-and-authorize function."""

from __future__ import annotations

from flask import abort
from sqlmodel import select

from referral.access import Reach, load_or_404
from referral.db import session
from referral.intake.models import Case
from referral.referrals.models import Referral


def load_case(code: str, reach: Reach) -> Case:
    """The case with this code if the user may see it; 404 otherwise (never 403)."""
    case_id = session().exec(select(Case.id).where(Case.code == code)).first()
    if case_id is None:
        abort(404)
    return load_or_404(session(), Case, case_id, reach, "state", "screener_id")


def load_referral(referral_id: int, reach: Reach) -> tuple[Referral, Case]:
    """A referral and its case, if the user may see the case; 404 otherwise."""
    referral = session().get(Referral, referral_id)
    if referral is None:
        abort(404)
    case = load_or_404(session(), Case, referral.case_id, reach, "state", "screener_id")
    return referral, case
