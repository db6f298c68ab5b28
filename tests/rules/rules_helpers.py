"""Plain builders of records and directory entries for the rules tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def record_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid record of an adult Mexican woman in Tlaxcala with no indicators."""
    data: dict[str, Any] = {
        "age": 30,
        "clearly_adult": False,
        "sex": "female",
        "nationality": "MX",
        "state": "MX-TLA",
        "setting": "urban",
        "languages": ["es"],
        "migration_status": "national",
        "encounter": "hotline",
        "indicators": [],
        "sector": None,
        "vulnerabilities": [],
        "companions": [],
        "needs": [],
        "immediate_danger": False,
        "complaint_filed": False,
        "victim_status": False,
        "cross_border": False,
        "organized_crime": False,
        "official_involvement": False,
    }
    data.update(overrides)
    return data


def service_data(id: str, **overrides: Any) -> dict[str, Any]:
    """A directory entry that accepts everyone everywhere, for need shelter, unless told."""
    data: dict[str, Any] = {
        "id": id,
        "name": {"es": f"Servicio {id}", "en": f"Service {id}"},
        "need": "shelter",
        "status": "active",
        "operator": "ngo",
        "coverage": ["national"],
        "min_age": None,
        "max_age": None,
        "sexes": ["female", "male", "intersex"],
        "male_max_age": None,
        "accepts_foreign": True,
        "languages": ["es"],
        "capacity_available": None,
        "requires_complaint": False,
        "requires_victim_status": False,
        "accepts_companions": True,
        "companion_max_age_male": None,
        "specializations": [],
        "tags": [],
        "source": "test",
    }
    data.update(overrides)
    return data
