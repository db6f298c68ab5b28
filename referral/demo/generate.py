"""Realistic demo data: screenings, referrals and gaps in the report's proportions.

Every record goes through the rules core against the live directory, as the web form's
would; rows are written in batches so a large database builds in minutes, not hours.
Deterministic for a given seed and starting database.
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, update
from sqlmodel import Session, select

from referral.auth.models import User
from referral.auth.operations import AccountData, create_user
from referral.casework.models import (
    Case,
    Gap,
    GapReason,
    Referral,
    ReferralEvent,
    Screening,
    ScreeningForm,
)
from referral.casework.rows import (
    CaseDetails,
    case_row,
    form_rows,
    gap_reason_rows,
    gap_row,
    screening_row,
)
from referral.directory.catalogue import current_catalogue
from referral.rules import Catalogue, route_case, validate_record
from referral.rules.contract import (
    DECLINE_REASONS,
    DECLINED_STATUSES,
    REASON_REQUIRED_STATUSES,
    RECEIVED_STATUSES,
    GapClosedReason,
    GapKind,
    GapReasonCode,
    ReferralStatus,
    ScreeningStatus,
)
from referral.seeds.loader import seed_store
from referral.supervision.aggregates import count_new_rows

ADULT_RECRUITMENT = (
    ("deceived_job_nature", "deceived_conditions"),
    ("abducted_or_forcibly_recruited", "recruitment_violence_threats"),
    ("debt_at_recruitment", "irregular_status_exploited", "dependency_exploited"),
    ("false_romance", "deceived_conditions", "informal_recruiter_fees"),
)
DESTINATION = (
    ("documents_withheld", "threats"),
    ("debt_bondage", "movement_restricted"),
    ("violence", "isolation"),
    ("ransom_or_smuggling_debt", "threats"),
)
EXPLOITATION = {
    "sexual_exploitation": (("commercial_sex",), ("online_sexual_exploitation",)),
    "forced_labor": (
        ("excessive_hours", "wages_withheld"),
        ("wages_withheld", "abusive_conditions"),
    ),
    "unspecified": (("exploitation_undisclosed",),),
}
LABOR_SECTORS = ("agriculture", "domestic_work", "construction", "manufacturing", "food_processing")
LANGUAGES_BY_NATIONALITY = {"HT": ["ht", "fr"], "US": ["en"], "BR": ["pt"], "CU": ["es"]}
DEMO_PASSWORD_BYTES = 24


@dataclass(frozen=True)
class DemoProportions:
    data: dict[str, Any]

    @classmethod
    def load(cls, seeds_dir: str | os.PathLike[str] | None) -> DemoProportions:
        return cls(seed_store(seeds_dir).demo)


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class Generator:
    def __init__(self, proportions: DemoProportions, catalogue: Catalogue, seed: int) -> None:
        self.p = proportions.data
        self.catalogue = catalogue
        self.rng = random.Random(seed)  # noqa: S311  (demo data must be reproducible)
        self.until = datetime.fromisoformat(str(self.p["until"])).replace(tzinfo=UTC)
        self.seed = seed
        states = sorted(catalogue.codes.states)
        self.state_weights = {
            s: float(self.p["state_weights"].get(s, self.p["other_state_weight"])) for s in states
        }
        self.profile_weights: dict[tuple[str, str], float] = {
            (form, group): float(n)
            for form, groups in self.p["victims_2024"].items()
            for group, n in groups.items()
        }
        total = float(self.p["total_victims_2024"])
        foreign = self.p["foreign_victims_2024"]
        self.foreign_share = sum(foreign.values()) / total
        self.foreign_weights = {k: float(v) for k, v in foreign.items()}

    # --- one person -------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        status = (
            "likely"
            if roll < self.p["likely_share"]
            else "possible"
            if roll < self.p["likely_share"] + self.p["possible_share"]
            else "not_indicated"
        )
        encounter = weighted(rng, self.p["encounter_weights"])
        state = weighted(rng, self.state_weights)
        form, group = weighted(
            rng, {f"{f}|{g}": w for (f, g), w in self.profile_weights.items()}
        ).split("|")
        if status != "likely":
            group = rng.choice(["men", "women", "men", "women", "boys", "girls"])
        minor = group in {"boys", "girls"}
        sex = "male" if group in {"men", "boys"} else "female"
        if rng.random() < 0.01:
            sex = rng.choice(["intersex", "unknown"])
        age: int | None = rng.randint(5, 17) if minor else min(80, int(rng.gauss(29, 9)) + 0)
        if age is not None and not minor:
            age = max(18, age)
        clearly_adult = False
        if rng.random() < 0.05:
            age, clearly_adult = None, not minor
        migrant = encounter in {"migration_detention", "border_crossing", "consular"}
        if status == "likely":
            foreign = rng.random() < self.foreign_share
            nationality = weighted(rng, self.foreign_weights) if foreign else "MX"
        elif migrant or rng.random() < 0.05:
            nationality = weighted(rng, self.p["migrant_nationalities"])
        else:
            nationality = "MX"
        if nationality == "MX":
            migration_status = "national"
        elif nationality == "ZZ":
            migration_status = "unknown"
        else:
            migration_status = rng.choices(
                ["irregular", "asylum_seeker", "regular", "refugee"], weights=[60, 20, 15, 5]
            )[0]
        languages = LANGUAGES_BY_NATIONALITY.get(nationality, ["es"])
        if nationality == "MX" and rng.random() < 0.06:
            languages = ["es", rng.choice(["nah", "tzo", "tzh", "mam"])]
        indicators: list[str] = []
        sector = None
        if status == "likely":
            indicators += list(rng.choice(EXPLOITATION[form]))
            if not minor or rng.random() < 0.5:
                indicators += list(rng.choice(ADULT_RECRUITMENT))
                indicators += list(rng.choice(DESTINATION))
            if form == "forced_labor":
                sector = rng.choice(LABOR_SECTORS)
        elif status == "possible":
            indicators += list(rng.choice(DESTINATION))
            if rng.random() < 0.3:
                indicators.append("language_barrier")
        elif rng.random() < 0.3:
            indicators.append(rng.choice(["economic_hardship_exploited", "language_barrier"]))
        indicators = list(dict.fromkeys(indicators))
        needs: list[str] = []
        if status != "not_indicated":
            for need, share in (
                ("shelter", 0.6),
                ("medical", 0.4),
                ("psychological", 0.5),
                ("legal_aid", 0.5),
            ):
                if rng.random() < share:
                    needs.append(need)
        elif rng.random() < 0.2:
            needs.append("basic_needs")
        companions = []
        if sex == "female" and not minor and rng.random() < 0.1:
            companions.append({"age": rng.randint(0, 17), "sex": rng.choice(["male", "female"])})
        vulnerabilities = []
        if minor and migrant and rng.random() < 0.5:
            vulnerabilities.append("unaccompanied_minor")
        if rng.random() < 0.05:
            vulnerabilities.append("indigenous")
        return {
            "age": age,
            "clearly_adult": clearly_adult,
            "sex": sex,
            "nationality": nationality,
            "state": state,
            "setting": rng.choice(["urban", "urban", "rural", "unknown"]),
            "languages": languages,
            "migration_status": migration_status,
            "encounter": encounter,
            "indicators": indicators,
            "sector": sector,
            "vulnerabilities": vulnerabilities,
            "companions": companions,
            "needs": needs,
            "immediate_danger": status == "likely" and rng.random() < 0.1,
            "complaint_filed": rng.random() < 0.3,
            "victim_status": rng.random() < 0.1,
            "cross_border": nationality != "MX" and status == "likely" and rng.random() < 0.5,
            "organized_crime": rng.random() < 0.2,
            "official_involvement": rng.random() < 0.03,
        }

    def screened_at(self) -> datetime:
        """A moment in a weighted year, never after ``until`` (no screening in the future)."""
        year = int(weighted(self.rng, {str(k): v for k, v in self.p["year_weights"].items()}))
        start = datetime(year, 1, 1, 6, tzinfo=UTC)  # 00:00 in Mexico City
        end = min(datetime(year + 1, 1, 1, 6, tzinfo=UTC), self.until)
        return start + timedelta(seconds=self.rng.randrange(int((end - start).total_seconds())))

    def case_code(self, number: int) -> str:
        return f"DM-{self.seed}-{number:07d}"


def demo_screeners(session: Session, catalogue: Catalogue) -> dict[str, int]:
    """A screener account per state: the existing screeners, or new demo accounts."""
    users = session.exec(select(User).where(User.role == "screener", User.active)).all()
    by_state: dict[str, int] = {}
    national: int | None = None
    for user in users:
        if user.national and national is None:
            national = user.id
        for state in user.states:
            by_state.setdefault(state, user.id or 0)
    if not users:
        for state in sorted(catalogue.codes.states):
            data = AccountData(
                email=f"demo-screener-{state.lower()}@example.org",
                role="screener",
                states=[state],
                national=False,
                display_name=f"Demo {state}",
            )
            user = create_user(
                session, data, secrets.token_urlsafe(DEMO_PASSWORD_BYTES), actor_id=None
            )
            by_state[state] = user.id or 0
    fallback = national or next(iter(by_state.values()))
    return {state: by_state.get(state, fallback) for state in catalogue.codes.states}


def generate(
    session: Session,
    cases: int,
    *,
    seed: int,
    seeds_dir: str | os.PathLike[str] | None = None,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add ``cases`` routed demo cases (with referrals and gaps); flushes and commits per batch."""
    catalogue = current_catalogue(session)
    generator = Generator(DemoProportions.load(seeds_dir), catalogue, seed)
    screeners = demo_screeners(session, catalogue)
    session.commit()
    start = session.exec(select(func.count()).select_from(Case)).one()
    made = 0
    for chunk in chunks(cases, batch):
        rows = [build_case(generator, catalogue, screeners, start + made + i) for i in range(chunk)]
        write_batch(session, rows)
        session.commit()
        made += chunk
        if progress:
            progress(chunk)
    return made


def chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


@dataclass
class CaseRows:
    """One generated case as plain rows (Core inserts: no ORM objects on this hot path)."""

    case: dict[str, Any]
    screening: dict[str, Any]
    forms: list[dict[str, Any]]  # screening_id set when written
    gaps: list[tuple[str, str, list[str]]]  # need, kind, reasons
    referrals: list[dict[str, Any]]


def build_case(
    generator: Generator, catalogue: Catalogue, screeners: dict[str, int], number: int
) -> CaseRows:
    rng = generator.rng
    record = validate_record(generator.record(), catalogue.codes)
    result = route_case(record, catalogue, include_excluded=False)
    when = generator.screened_at()
    state = record.state
    screener = screeners.get(state) or next(iter(screeners.values()))
    consent_referral = rng.random() < generator.p["consent_referral_share"]
    details = CaseDetails(
        consent_referral=consent_referral,
        consent_statistics=rng.random() < generator.p["consent_statistics_share"],
    )
    case = case_row(
        record,
        result,
        code=generator.case_code(number),
        screener_id=screener,
        details=details,
        when=when,
    )
    screening = screening_row(record, result, screener_id=screener, when=when, lang="es")
    gaps: list[tuple[str, str, list[str]]] = [
        (g.need, GapKind.routing, list(g.reasons)) for g in result.gaps
    ]
    referrals: list[dict[str, Any]] = []
    if consent_referral and result.status != ScreeningStatus.not_indicated:
        for need, options in result.options.items():
            if not options:
                if rng.random() < generator.p["ad_hoc_share_of_gaps"]:
                    referrals.append(demo_referral(generator, state, need, None, when, screener))
                    gaps.append((need, GapKind.ad_hoc, [GapReasonCode.ad_hoc]))
                continue
            referral = demo_referral(generator, state, need, options[0].service, when, screener)
            if (
                referral["status"] in DECLINED_STATUSES
                and referral["reason_code"] in DECLINE_REASONS
            ):
                gaps.append((need, GapKind.declined, [referral["reason_code"]]))
            referrals.append(referral)
    return CaseRows(case, screening, form_rows(None, result), gaps, referrals)


