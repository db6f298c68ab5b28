"""Builders of the tests' data: records, cases stored the way the app stores them, and the
intake form filled the way a browser posts it.

- ``record_data`` and the named records: screening records (CONTRACT section 1).
- ``fill_all``, ``start_draft``, ``post_section``, ``submit``: a case through the web form.
- ``random_people`` and ``store``: a statistics data set through ``store_screening``.
- ``generate_dashboard_data``: a dashboard data set through ``store_screening`` and the
  referral workflow, with what each panel should count kept independently in Python.
- ``create_user``: an account, through the same operation as the CLI (tests usually call the
  ``make_user`` fixture, which numbers the e-mail addresses).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import delete

from referral.audit.models import AuditEvent
from referral.auth import operations as auth_operations
from referral.casework import workflow
from referral.casework.models import (
    Case,
    CaseEvent,
    Gap,
    GapReason,
    Referral,
    ReferralEvent,
    Screening,
    ScreeningForm,
)
from referral.casework.screening import CaseDetails, store_screening
from referral.clocks.models import ChildNotice
from referral.db import get_db
from referral.directory.catalogue import current_catalogue
from referral.mail.models import OutboxMessage
from referral.rules import validate_record
from referral.seeds.loader import seed_store
from referral.supervision.models import (
    AggregateCount,
    AggregateDelta,
    AggregateErased,
    AnswerCount,
    LoopClock,
)
from tests.conftest import PASSWORD, audit_guard_lifted, csrf_token

# The pure builder of records lives with the rules tests (they import no Flask); shared here.
from tests.rules.rules_helpers import record_data

# --- screening records -----------------------------------------------------------------------


MAN_IN_GUERRERO = {
    "age": 34,
    "sex": "male",
    "nationality": "MX",
    "state": "MX-GRO",
    "setting": "rural",
    "languages": ["es"],
    "migration_status": "national",
    "encounter": "labor_inspection",
    "indicators": [
        "deceived_job_nature",
        "deceived_conditions",
        "wages_withheld",
        "excessive_hours",
        "debt_bondage",
        "documents_withheld",
    ],
    "sector": "agriculture",
    "needs": ["shelter", "legal_aid"],
    "complaint_filed": False,
    "victim_status": False,
    "cross_border": False,
    "organized_crime": False,
    "official_involvement": False,
}

GIRL_FROM_HONDURAS = {
    "age": None,
    "sex": "female",
    "nationality": "HN",
    "state": "MX-CHP",
    "setting": "urban",
    "languages": ["es"],
    "migration_status": "irregular",
    "encounter": "migration_detention",
    "indicators": ["commercial_sex"],
    "needs": ["shelter"],
    "complaint_filed": False,
    "victim_status": False,
    "cross_border": True,
    "organized_crime": True,
    "official_involvement": False,
}


# --- accounts --------------------------------------------------------------------------------


def create_user(
    app: Flask,
    role: str,
    states: tuple[str, ...] | list[str],
    *,
    email: str,
    national: bool = False,
    language: str = "es",
    password: str = PASSWORD,
    active: bool = True,
    services: tuple[str, ...] | list[str] = (),
    display_name: str = "",
) -> Any:
    """An account created as the CLI creates it (a provider's with its ``services``)."""
    data = auth_operations.AccountData(
        email=email,
        role=role,
        states=list(states),
        national=national,
        display_name=display_name,
        language=language,
        active=active,
        services=list(services),
    )
    with app.app_context(), get_db(app).transaction() as session:
        return auth_operations.create_user(session, data, password, actor_id=None)


# --- the intake form, as a browser posts it --------------------------------------------------

SECTIONS: dict[str, dict[str, Any]] = {
    "encounter": {"encounter": "migration_detention", "state": "MX-CHP", "setting": "urban"},
    "person": {
        "age": "15",
        "sex": "female",
        "nationality": "HN",
        "languages": ["es"],
        "other_languages": "",
        "migration_status": "irregular",
        "vulnerabilities": ["unaccompanied_minor"],
    },
    "indicators": {"q_commercial_sex": "yes", "q_threats": "yes", "sector": ""},
    "needs": {"needs": ["shelter", "medical"], "immediate_danger": "y"},
    "legal": {"consent_referral": "yes", "consent_statistics": "yes", "notes": "Habla poco."},
}


def answers_marking(*codes: str, **answers: str) -> dict[str, str]:
    """The indicators section's form data that marks ``codes`` (each question answered the way
    the seeds say marks it, "no" to "Do you have your documents?"), plus ``answers`` given as
    indicator code = answer."""
    marked_by = {i.code: i.marked_by for i in seed_store().rules.indicators}
    data = {f"q_{code}": marked_by[code] for code in codes}
    data.update({f"q_{code}": answer for code, answer in answers.items()})
    return data


def start_draft(client: FlaskClient) -> str:
    token = csrf_token(client, "/intake")
    response = client.post("/intake", data={"csrf_token": token})
    assert response.status_code == 302, response.status_code
    match = re.search(r"/intake/([^/]+)/encounter", response.headers["Location"])
    assert match
    return match.group(1)


def post_section(
    client: FlaskClient, key: str, section: str, values: dict[str, Any], **buttons: str
) -> Any:
    token = csrf_token(client, f"/intake/{key}/{section}")
    data: dict[str, Any] = {"csrf_token": token, **values}
    data.update(buttons or {"next": "1"})
    return client.post(f"/intake/{key}/{section}", data=data)


def fill_all(client: FlaskClient, overrides: dict[str, dict[str, Any]] | None = None) -> str:
    key = start_draft(client)
    for section, values in SECTIONS.items():
        merged = {**values, **(overrides or {}).get(section, {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        response = post_section(client, key, section, merged)
        assert response.status_code == 302, (section, response.get_data(as_text=True)[:3000])
    return key


def submit(client: FlaskClient, key: str) -> Any:
    token = csrf_token(client, f"/intake/{key}/review")
    return client.post(f"/intake/{key}/submit", data={"csrf_token": token})


# --- statistics data sets --------------------------------------------------------------------

STATISTICS_STATES = ("MX-CHP", "MX-GRO", "MX-CMX", "MX-NLE", "unknown")
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
REFERRAL_NEEDS = ("shelter", "medical", "legal_aid", "psychological")
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
    """Someone's screenings (oldest first), their consent and the referrals made for them."""

    records: list[dict[str, Any]]
    when: list[datetime]
    consent_statistics: bool = True
    referrals: list[tuple[str, str]] = field(default_factory=list)  # (need, status)


def random_statistics_record(rng: random.Random) -> dict[str, Any]:
    age = rng.choice([None, None, 5, 12, 15, 16, 17, 19, 22, 25, 28, 33, 41, 55, 70])
    nationality = rng.choice(NATIONALITIES)
    return record_data(
        age=age,
        clearly_adult=age is None and rng.random() < 0.5,
        sex=rng.choice(["female", "female", "male", "intersex", "unknown"]),
        nationality=nationality,
        state=rng.choice(STATISTICS_STATES),
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
        records = [random_statistics_record(rng)]
        when = [first]
        if rng.random() < 0.25:  # a re-screening, as the person discloses more
            records.append(random_statistics_record(rng))
            when.append(first + timedelta(days=rng.randrange(1, 400)))
        referrals = [
            (rng.choice(REFERRAL_NEEDS), rng.choice(REFERRAL_STATUSES))
            for _ in range(rng.randrange(3))
        ]
        people.append(Person(records, when, rng.random() < 0.8, referrals))
    return people


# Two forms of exploitation, taken in turn, so a class of these people is also l-diverse.
FORMS_IN_TURN = (["commercial_sex", "threats"], ["wages_withheld", "threats"])


def identical_people(count: int, consent: bool = True, state: str = "MX-CHP") -> list[Person]:
    """``count`` people indistinguishable on the microdata's quasi-identifiers (one class),
    sexually exploited and in forced labour in turn."""
    return [
        Person(
            [record_data(age=15, sex="female", state=state, indicators=FORMS_IN_TURN[i % 2])],
            [datetime(2024, 3, 1, 12, i % 60, tzinfo=UTC)],
            consent_statistics=consent,
        )
        for i in range(count)
    ]


def store(app: Flask, people: list[Person], screener_id: int) -> list[dict[str, Any]]:
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
                        case_screener_id=case.screener_id,
                        case_state=case.state,
                    )
                )
            stored.append({"case_id": case.id, "code": case.code, "result": result.to_json()})
        session.flush()
    return stored


def referred_case(
    app: Flask,
    screener_id: int,
    *,
    data: dict[str, Any] | None = None,
    notes: str | None = None,
    ad_hoc_provider: str = "Casa de apoyo",
    consent_statistics: bool = True,
) -> str:
    """A case (the girl from Honduras in Chiapas unless ``data``) referred to the first option
    of a need, and to a provider outside the directory for another: its code."""
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record(data or GIRL_FROM_HONDURAS, catalogue.codes)
        case, _screening, result = store_screening(
            session,
            record,
            catalogue,
            screener_id=screener_id,
            details=CaseDetails(True, consent_statistics, notes=notes),
        )
        need = next(n for n, options in result.options.items() if options)
        workflow.refer(
            session,
            case,
            need=need,
            service_id=result.options[need][0].service,
            catalogue=catalogue,
            user_id=screener_id,
        )
        workflow.refer_ad_hoc(
            session,
            case,
            need="legal_aid",
            provider=ad_hoc_provider,
            reason="Nearest legal aid",
            user_id=screener_id,
        )
        return case.code


def clear_cases(app: Flask) -> None:
    """Remove every case and what hangs from it (for hypothesis examples in one test)."""
    with get_db(app).transaction() as session:
        for model in (
            CaseEvent,
            OutboxMessage,
            ChildNotice,
            GapReason,
            Gap,
            ReferralEvent,
            Referral,
            ScreeningForm,
            Screening,
            LoopClock,
            Case,
            AggregateCount,  # the dashboard's counts of those cases go with them
            AggregateDelta,
            AggregateErased,
            AnswerCount,
        ):
            session.exec(delete(model))  # type: ignore[call-overload]
        with audit_guard_lifted(session.connection()):  # the audit log refuses DELETE
            session.exec(delete(AuditEvent))  # type: ignore[call-overload]


def download(client: FlaskClient, path: str) -> Any:
    """A statistics download as the page makes it: a POST with the page's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/stats")})


# --- dashboard data sets ---------------------------------------------------------------------

DASHBOARD_STATES = ("MX-GRO", "MX-CHP", "MX-TLA")
DASHBOARD_INDICATORS = (
    "commercial_sex",
    "threats",
    "deceived_job_nature",
    "wages_withheld",
    "excessive_hours",
    "documents_withheld",
    "forced_criminal_activity",
    "language_barrier",
)
DASHBOARD_NEEDS = ("shelter", "medical", "legal_aid", "psychological", "basic_needs")
ENCOUNTERS = ("hotline", "migration_detention", "labor_inspection", "arrest", "walk_in")


def random_dashboard_record(rng: random.Random, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "age": rng.choice([None, 9, 15, 16, 22, 35, 64]),
        "clearly_adult": rng.random() < 0.5,
        "sex": rng.choice(["female", "male", "male", "intersex", "unknown"]),
        "nationality": rng.choice(["MX", "MX", "HN", "ZZ", "VE"]),
        "state": rng.choice(DASHBOARD_STATES),
        "setting": "urban",
        "languages": rng.choice([["es"], [], ["tzo"], ["en", "es"]]),
        "migration_status": rng.choice(["national", "irregular", "unknown"]),
        "encounter": rng.choice(ENCOUNTERS),
        "indicators": rng.sample(DASHBOARD_INDICATORS, rng.randint(0, 4)),
        "needs": rng.sample(DASHBOARD_NEEDS, rng.randint(1, 3)),
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


def generate_dashboard_data(
    app: Flask, screener_id: int, *, count: int = 60, seed: int = 7
) -> DataSet:
    """Store ``count`` seeded random cases with referrals; return what should be counted."""
    rng = random.Random(seed)
    data = DataSet()
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        for _ in range(count):
            raw = random_dashboard_record(rng)
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
                    referral = workflow.refer_ad_hoc(
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
                referral = workflow.refer(
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
                    workflow.change_status(
                        session,
                        referral,
                        status="accepted",
                        reason_code=None,
                        expected_version=referral.version,
                        user_id=screener_id,
                    )
                    reason = rng.choice(["not_eligible", "no_response"])
                if outcome != "requested":
                    workflow.change_status(
                        session,
                        referral,
                        status=outcome,
                        reason_code=reason,
                        expected_version=referral.version,
                        user_id=screener_id,
                    )
                if reason in workflow.DECLINE_REASONS:
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


def store_case(app: Flask, screener: Any, record: dict[str, Any] | None = None) -> Any:
    """A case of ``screener``'s, screened and routed: (case, need, first option's service)."""
    from referral.casework.screening import CaseDetails, store_screening
    from referral.directory.catalogue import current_catalogue

    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        checked = validate_record(record or GIRL_FROM_HONDURAS, catalogue.codes)
        case, _screening, result = store_screening(
            session, checked, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
        )
        need = next(n for n, options in result.options.items() if options)
        return case, need, result.options[need][0].service


def refer_a_case(app: Flask, screener: Any, record: dict[str, Any] | None = None) -> Any:
    """A case of ``screener``'s, stored and referred to its first option: (case, referral)."""
    from referral.casework.screening import CaseDetails, store_screening
    from referral.casework.workflow import refer
    from referral.directory.catalogue import current_catalogue

    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        checked = validate_record(record or GIRL_FROM_HONDURAS, catalogue.codes)
        case, _screening, result = store_screening(
            session, checked, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
        )
        need = next(n for n, options in result.options.items() if options)
        referral = refer(
            session,
            case,
            need=need,
            service_id=result.options[need][0].service,
            catalogue=catalogue,
            user_id=screener.id,
        )
        return case, referral


def _referral_facts(referral: Referral) -> dict[str, Any]:
    return {
        "case_id": referral.case_id,
        "state": referral.state,
        "need": referral.need,
        "status": referral.status,
        "reason_code": referral.reason_code,
        "accepted_at": referral.accepted_at,
    }
