"""The codes fixed by the routing contract (shared CONTRACT.md, sections 2-5), defined once.

Each code list is a StrEnum in the contract's order; the sets the rules and the workflow
test codes against are built from their members. Seeds carry the labels, texts,
thresholds and sources, and are refused when their code lists drift from these.
"""

from __future__ import annotations

from enum import StrEnum, auto


class Sex(StrEnum):
    female = auto()
    male = auto()
    intersex = auto()
    unknown = auto()


class Setting(StrEnum):
    urban = auto()
    rural = auto()
    unknown = auto()


class MigrationStatus(StrEnum):
    national = auto()
    regular = auto()
    irregular = auto()
    asylum_seeker = auto()
    refugee = auto()
    unknown = auto()


class Encounter(StrEnum):
    """CONTRACT 3.4: where the screening happened."""

    hotline = auto()
    walk_in = auto()
    ngo_outreach = auto()
    health_facility = auto()
    shelter = auto()
    labor_inspection = auto()
    law_enforcement_operation = auto()
    arrest = auto()
    migration_detention = auto()
    border_crossing = auto()
    consular = auto()
    other = auto()


class Sector(StrEnum):
    """CONTRACT 3.2: where the person was made to work."""

    agriculture = auto()
    domestic_work = auto()
    childcare = auto()
    fishing = auto()
    livestock = auto()
    manufacturing = auto()
    mining = auto()
    food_processing = auto()
    construction = auto()
    tourism = auto()
    begging_street_vending = auto()
    call_center_scam = auto()
    drug_production_transport = auto()
    commercial_sex_venue = auto()
    online = auto()
    other = auto()


class Vulnerability(StrEnum):
    """CONTRACT 3.3."""

    pregnant = auto()
    disability = auto()
    indigenous = auto()
    afromexican = auto()
    over_60 = auto()
    drug_dependency = auto()
    unaccompanied_minor = auto()
    displaced = auto()
    criminal_group_territory = auto()
    government_contracted_foreign_worker = auto()


class Need(StrEnum):
    """CONTRACT 3.5: one per service; the order of needs, gaps, options and excluded."""

    shelter = auto()
    protection = auto()
    medical = auto()
    psychological = auto()
    legal_aid = auto()
    prosecution = auto()
    child_protection = auto()
    immigration = auto()
    asylum = auto()
    labor_rights = auto()
    consular = auto()
    interpretation = auto()
    victim_registration = auto()
    identity_documents = auto()
    basic_needs = auto()
    repatriation = auto()
    reintegration = auto()


class Form(StrEnum):
    """CONTRACT 3.6: forms of exploitation."""

    sexual_exploitation = auto()
    forced_labor = auto()
    forced_begging = auto()
    forced_criminality = auto()
    illegal_adoption = auto()
    forced_marriage = auto()
    unspecified = auto()


class Dimension(StrEnum):
    """CONTRACT 2.1: the six dimensions of the ILO/EC indicators."""

    deceptive_recruitment = auto()
    coercive_recruitment = auto()
    vulnerability_recruitment = auto()
    exploitation = auto()
    coercion_destination = auto()
    vulnerability_destination = auto()


class Strength(StrEnum):
    strong = auto()
    medium = auto()
    weak = auto()


class QuestionAnswer(StrEnum):
    """The answers a screening question takes (kept with the screening, not in the record)."""

    yes = auto()
    no = auto()
    not_asked = auto()
    prefers_not_to_say = auto()


# The answers that can mark an indicator: the seeds name one per question.
MARKING_ANSWERS = (QuestionAnswer.yes, QuestionAnswer.no)


class ScreeningStatus(StrEnum):
    likely = auto()
    possible = auto()
    not_indicated = auto()


class Operator(StrEnum):
    government = auto()
    ngo = auto()
    international = auto()


class ServiceStatus(StrEnum):
    active = auto()
    inactive = auto()
    temporarily_closed = auto()
    defunct = auto()