def demo_referral(
    generator: Generator,
    state: str,
    need: str,
    service_id: str | None,
    when: datetime,
    user_id: int,
) -> dict[str, Any]:
    rng = generator.rng
    status = weighted(rng, generator.p["referral_outcomes"])
    reason = None
    if status in REASON_REQUIRED_STATUSES:
        reason = weighted(rng, generator.p["rejection_reasons"])
    created = when + timedelta(minutes=rng.randint(5, 180))
    requested = status == ReferralStatus.requested
    updated = created if requested else created + timedelta(hours=rng.randint(1, 120))
    accepted = status in RECEIVED_STATUSES
    return {
        "need": need,
        "service_id": service_id,
        "ad_hoc_provider": None if service_id else "Demo provider outside the directory",
        "ad_hoc_reason": None if service_id else "Generated demo data",
        "state": state,
        "status": status,
        "reason_code": reason,
        "version": 1 if requested else 2,
        "created_by": user_id,
        "updated_by": user_id,
        "case_screener_id": user_id,  # the case's screener and state: the demo's never change
        "case_state": state,
        "created_at": created,
        "updated_at": updated,
        "accepted_at": updated if accepted else None,
    }


def insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in one statement; their new ids, in the order of ``rows``."""
    if not rows:
        return []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.execute(statement, rows).scalars().all())


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(model), rows)


def write_batch(session: Session, rows: list[CaseRows]) -> None:
    """Insert one batch: cases, then what refers to them (ids come back per statement)."""
    case_ids = insert_returning_ids(session, Case, [r.case for r in rows])
    for r, case_id in zip(rows, case_ids, strict=True):
        r.screening["case_id"] = case_id
    screening_ids = insert_returning_ids(session, Screening, [r.screening for r in rows])
    session.execute(
        update(Case),
        [
            {"id": case_id, "latest_screening_id": screening_id}
            for case_id, screening_id in zip(case_ids, screening_ids, strict=True)
        ],
    )
    forms: list[dict[str, Any]] = []
    referral_rows: list[dict[str, Any]] = []
    for r, case_id, screening_id in zip(rows, case_ids, screening_ids, strict=True):
        forms += [{**row, "screening_id": screening_id} for row in r.forms]
        for referral in r.referrals:
            referral["case_id"] = case_id
            referral["screening_id"] = screening_id
            referral_rows.append(referral)
    insert_rows(session, ScreeningForm, forms)
    referral_ids = insert_returning_ids(session, Referral, referral_rows)
    events: list[dict[str, Any]] = []
    for referral, referral_id in zip(referral_rows, referral_ids, strict=True):
        referral["id"] = referral_id
        events.append(
            {
                "referral_id": referral_id,
                "status": ReferralStatus.requested,
                "reason_code": None,
                "at": referral["created_at"],
                "by_user_id": referral["created_by"],
            }
        )
        if referral["status"] != ReferralStatus.requested:
            events.append(
                {
                    "referral_id": referral_id,
                    "status": referral["status"],
                    "reason_code": referral["reason_code"],
                    "at": referral["updated_at"],
                    "by_user_id": referral["updated_by"],
                }
            )
    insert_rows(session, ReferralEvent, events)
    gap_rows: list[dict[str, Any]] = []
    for r, case_id, screening_id in zip(rows, case_ids, screening_ids, strict=True):
        accepted = {ref["need"] for ref in r.referrals if ref["accepted_at"] is not None}
        for need, kind, reasons in r.gaps:
            gap_referral = next((ref["id"] for ref in r.referrals if ref["need"] == need), None)
            opened = r.screening["screened_at"]
            routing = kind == GapKind.routing
            gap_rows.append(
                gap_row(
                    case_id=case_id,
                    state=r.case["state"],
                    need=need,
                    kind=kind,
                    reasons=reasons,
                    opened_at=opened,
                    screening_id=screening_id if routing else None,
                    referral_id=None if routing else gap_referral,
                    closed_at=opened + timedelta(days=2) if need in accepted else None,
                )
                # Closed because a referral for the need was accepted, as the app closes it.
                | {"closed_reason": GapClosedReason.accepted if need in accepted else None}
            )
    gap_ids = insert_returning_ids(session, Gap, gap_rows)
    insert_rows(
        session,
        GapReason,
        [
            row
            for gap, gap_id in zip(gap_rows, gap_ids, strict=True)
            for row in gap_reason_rows(gap_id, gap["reasons"])
        ],
    )
    # Core inserts bypass the ORM flush that keeps the dashboard's counts: count them here.
    count_new_rows(
        session,
        gap_ids=gap_ids,
        referral_ids=referral_ids,
        screening_ids=screening_ids,
        case_ids=case_ids,
    )
