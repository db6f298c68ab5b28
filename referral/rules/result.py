"""The routing result of CONTRACT section 2 as typed, frozen values.

A result keeps codes and their parameters only (why an option fits, which alerts hold);
its texts are rendered from the seeds when it is written out, by :meth:`RoutingResult.to_json`,
so one result reads in either language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .contract import Why
from .schema import LANGS
from .screening import Screening

if TYPE_CHECKING:
    from .catalogue import Catalogue


@dataclass(frozen=True, slots=True)
class WhyItFits:
    """One reason an option fits: a "why" sentence and its parameter."""

    why: Why
    value: str | int | None = None  # the state, form or language code, or the free places


@dataclass(frozen=True, slots=True)
class Option:
    service: str
    rank: int
    why: tuple[WhyItFits, ...]
    confirm: tuple[str, ...] = ()  # what to check with the service first (CONTRACT 2.3)


@dataclass(frozen=True, slots=True)
class NeedLine:
    need: str
    auto: bool  # added by a rule of CONTRACT 2.2, not asked for by the screener


@dataclass(frozen=True, slots=True)
class RoutingGap:
    need: str
    reasons: tuple[str, ...]  # alphabetical


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    code: str  # its text and source come from the seeds' alert of this code
    condition: str | None = None  # "if_foreign": holds only if the person is not Mexican


@dataclass(frozen=True)
class RoutingResult:
    screening: Screening
    needs: tuple[NeedLine, ...]
    options: Mapping[str, tuple[Option, ...]]  # every need, in need order
    # need -> service id -> reasons; None when routed without the listing
    excluded: Mapping[str, Mapping[str, tuple[str, ...]]] | None
    gaps: tuple[RoutingGap, ...]
    alerts: tuple[RaisedAlert, ...]
    rules_version: str
    catalogue: Catalogue = field(compare=False, repr=False)  # the texts to render with

    def to_json(self, lang: str = "es", *, excluded: bool = True) -> dict[str, Any]:
        """CONTRACT section 2 with texts in ``lang``; ``excluded=False`` leaves that key out."""
        return self._json(lang, excluded, copy=True)

    def dumps(self, lang: str = "es", **options: Any) -> str:
        """``json.dumps(self.to_json(lang), **options)``, the same text, without a list copied
        for each excluded service (its reasons are written from the shared tuples)."""
        return json.dumps(self._json(lang, True, copy=False), **options)

    def _json(self, lang: str, excluded: bool, *, copy: bool) -> dict[str, Any]:
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
        why = self.catalogue.why
        out: dict[str, Any] = {
            "screening": self.screening.to_dict(),
            "needs": [{"need": n.need, "auto": n.auto} for n in self.needs],
            "options": {
                need: [
                    {
                        "service": o.service,
                        "rank": o.rank,
                        "why": [why(w.why, lang, w.value) for w in o.why],
                        "confirm": list(o.confirm),
                    }
                    for o in options
                ]
                for need, options in self.options.items()
            },
        }
        if excluded and self.excluded is not None:
            out["excluded"] = {
                need: (
                    {sid: list(reasons) for sid, reasons in services.items()}
                    if copy
                    else dict(services)
                )
                for need, services in self.excluded.items()
            }
        out["gaps"] = [{"need": g.need, "reasons": list(g.reasons)} for g in self.gaps]
        out["alerts"] = [self._alert_json(a, lang) for a in self.alerts]
        out["rules_version"] = self.rules_version
        return out

    def _alert_json(self, alert: RaisedAlert, lang: str) -> dict[str, Any]:
        source, text, if_foreign_text = self.catalogue.alerts[alert.code]
        if alert.condition is not None and if_foreign_text is not None:
            text = if_foreign_text
        out: dict[str, Any] = {"code": alert.code, "source": source[lang], "text": text[lang]}
        if alert.condition is not None:
            out["condition"] = alert.condition
        return out

    @property
    def status(self) -> str:
        return self.screening.status

    def gap_needs(self) -> set[str]:
        return {g.need for g in self.gaps}
