"""The proportions of generated demo data (``seeds/demo.yaml``), checked before any row is made."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from referral.rules import SeedError, SeedErrors

DEMO_FILE = "demo.yaml"

Share = Annotated[float, Field(ge=0, le=1)]
Weights = dict[str, Annotated[float, Field(ge=0)]]
Counts = dict[str, Annotated[int, Field(ge=0)]]


class DemoSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    likely_share: Share
    possible_share: Share
    victims_2024: dict[str, Counts]
    totals_2024: Counts
    foreign_victims_2024: Counts
    total_victims_2024: Annotated[int, Field(gt=0)]
    migrant_nationalities: Weights
    state_weights: Weights
    other_state_weight: Annotated[float, Field(ge=0)]
    encounter_weights: Weights
    year_weights: dict[int, Annotated[float, Field(ge=0)]]
    until: datetime
    referral_outcomes: Weights
    rejection_reasons: Weights
    ad_hoc_share_of_gaps: Share
    consent_referral_share: Share
    consent_statistics_share: Share


def parse_demo(document: Any) -> dict[str, Any]:
    """The document as written, once it has every proportion the generator reads."""
    try:
        DemoSeed.model_validate(document)
    except ValidationError as exc:
        raise SeedErrors(
            [
                SeedError(DEMO_FILE, "", ".".join(str(p) for p in e["loc"]), e["msg"])
                for e in exc.errors()
            ]
        ) from None
    return dict(document)