class ExclusionReason(StrEnum):
    """CONTRACT 2.3: why a service does not take a case, in the order of its table."""

    inactive = auto()
    coverage = auto()
    state_unknown = auto()  # the case's state is unknown and the service is not national
    age = auto()
    sex = auto()
    nationality = auto()
    language = auto()
    capacity = auto()
    complaint_required = auto()
    victim_status_required = auto()
    companions = auto()


class ReferralStatus(StrEnum):
    """CONTRACT 5: the FHIR Task statuses, in snake_case."""

    requested = auto()
    accepted = auto()
    rejected = auto()
    in_progress = auto()
    on_hold = auto()
    failed = auto()
    completed = auto()
    cancelled = auto()
    entered_in_error = auto()


class ReferralReason(StrEnum):
    """CONTRACT 5: why a referral was rejected, cancelled, put on hold or failed."""

    no_capacity = auto()
    not_eligible = auto()
    missing_documents = auto()
    outside_service_area = auto()
    person_declined = auto()
    no_response = auto()
    other = auto()


class GapKind(StrEnum):
    routing = auto()
    ad_hoc = auto()
    declined = auto()


class GapClosedReason(StrEnum):
    """Why a gap record closed (CONTRACT section 5)."""

    accepted = auto()  # a referral for the need was accepted
    rerouted = auto()  # a new routing of the case found an option for the need
    case_closed = auto()  # the case was closed


class GapReasonCode(StrEnum):
    """Gap reasons beyond the exclusion reasons of 2.3 (declined gaps reuse the decline codes)."""

    none_listed = auto()
    ad_hoc = auto()


class Alert(StrEnum):
    """CONTRACT 2.4, in the order of its table."""

    immediate_danger = auto()
    presumed_minor = auto()
    child_protection_notice = auto()
    non_punishment = auto()
    no_detention = auto()
    humanitarian_visa = auto()
    reflection_period = auto()
    non_refoulement = auto()
    federal_jurisdiction = auto()
    aggravating_vulnerability = auto()
    voluntary_shelter = auto()


class ServiceTag(StrEnum):
    """Tags the contract names (section 4); the seeds may add more."""

    trafficking_specialized = auto()
    foreign_victims = auto()
    migrant_shelter = auto()
    federally_funded = auto()
    country_of_origin = auto()  # the person's own country (a consulate)


class Confirm(StrEnum):
    """CONTRACT 2.3: what the record leaves open about an option, in the order of its list."""

    age = auto()
    sex = auto()
    companions = auto()
    nationality = auto()


class AlertCondition(StrEnum):
    """CONTRACT 2.4: an alert that holds only if a possibly foreign person is foreign."""

    if_foreign = auto()


# CONTRACT 2.4: the alerts that a possibly foreign person gets as conditional ones.
FOREIGN_VICTIM_ALERTS = frozenset({"humanitarian_visa", "reflection_period", "non_refoulement"})

# CONTRACT 2: the contract version named first in rules_version.
CONTRACT_VERSION = "4"


def contract_version_of(rules_version: str) -> str:
    """The contract version a stored result was made under: before v4, rules_version was
    "seeds digest / directory version" and named none (those results are version 3)."""
    parts = rules_version.split("/")
    return parts[0] if len(parts) == 3 else "3"


class Why(StrEnum):
    """The sentences that say why an option fits; seeds hold their texts."""

    serves_state = auto()
    serves_nationally = auto()
    specialized_in = auto()
    speaks_language = auto()
    free_places = auto()
    accepts_foreign = auto()
    accepts_companions = auto()
    trafficking_specialized = auto()


# --- sets the rules and the workflow test codes against ----------------------------------

