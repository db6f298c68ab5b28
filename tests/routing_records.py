"""Screening records shared by several tests."""

from __future__ import annotations

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
