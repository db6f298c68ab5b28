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
        for each excluded service (its reasons are written from the shared tuples).

        Without ``indent``, each need's ``excluded`` listing (one object shared by every case
        with the same combination of facts) is encoded once and its text reused."""
        if options.get("indent") is not None or not options.keys() <= _FLAT_OPTIONS:
            return json.dumps(self._json(lang, True, copy=False), **options)
        ensure_ascii = options.get("ensure_ascii", True)
        item, colon = options.get("separators") or (", ", ": ")
        encoder = _encoder(ensure_ascii, item, colon)
        texts = self.catalogue.json_texts
        out = self._json(lang, False, copy=False, alerts=False)
        # The alerts' texts are the longest strings of a result and the same for every case
        # with the alert: each alert is encoded once per language, then its text reused.
        alerts = item.join(_alert_text(texts, self, alert, lang, encoder) for alert in self.alerts)
        tail = encoder.encode({"gaps": out.pop("gaps")})
        end = encoder.encode({"rules_version": out.pop("rules_version")})
        tail = f'{tail[:-1]}{item}"alerts"{colon}[{alerts}]{item}{end[1:]}'
        head = encoder.encode(out)  # screening, needs, options
        if self.excluded is None:
            return f"{head[:-1]}{item}{tail[1:]}"
        listings = item.join(
            f"{encoder.encode(need)}{colon}{_listing_text(texts, services, encoder)}"
            for need, services in self.excluded.items()
        )
        return f'{head[:-1]}{item}"excluded"{colon}{{{listings}}}{item}{tail[1:]}'

    def _json(
        self, lang: str, excluded: bool, *, copy: bool, alerts: bool = True
    ) -> dict[str, Any]:
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
        if alerts:
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


_FLAT_OPTIONS = frozenset({"ensure_ascii", "separators"})
JSON_TEXTS_KEPT = 8192  # encoded listings and alerts a catalogue keeps (a few MB at most)
_ENCODERS: dict[tuple[bool, str, str], json.JSONEncoder] = {}


def _encoder(ensure_ascii: bool, item: str, colon: str) -> json.JSONEncoder:
    """The encoder ``json.dumps`` makes for these options (it makes one per call)."""
    key = (ensure_ascii, item, colon)
    encoder = _ENCODERS.get(key)
    if encoder is None:
        encoder = _ENCODERS[key] = json.JSONEncoder(
            ensure_ascii=ensure_ascii, separators=(item, colon)
        )
    return encoder


def _listing_text(
    texts: dict[tuple[Any, ...], tuple[Any, str]],
    listing: Mapping[str, tuple[str, ...]],
    encoder: json.JSONEncoder,
) -> str:
    """``listing`` as JSON, encoded once per listing object and encoder. The entry keeps the
    listing itself, so its id cannot be reused by another object while the text is kept."""
    key = ("listing", id(listing), encoder)
    kept = texts.get(key)
    if kept is not None and kept[0] is listing:
        return kept[1]
    text = encoder.encode(dict(listing))
    if len(texts) >= JSON_TEXTS_KEPT:
        texts.clear()
    texts[key] = (listing, text)
    return text


def _alert_text(
    texts: dict[tuple[Any, ...], tuple[Any, str]],
    result: RoutingResult,
    alert: RaisedAlert,
    lang: str,
    encoder: json.JSONEncoder,
) -> str:
    """One alert as JSON in ``lang``, encoded once per alert, language and encoder."""
    key = ("alert", alert, lang, encoder)
    kept = texts.get(key)
    if kept is not None:
        return kept[1]
    text = encoder.encode(result._alert_json(alert, lang))
    if len(texts) >= JSON_TEXTS_KEPT:
        texts.clear()
    texts[key] = (alert, text)
    return text
