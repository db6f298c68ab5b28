"""The minimal view of a referral: what a receiving service needs to decide, nothing more.

One function builds it for the provider's inbox and page, the answer link and the API.
Never in it: the screening answers and indicators, the case notes, the nationality (unless
the service serves only some nationalities), the person's other referrals (docs/loop.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from referral.casework.models import Case, Referral, Screening
from referral.rules import Catalogue

UNKNOWN_AGE = "unknown"
_BANDS = ((12, "0-11"), (18, "12-17"), (30, "18-29"), (60, "30-59"))


def age_band(age: int | None, clearly_adult: bool = False) -> str:
    """A band, never the age itself; unknown and not clearly adult stays unknown (a minor's
    presumption is the screener's to apply, not the service's to guess)."""
    if age is None:
        return "18+" if clearly_adult else UNKNOWN_AGE
    for limit, band in _BANDS:
        if age < limit:
            return band
    return "60+"


@dataclass(frozen=True)
class MinimalReferral:
    """One referral as its receiving service sees it."""

    id: int
    case_code: str
    need: str
    service_id: str | None
    status: str
    reason_code: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    age_band: str
    sex: str | None
    companion_ages: tuple[int | None, ...]
    languages: tuple[str, ...]
    interpretation: bool
    confirm: tuple[str, ...]
    nationality: str | None  # only for a service that serves only some nationalities

    def to_json(self) -> dict[str, Any]:
        """The API's referral (issue 14's list fields, then the minimal view's)."""
        return {
            "id": self.id,
            "case_code": self.case_code,
            "need": self.need,
            "service": self.service_id,
            "status": self.status,
            "reason": self.reason_code,
            "version": self.version,
            "updated_at": self.updated_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "person": {
                "age_band": self.age_band,
                "sex": self.sex,
                "companions": {
                    "count": len(self.companion_ages),
                    "ages": list(self.companion_ages),
                },
                "languages": list(self.languages),
                "interpretation": self.interpretation,
                **({"nationality": self.nationality} if self.nationality else {}),
            },
            "confirm": list(self.confirm),
        }


def _confirm(result: dict[str, Any], need: str, service_id: str | None) -> tuple[str, ...]:
    for option in (result.get("options") or {}).get(need) or []:
        if option.get("service") == service_id:
            return tuple(option.get("confirm") or ())
    return ()


def minimal_view(
    referral: Referral, case_code: str, screening: Screening | None, catalogue: Catalogue
) -> MinimalReferral:
    """The minimal view of ``referral``, from the screening it was made on."""
    record: dict[str, Any] = screening.record if screening else {}
    result: dict[str, Any] = screening.result if screening else {}
    service = catalogue.services_by_id.get(referral.service_id or "")
    serves_some_nationalities = service is not None and service.nationalities is not None
    companions = record.get("companions") or []
    return MinimalReferral(
        id=referral.id or 0,
        case_code=case_code,
        need=referral.need,
        service_id=referral.service_id,
        status=referral.status,
        reason_code=referral.reason_code,
        version=referral.version,
        created_at=referral.created_at,
        updated_at=referral.updated_at,
        age_band=age_band(record.get("age"), bool(record.get("clearly_adult"))),
        sex=record.get("sex"),
        companion_ages=tuple(c.get("age") for c in companions if isinstance(c, dict)),
        languages=tuple(record.get("languages") or ()),
        interpretation=any(n.get("need") == "interpretation" for n in result.get("needs") or []),
        confirm=_confirm(result, referral.need, referral.service_id),
        nationality=record.get("nationality") if serves_some_nationalities else None,
    )


def minimal_views(
    session: Session, referrals: Sequence[Referral], catalogue: Catalogue
) -> list[MinimalReferral]:
    """The minimal views of many referrals, with one query for their cases and screenings."""
    case_ids = {r.case_id for r in referrals}
    screening_ids = {r.screening_id for r in referrals if r.screening_id is not None}
    codes: dict[Any, str] = (
        dict(session.exec(select(Case.id, Case.code).where(col(Case.id).in_(case_ids))).all())
        if case_ids
        else {}
    )
    screenings = _screenings(session, screening_ids)
    return [
        minimal_view(r, codes[r.case_id], screenings.get(r.screening_id or 0), catalogue)
        for r in referrals
    ]


def _screenings(session: Session, ids: Iterable[int]) -> dict[int, Screening]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(select(Screening).where(col(Screening.id).in_(wanted))).all()
    return {row.id or 0: row for row in rows}
