"""Which report recommendation each gap reason bears on (seeds/recommendations.yaml).

Gap reasons are the exclusion reasons of CONTRACT 2.3, ``none_listed`` and ``ad_hoc``, and
the decline codes of CONTRACT 5 (``no_capacity``, ``not_eligible``, ``outside_service_area``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from referral.rules import RuleSeeds, SeedError, SeedErrors
from referral.rules.contract import DECLINE_REASONS
from referral.seeds.report import Paragraph

FILE = "recommendations.yaml"


@dataclass(frozen=True)
class Recommendation:
    reason: str
    paragraph: Paragraph
    because: Mapping[str, str]


def gap_reason_codes(rules: RuleSeeds) -> tuple[str, ...]:
    """Every code a gap record may carry as a reason, in display order."""
    return (
        *rules.codes("gap_reasons"),
        *rules.codes("exclusion_reasons"),
        *DECLINE_REASONS,
    )


def parse_recommendations(
    document: Any, report: Mapping[str, Paragraph], rules: RuleSeeds
) -> dict[str, Recommendation]:
    """Validate the mapping; raise SeedErrors naming every bad entry and field."""
    errors: list[SeedError] = []
    if not isinstance(document, dict) or not isinstance(document.get("reasons"), list):
        raise SeedErrors([SeedError(FILE, "", "reasons", "must be a list under 'reasons'")])
    known = gap_reason_codes(rules)
    result: dict[str, Recommendation] = {}
    for index, item in enumerate(document["reasons"]):
        label = f"reasons[{index}]"
        if not isinstance(item, dict):
            errors.append(SeedError(FILE, label, "", "must be a mapping"))
            continue
        reason = item.get("reason")
        if isinstance(reason, str):
            label += f" ({reason})"
        for key in item:
            if key not in ("reason", "recommendation", "because"):
                errors.append(SeedError(FILE, label, str(key), "unknown field"))
        if reason not in known:
            errors.append(SeedError(FILE, label, "reason", f"unknown gap reason {reason!r}"))
        elif reason in result:
            errors.append(SeedError(FILE, label, "reason", "is listed twice"))
        paragraph_id = item.get("recommendation")
        paragraph = report.get(paragraph_id) if isinstance(paragraph_id, str) else None
        if paragraph is None or paragraph.section != "RECOMMENDATIONS":
            errors.append(
                SeedError(FILE, label, "recommendation", "must be a RECOMMENDATIONS ¶N id")
            )
        because = item.get("because")
        if not isinstance(because, dict) or any(
            not isinstance(because.get(lang), str) or not because[lang].strip()
            for lang in ("es", "en")
        ):
            errors.append(SeedError(FILE, label, "because", "needs 'es' and 'en' texts"))
        if paragraph is not None and reason in known and isinstance(because, dict):
            result[str(reason)] = Recommendation(str(reason), paragraph, dict(because))
    for reason in known:
        if reason not in result and not any(e.entry.endswith(f"({reason})") for e in errors):
            errors.append(SeedError(FILE, "reasons", reason, "gap reason has no recommendation"))
    if errors:
        raise SeedErrors(errors)
    return result
