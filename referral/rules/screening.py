"""Screening status by the ILO/EC Delphi method (CONTRACT 2.1) and forms (3.6).

The thresholds come from thresholds.yaml; this module only applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .contract import ScreeningStatus
from .record import ScreeningRecord
from .seeds import RuleSeeds


@dataclass(frozen=True)
class Screening:
    """The screening part of a routing result (CONTRACT 2.1 and 3.6)."""

    status: ScreeningStatus
    minor: bool
    forms: tuple[str, ...]
    positive: frozenset[str]  # positive dimensions
    present: tuple[tuple[str, tuple[str, ...]], ...]  # (dimension, present indicators)

    def to_dict(self) -> dict[str, Any]:
        positive = self.positive
        return {
            "status": self.status,
            "minor": self.minor,
            "forms": list(self.forms),
            "dimensions": {
                dim: {"positive": dim in positive, "indicators": list(codes)}
                for dim, codes in self.present
            },
        }


class ScreeningRules:
    """The rule seeds turned into lookups, built once per catalogue."""

    def __init__(self, seeds: RuleSeeds) -> None:
        t = seeds.thresholds
        self.dimensions = seeds.codes("dimensions")
        self.order = {ind.code: n for n, ind in enumerate(seeds.indicators)}
        self.dimension_of = {ind.code: ind.dimension for ind in seeds.indicators}
        self.strength_of = {ind.code: ind.strength for ind in seeds.indicators}
        self.activities = frozenset(ind.code for ind in seeds.indicators if ind.activity)
        self.positive_when = t.positive_when
        self.activity_dimension = t.activity_dimension
        self.likely_adult = tuple(t.groups[g] for g in t.likely_adult)
        self.likely_minor = tuple(t.groups[g] for g in t.likely_minor)
        self.possible_strength = t.possible_strength
        form_order = {code: n for n, code in enumerate(seeds.codes("forms"))}
        rules = sorted(t.forms, key=lambda r: form_order[r.form])
        self.indicator_forms = tuple((r.form, r.indicators) for r in rules if r.indicators)
        self.sector_forms = tuple(
            (r.form, r.sectors_when_no_other_form) for r in rules if r.sectors_when_no_other_form
        )
        self.fallback_forms = tuple(r.form for r in rules if r.fallback)
        self.form_order = form_order
        self._cache: dict[tuple[tuple[str, ...], bool, str | None], Screening] = {}
        # strengths of a dimension's present indicators (sorted) -> positive; few exist
        self._positive: dict[tuple[str, ...], bool] = {}

    def dimension_positive(self, present: list[str], dimension: str) -> bool:
        if dimension == self.activity_dimension and any(c in self.activities for c in present):
            return True
        strengths = tuple(sorted(self.strength_of[code] for code in present))
        positive = self._positive.get(strengths)
        if positive is None:
            counts: dict[str, int] = {}
            for strength in strengths:
                counts[strength] = counts.get(strength, 0) + 1
            positive = self._positive[strengths] = any(
                all(sum(counts.get(s, 0) for s in req.strengths) >= req.at_least for req in combo)
                for combo in self.positive_when
            )
        return positive

    def screen(self, record: ScreeningRecord) -> Screening:
        key = (record.indicators, record.minor, record.sector)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        by_dimension: dict[str, list[str]] = {d: [] for d in self.dimensions}
        for code in sorted(record.indicators, key=self.order.__getitem__):
            by_dimension[self.dimension_of[code]].append(code)
        positive = frozenset(
            d for d, codes in by_dimension.items() if self.dimension_positive(codes, d)
        )
        groups = self.likely_minor if record.minor else self.likely_adult
        if all(any(d in positive for d in group) for group in groups):
            status = ScreeningStatus.likely
        elif positive or any(
            self.strength_of[c] == self.possible_strength for c in record.indicators
        ):
            status = ScreeningStatus.possible
        else:
            status = ScreeningStatus.not_indicated
        forms: list[str] = []
        if status != ScreeningStatus.not_indicated:
            present = set(record.indicators)
            forms = [form for form, codes in self.indicator_forms if codes & present]
            if not forms and record.sector is not None:
                forms = [form for form, sectors in self.sector_forms if record.sector in sectors]
            if not forms:
                forms = list(self.fallback_forms)
            forms.sort(key=self.form_order.__getitem__)
        result = Screening(
            status=status,
            minor=record.minor,
            forms=tuple(forms),
            positive=positive,
            present=tuple((d, tuple(c)) for d, c in by_dimension.items()),
        )
        if len(self._cache) < 65536:  # bounded: indicator sets repeat a lot in practice
            self._cache[key] = result
        return result