# CONTRACT 1: a migration status that makes the person foreign whatever the nationality.
FOREIGN_STATUSES = frozenset(
    {
        MigrationStatus.regular,
        MigrationStatus.irregular,
        MigrationStatus.asylum_seeker,
        MigrationStatus.refugee,
    }
)
# Statuses that call for action: needs, alerts and statistics of indicated cases.
INDICATED_STATUSES = (ScreeningStatus.likely, ScreeningStatus.possible)
# CONTRACT 2.4: encounters where a victim risks being punished or detained.
PUNITIVE_ENCOUNTERS = frozenset(
    {Encounter.law_enforcement_operation, Encounter.arrest, Encounter.migration_detention}
)
# CONTRACT 2.4: vulnerabilities that aggravate the offence (LGPSEDMTP Art. 42 VII and VIII).
AGGRAVATING_VULNERABILITIES = frozenset(
    {
        Vulnerability.pregnant,
        Vulnerability.disability,
        Vulnerability.indigenous,
        Vulnerability.afromexican,
        Vulnerability.over_60,
    }
)
# The sexes a service can accept (a person's sex may also be unknown).
SERVICE_SEXES = (Sex.female, Sex.male, Sex.intersex)

# CONTRACT 5: statuses that need a reason code.
REASON_REQUIRED_STATUSES = frozenset(
    {
        ReferralStatus.rejected,
        ReferralStatus.cancelled,
        ReferralStatus.on_hold,
        ReferralStatus.failed,
    }
)
# Statuses after which nothing but entered_in_error may follow.
FINAL_STATUSES = frozenset(
    {
        ReferralStatus.rejected,
        ReferralStatus.failed,
        ReferralStatus.completed,
        ReferralStatus.cancelled,
        ReferralStatus.entered_in_error,
    }
)
# CONTRACT 5: a referral the service declined; with a decline reason it is a declined gap.
DECLINED_STATUSES = (ReferralStatus.rejected, ReferralStatus.failed)
DECLINE_REASONS = (
    ReferralReason.no_capacity,
    ReferralReason.not_eligible,
    ReferralReason.outside_service_area,
)
# The service took the person in (accepted_at is set).
RECEIVED_STATUSES = (
    ReferralStatus.accepted,
    ReferralStatus.in_progress,
    ReferralStatus.completed,
)

# CONTRACT 3.1: code -> (dimension, strength), in contract order. The seeds carry the codes
# with their texts; this table only refuses seeds that put an indicator elsewhere.
INDICATORS: dict[str, tuple[str, str]] = {
    "deceived_job_nature": ("deceptive_recruitment", "strong"),
    "deceived_conditions": ("deceptive_recruitment", "medium"),
    "false_romance": ("deceptive_recruitment", "medium"),
    "online_lure": ("deceptive_recruitment", "weak"),
    "informal_recruiter_fees": ("deceptive_recruitment", "medium"),
    "abducted_or_forcibly_recruited": ("coercive_recruitment", "strong"),
    "recruitment_violence_threats": ("coercive_recruitment", "strong"),
    "sold_or_handed_over": ("coercive_recruitment", "medium"),
    "debt_at_recruitment": ("vulnerability_recruitment", "medium"),
    "economic_hardship_exploited": ("vulnerability_recruitment", "weak"),
    "irregular_status_exploited": ("vulnerability_recruitment", "medium"),
    "dependency_exploited": ("vulnerability_recruitment", "medium"),
    "commercial_sex": ("exploitation", "strong"),
    "online_sexual_exploitation": ("exploitation", "strong"),
    "forced_criminal_activity": ("exploitation", "strong"),
    "forced_begging": ("exploitation", "strong"),
    "illegal_adoption": ("exploitation", "strong"),
    "forced_marriage": ("exploitation", "strong"),
    "exploitation_undisclosed": ("exploitation", "strong"),
    "excessive_hours": ("exploitation", "strong"),
    "wages_withheld": ("exploitation", "strong"),
    "abusive_conditions": ("exploitation", "medium"),
    "documents_withheld": ("coercion_destination", "strong"),
    "debt_bondage": ("coercion_destination", "strong"),
    "movement_restricted": ("coercion_destination", "strong"),
    "violence": ("coercion_destination", "strong"),
    "threats": ("coercion_destination", "strong"),
    "sextortion_images": ("coercion_destination", "strong"),
    "ransom_or_smuggling_debt": ("coercion_destination", "strong"),
    "threat_of_authorities": ("coercion_destination", "medium"),
    "isolation": ("coercion_destination", "medium"),
    "dependency_on_exploiter": ("vulnerability_destination", "medium"),
    "substance_coercion": ("vulnerability_destination", "medium"),
    "language_barrier": ("vulnerability_destination", "weak"),
    "no_access_to_help": ("vulnerability_destination", "weak"),
}

