"""The code sets fixed by the routing contract (shared CONTRACT.md, section 3).

Seeds carry the labels, texts, thresholds and sources; these sets only guard that the
seeds speak exactly the contract's codes, because the rules below test some codes by name.
"""

from __future__ import annotations

# CONTRACT 3.1: code -> (dimension, strength), in contract order.
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

DIMENSIONS = (
    "deceptive_recruitment",
    "coercive_recruitment",
    "vulnerability_recruitment",
    "exploitation",
    "coercion_destination",
    "vulnerability_destination",
)
STRENGTHS = ("strong", "medium", "weak")

# Code lists whose exact membership (and order) the contract fixes.
CODE_LISTS: dict[str, tuple[str, ...]] = {
    "sexes": ("female", "male", "intersex", "unknown"),
    "settings": ("urban", "rural", "unknown"),
    "migration_statuses": (
        "national",
        "regular",
        "irregular",
        "asylum_seeker",
        "refugee",
        "unknown",
    ),
    "encounters": (
        "hotline",
        "walk_in",
        "ngo_outreach",
        "health_facility",
        "shelter",
        "labor_inspection",
        "law_enforcement_operation",
        "arrest",
        "migration_detention",
        "border_crossing",
        "consular",
        "other",
    ),
    "sectors": (
        "agriculture",
        "domestic_work",
        "childcare",
        "fishing",
        "livestock",
        "manufacturing",
        "mining",
        "food_processing",
        "construction",
        "tourism",
        "begging_street_vending",
        "call_center_scam",
        "drug_production_transport",
        "commercial_sex_venue",
        "online",
        "other",
    ),
    "vulnerabilities": (
        "pregnant",
        "disability",
        "indigenous",
        "afromexican",
        "over_60",
        "drug_dependency",
        "unaccompanied_minor",
        "displaced",
        "criminal_group_territory",
        "government_contracted_foreign_worker",
    ),
    "needs": (
        "shelter",
        "protection",
        "medical",
        "psychological",
        "legal_aid",
        "prosecution",
        "child_protection",
        "immigration",
        "asylum",
        "labor_rights",
        "consular",
        "interpretation",
        "victim_registration",
        "identity_documents",
        "basic_needs",
        "repatriation",
        "reintegration",
    ),
    "forms": (
        "sexual_exploitation",
        "forced_labor",
        "forced_begging",
        "forced_criminality",
        "illegal_adoption",
        "forced_marriage",
        "unspecified",
    ),
    "dimensions": DIMENSIONS,
    "strengths": STRENGTHS,
    "statuses": ("likely", "possible", "not_indicated"),
    "operators": ("government", "ngo", "international"),
    "service_statuses": ("active", "inactive", "temporarily_closed", "defunct"),
    "exclusion_reasons": (
        "inactive",
        "coverage",
        "age",
        "sex",
        "nationality",
        "language",
        "capacity",
        "complaint_required",
        "victim_status_required",
        "companions",
    ),
    "referral_statuses": (
        "requested",
        "accepted",
        "rejected",
        "in_progress",
        "on_hold",
        "failed",
        "completed",
        "cancelled",
        "entered_in_error",
    ),
    "referral_reasons": (
        "no_capacity",
        "not_eligible",
        "missing_documents",
        "outside_service_area",
        "person_declined",
        "no_response",
        "other",
    ),
    "gap_kinds": ("routing", "ad_hoc", "declined"),
    # Gap reasons beyond the exclusion reasons of 2.3 (declined gaps reuse referral_reasons).
    "gap_reasons": ("none_listed", "ad_hoc"),
    "alerts": (
        "immediate_danger",
        "presumed_minor",
        "child_protection_notice",
        "non_punishment",
        "no_detention",
        "humanitarian_visa",
        "reflection_period",
        "non_refoulement",
        "federal_jurisdiction",
        "aggravating_vulnerability",
        "voluntary_shelter",
    ),
}

# Lists the contract leaves open (the seeds may add codes); these must be present.
REQUIRED_SUBSETS: dict[str, tuple[str, ...]] = {
    "service_tags": (
        "trafficking_specialized",
        "foreign_victims",
        "migrant_shelter",
        "federally_funded",
    ),
}

# CONTRACT 2.4: alert sources, verbatim.
ALERT_SOURCES: dict[str, str] = {
    "immediate_danger": "LGPSEDMTP Art. 62 (protection of victims); call emergency services first",
    "presumed_minor": "LGPSEDMTP Art. 3 X",
    "child_protection_notice": (
        "Ley General de los Derechos de Niñas, Niños y Adolescentes Art. 12 "
        "(duty to notify the authorities at once)"
    ),
    "non_punishment": "LGPSEDMTP Art. 37",
    "no_detention": "LGPSEDMTP Art. 38, 75 and 90 VI",
    "humanitarian_visa": "Ley de Migración Art. 52 V; LGPSEDMTP Art. 78",
    "reflection_period": (
        'the report ("a reflection period of 30 days"); Ley de Migración Art. 113 and 136'
    ),
    "non_refoulement": "LGPSEDMTP Art. 3 VI; Ley de Migración Art. 121",
    "federal_jurisdiction": "the report, PROSECUTION; LGPSEDMTP Art. 5",
    "aggravating_vulnerability": "LGPSEDMTP Art. 42 VII and VIII (2024 amendments)",
    "voluntary_shelter": (
        "LGPSEDMTP Art. 90 V (with its exception where organized crime endangers the person)"
    ),
}

# Templates of the "why" sentences of options and the placeholders each must use.
WHY_TEMPLATES: dict[str, tuple[str, ...]] = {
    "serves_state": ("state",),
    "serves_nationally": (),
    "specialized_in": ("form",),
    "speaks_language": ("language",),
    "free_places": ("count",),
    "accepts_foreign": (),
    "accepts_companions": (),
    "trafficking_specialized": (),
}

# Gap-sentence placeholders available to exclusion reasons (Nothing fits because: ...).
GAP_SENTENCE_PLACEHOLDERS = ("need", "state")
