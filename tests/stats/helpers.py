"""Data sets for the statistics tests, stored exactly as the web form stores them.

Each generated person is a ``Person``: their screenings (oldest first), consent, and the
referrals made for them. ``store`` feeds them through ``store_screening`` and returns what
the rules answered, so the tests can count independently in Python.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, delete

from referral.audit.models import AuditEvent
from referral.casework.models import (
    Case,
    Gap,
    GapReason,
    Referral,
    ReferralEvent,
    Screening,
    ScreeningForm,
)
from referral.casework.screening import CaseDetails, store_screening
from referral.db import get_db
from referral.directory.catalogue import current_catalogue
from referral.rules import validate_record
from tests.conftest import audit_guard_lifted
from tests.rules.rules_helpers import record_data

STATES = ("MX-CHP", "MX-GRO", "MX-CMX", "MX-NLE", "unknown")
NATIONALITIES = ("MX", "MX", "MX", "GT", "HN", "VE", "CO", "HT", "CN", "ZZ")
INDICATOR_SETS = (
    [],  # not indicated
    ["commercial_sex"],  # likely for a minor, possible for an adult
    ["deceived_job_nature", "commercial_sex", "threats"],  # likely
    ["false_romance", "online_lure", "excessive_hours", "documents_withheld", "violence"],
    ["abducted_or_forcibly_recruited", "forced_criminal_activity", "debt_bondage", "isolation"],
    ["wages_withheld"],  # possible
    ["informal_recruiter_fees", "forced_marriage", "movement_restricted", "threats"],
    ["forced_begging", "dependency_exploited", "substance_coercion"],
)
NEEDS = ("shelter", "medical", "legal_aid", "psychological")
REFERRAL_STATUSES = (
    "requested",
    "accepted",
    "rejected",
    "in_progress",
    "completed",
    "failed",
    "entered_in_error",
)


@dataclass
class Person:
    records: list[dict[str, Any]]
    when: list[datetime]
    consent_statistics: bool = True
    referrals: list[tuple[str, str]] = field(default_factory=list)  # (need, status)


def random_record(rng: random.Random) -> dict[str, Any]:
    age = rng.choice([None, None, 5, 12, 15, 16, 17, 19, 22, 25, 28, 33, 41, 55, 70])
    nationality = rng.choice(NATIONALITIES)
    return record_data(
        age=age,
        clearly_adult=age is None and rng.random() < 0.5,
        sex=rng.choice(["female", "female", "male", "intersex", "unknown"]),
        nationality=nationality,
        state=rng.choice(STATES),
        migration_status="national"
        if nationality in ("MX", "ZZ")
        else rng.choice(["irregular", "regular", "asylum_seeker"]),
        encounter=rng.choice(["hotline", "labor_inspection", "migration_detention", "arrest"]),
        indicators=list(rng.choice(INDICATOR_SETS)),
        sector=rng.choice([None, "agriculture", "domestic_work"]),
        needs=rng.sample(["shelter", "medical", "legal_aid", "repatriation", "consular"], 2),
    )


def random_people(
    seed: int, count: int, years: tuple[int, ...] = (2023, 2024, 2025)
) -> list[Person]:
    rng = random.Random(seed)
    people = []
    for _ in range(count):
        year = rng.choice(years)
        first = datetime(year, 1, 1, 6, tzinfo=UTC) + timedelta(minutes=rng.randrange(525_000))
        records = [random_record(rng)]
        when = [first]
        if rng.random() < 0.25:  # a re-screening, as the person discloses more
            records.append(random_record(rng))
            when.append(first + timedelta(days=rng.randrange(1, 400)))
        referrals = [
            (rng.choice(NEEDS), rng.choice(REFERRAL_STATUSES)) for _ in range(rng.randrange(3))
        ]
        people.append(Person(records, when, rng.random() < 0.8, referrals))
    return people


def store(app: Any, people: list[Person], screener_id: int) -> list[dict[str, Any]]:
    """Store every person; return, per person, the case id and the latest routing result."""
    stored = []
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        for person in people:
            case = None
            result = None
            for data, when in zip(person.records, person.when, strict=True):
                record = validate_record(data, catalogue.codes)
                case, _screening, result = store_screening(
                    session,
                    record,
                    catalogue,
                    screener_id=screener_id,
                    details=CaseDetails(True, person.consent_statistics, notes="secret note"),
                    case=case,
                    screened_at=when,
                )
            assert case is not None and result is not None
            for need, status in person.referrals:
                session.add(
                    Referral(
                        case_id=case.id,
                        need=need,
                        ad_hoc_provider="provider",
                        state=case.state,
                        status=status,
                        created_by=screener_id,
                        updated_by=screener_id,
                    )
                )
            stored.append({"case_id": case.id, "code": case.code, "result": result.to_json()})
        session.flush()
    return stored


def clear_cases(app: Any) -> None:
    """Remove every case and what hangs from it (for hypothesis examples in one test)."""
    with Session(get_db(app).writer) as session:
        for model in (
            GapReason,
            Gap,
            ReferralEvent,
            Referral,
            ScreeningForm,
            Screening,
            Case,
        ):
            session.exec(delete(model))  # type: ignore[call-overload]
        with audit_guard_lifted(session.connection()):  # the audit log refuses DELETE
            session.exec(delete(AuditEvent))  # type: ignore[call-overload]
        session.commit()


def download(client: Any, path: str) -> Any:
    """A statistics download as the page makes it: a POST with the page's CSRF token."""
    from tests.conftest import csrf_token

    return client.post(path, data={"csrf_token": csrf_token(client, "/stats")})