# CONTRACT 2.1: exploitation activities.
ACTIVITIES = frozenset(
    {
        "commercial_sex",
        "online_sexual_exploitation",
        "forced_criminal_activity",
        "forced_begging",
        "illegal_adoption",
        "forced_marriage",
        "exploitation_undisclosed",
    }
)


def _codes(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


DIMENSIONS = _codes(Dimension)
STRENGTHS = _codes(Strength)

# Seed list name -> the codes the contract fixes for it (exact membership and order).
CODE_LISTS: dict[str, tuple[str, ...]] = {
    "sexes": _codes(Sex),
    "settings": _codes(Setting),
    "migration_statuses": _codes(MigrationStatus),
    "encounters": _codes(Encounter),
    "sectors": _codes(Sector),
    "vulnerabilities": _codes(Vulnerability),
    "needs": _codes(Need),
    "forms": _codes(Form),
    "dimensions": DIMENSIONS,
    "strengths": STRENGTHS,
    "statuses": _codes(ScreeningStatus),
    "operators": _codes(Operator),
    "service_statuses": _codes(ServiceStatus),
    "exclusion_reasons": _codes(ExclusionReason),
    "referral_statuses": _codes(ReferralStatus),
    "referral_reasons": _codes(ReferralReason),
    "gap_kinds": _codes(GapKind),
    "gap_reasons": _codes(GapReasonCode),
    "alerts": _codes(Alert),
}

# Lists the contract leaves open (the seeds may add codes); these must be present.
REQUIRED_SUBSETS: dict[str, tuple[str, ...]] = {"service_tags": _codes(ServiceTag)}

# CONTRACT 2.4: alert sources, verbatim.
ALERT_SOURCES: dict[str, str] = {
    Alert.immediate_danger: (
        "LGPSEDMTP Art. 62 (protection of victims); call emergency services first"
    ),
    Alert.presumed_minor: "LGPSEDMTP Art. 3 X",
    Alert.child_protection_notice: (
        "Ley General de los Derechos de Niñas, Niños y Adolescentes Art. 12 "
        "(duty to notify the authorities at once)"
    ),
    Alert.non_punishment: "LGPSEDMTP Art. 37",
    Alert.no_detention: "LGPSEDMTP Art. 38, 75 and 90 VI",
    Alert.humanitarian_visa: "Ley de Migración Art. 52 V; LGPSEDMTP Art. 78",
    Alert.reflection_period: (
        'the report ("a reflection period of 30 days"); Ley de Migración Art. 113 and 136'
    ),
    Alert.non_refoulement: "LGPSEDMTP Art. 3 VI; Ley de Migración Art. 121",
    Alert.federal_jurisdiction: "the report, PROSECUTION; LGPSEDMTP Art. 5",
    Alert.aggravating_vulnerability: "LGPSEDMTP Art. 42 VII and VIII (2024 amendments)",
    Alert.voluntary_shelter: (
        "LGPSEDMTP Art. 90 V (with its exception where organized crime endangers the person)"
    ),
}

# The placeholders each "why" sentence template must use.
WHY_TEMPLATES: dict[str, tuple[str, ...]] = {
    Why.serves_state: ("state",),
    Why.serves_nationally: (),
    Why.specialized_in: ("form",),
    Why.speaks_language: ("language",),
    Why.free_places: ("count",),
    Why.accepts_foreign: (),
    Why.accepts_companions: (),
    Why.trafficking_specialized: (),
}

# Gap-sentence placeholders available to exclusion reasons (Nothing fits because: ...).
GAP_SENTENCE_PLACEHOLDERS = ("need", "state")
