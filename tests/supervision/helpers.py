"""A seeded random data set stored the way the app stores it, and what it should count.

Screenings go through ``store_screening`` (as the web form does) and referrals through the
referral operations; the expectations are kept in Python from the routing results and the
actions taken, never read back through the dashboard's queries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from referral.casework import workflow as referrals
from referral.casework.screening import CaseDetails, store_screening
from referral.db import get_db
from referral.directory.catalogue import catalogue_cache
from referral.rules import validate_record

STATES = ("MX-GRO", "MX-CHP", "MX-TLA")
INDICATORS = (
    "commercial_sex",
    "threats",
    "deceived_job_nature",
    "wages_withheld",
    "excessive_hours",
    "documents_withheld",
    "forced_criminal_activity",
    "language_barrier",
)
NEEDS = ("shelter", "medical", "legal_aid", "psychological", "basic_needs")
ENCOUNTERS = ("hotline", "migration_detention", "labor_inspection", "arrest", "walk_in")


def record_data(rng: random.Random, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "age": rng.choice([None, 9, 15, 16, 22, 35, 64]),
        "clearly_adult": rng.random() < 0.5,
        "sex": rng.choice(["female", "male", "male", "intersex", "unknown"]),
        "nationality": rng.choice(["MX", "MX", "HN", "ZZ", "VE"]),
        "state": rng.choice(STATES),
        "setting": "urban",
        "languages": rng.choice([["es"], [], ["tzo"], ["en", "es"]]),
        "migration_status": rng.choice(["national", "irregular", "unknown"]),
        "encounter": rng.choice(ENCOUNTERS),
        "indicators": rng.sample(INDICATORS, rng.randint(0, 4)),
        "needs": rng.sample(NEEDS, rng.randint(1, 3)),
        "complaint_filed": rng.random() < 0.3,
        "victim_status": rng.random() < 0.2,
        "cross_border": False,
        "organized_crime": False,
        "official_involvement": False,
        "companions": [{"age": 14, "sex": "male"}] if rng.random() < 0.2 else [],
    }
    data.update(overrides)
    return data


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    for limit, band in ((12, "0-11"), (18, "12-17"), (30, "18-29"), (60, "30-59")):
        if age < limit:
            return band
    return "60+"


@dataclass
class ExpectedGap:
    case_id: int
    need: str
    kind: str
    state: str
    reasons: list[str]
    opened_at: datetime
    profile: dict[str, Any]
    forms: list[str]


@dataclass
class DataSet:
    gaps: list[ExpectedGap] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    screenings: list[dict[str, Any]] = field(default_factory=list)
    cases: dict[int, dict[str, Any]] = field(default_factory=dict)


def generate(app: Flask, screener_id: int, *, count: int = 60, seed: int = 7) -> DataSet:
    """Store ``count`` seeded random cases with referrals; return what should be counted."""
    rng = random.Random(seed)
    data = DataSet()
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = catalogue_cache(app).get(session)
        for _ in range(count):
            raw = record_data(rng)
            record = validate_record(raw, catalogue.codes)
            day = datetime(2024, 1, 1, 12, tzinfo=UTC) + timedelta(days=rng.randint(0, 180))
            case, _screening, routed = store_screening(
                session,
                record,
                catalogue,
                screener_id=screener_id,
                details=CaseDetails(consent_referral=True, consent_statistics=True),
                screened_at=day,
            )
            result = routed.to_json()
            forms = list(result["screening"]["forms"])
            profile = {
                "sex": record.sex,
                "age_band": age_band(record.age),
                "minor": "minor" if result["screening"]["minor"] else "adult",
                "foreign": "foreign" if record.foreign else "national",
            }
            data.cases[case.id] = {"state": record.state, "first_screened_at": day}
            data.screenings.append(
                {
                    "case_id": case.id,
                    "encounter": record.encounter,
                    "state": record.state,
                    "status": result["screening"]["status"],
                    "screened_at": day,
                }
            )
            for gap in result["gaps"]:
                data.gaps.append(
                    ExpectedGap(
                        case.id,
                        gap["need"],
                        "routing",
                        record.state,
                        gap["reasons"],
                        day,
                        profile,
                        forms,
                    )
                )
                if rng.random() < 0.3:
                    referral = referrals.refer_ad_hoc(
                        session,
                        case,
                        need=gap["need"],
                        provider="Casa local",
                        reason="No hay opción",
                        user_id=screener_id,
                    )
                    data.gaps.append(
                        ExpectedGap(
                            case.id,
                            gap["need"],
                            "ad_hoc",
                            record.state,
                            ["ad_hoc"],
                            referral.created_at,
                            profile,
                            forms,
                        )
                    )
                    data.referrals.append(_referral_facts(referral))
            for need, options in result["options"].items():
                if not options or rng.random() < 0.3:
                    continue
                referral = referrals.refer(
                    session,
                    case,
                    need=need,
                    service_id=options[0]["service"],
                    catalogue=catalogue,
                    user_id=screener_id,
                )
                outcome = rng.choice(["requested", "accepted", "rejected", "failed"])
                reason = None
                if outcome == "rejected":
                    reason = rng.choice(["no_capacity", "person_declined", "outside_service_area"])
                elif outcome == "failed":
                    referrals.change_status(
                        session,
                        referral,
                        status="accepted",
                        reason_code=None,
                        expected_version=referral.version,
                        user_id=screener_id,
                    )
                    reason = rng.choice(["not_eligible", "no_response"])
                if outcome != "requested":
                    referrals.change_status(
                        session,
                        referral,
                        status=outcome,
                        reason_code=reason,
                        expected_version=referral.version,
                        user_id=screener_id,
                    )
                if reason in referrals.DECLINE_REASONS:
                    data.gaps.append(
                        ExpectedGap(
                            case.id,
                            need,
                            "declined",
                            record.state,
                            [reason],
                            referral.updated_at,
                            profile,
                            forms,
                        )
                    )
                data.referrals.append(_referral_facts(referral))
    return data


def _referral_facts(referral: Any) -> dict[str, Any]:
    return {
        "case_id": referral.case_id,
        "state": referral.state,
        "need": referral.need,
        "status": referral.status,
        "reason_code": referral.reason_code,
        "accepted_at": referral.accepted_at,
    }
