"""Rule seeds (indicators.yaml, thresholds.yaml, codes.yaml): parsed, checked, typed.

The parser takes the already loaded YAML documents (no file I/O here) and reports every
problem at once, each naming the file, the entry and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import contract
from .errors import SeedError, SeedErrors

LANGS = ("es", "en")
Texts = Mapping[str, str]

INDICATORS_FILE = "indicators.yaml"
THRESHOLDS_FILE = "thresholds.yaml"
CODES_FILE = "codes.yaml"

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Indicator:
    code: str
    dimension: str
    strength: str
    activity: bool
    label: Texts
    question: Texts
    help: Texts
    source: str

    def text(self, what: str, lang: str) -> str:
        texts: Texts = getattr(self, what)
        return texts.get(lang) or texts["es"]


@dataclass(frozen=True)
class Requirement:
    strengths: frozenset[str]
    at_least: int


@dataclass(frozen=True)
class FormRule:
    form: str
    indicators: frozenset[str]
    sectors_when_no_other_form: frozenset[str]
    fallback: bool


@dataclass(frozen=True)
class Thresholds:
    # A dimension is positive when any combination is met; a combination is met when
    # every requirement in it is (requirements of one combination count disjoint strengths).
    positive_when: tuple[tuple[Requirement, ...], ...]
    activity_dimension: str
    groups: Mapping[str, tuple[str, ...]]
    likely_adult: tuple[str, ...]
    likely_minor: tuple[str, ...]
    possible_strength: str
    forms: tuple[FormRule, ...]


@dataclass(frozen=True)
class CodeEntry:
    code: str
    label: Texts
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeLists:
    """The code sets a screening record is validated against (CONTRACT section 1)."""

    sexes: frozenset[str]
    settings: frozenset[str]
    migration_statuses: frozenset[str]
    encounters: frozenset[str]
    sectors: frozenset[str]
    vulnerabilities: frozenset[str]
    needs: frozenset[str]
    indicators: frozenset[str]
    nationalities: frozenset[str]
    states: frozenset[str]  # ISO 3166-2:MX codes, without "unknown"


@dataclass(frozen=True)
class RuleSeeds:
    indicators: tuple[Indicator, ...]
    thresholds: Thresholds
    lists: Mapping[str, tuple[CodeEntry, ...]]
    why: Mapping[str, Texts]
    canonical_json: str

    def codes(self, list_name: str) -> tuple[str, ...]:
        return tuple(e.code for e in self.lists[list_name])

    def code_lists(self, states: set[str] | frozenset[str]) -> CodeLists:
        return CodeLists(
            sexes=frozenset(self.codes("sexes")),
            settings=frozenset(self.codes("settings")),
            migration_statuses=frozenset(self.codes("migration_statuses")),
            encounters=frozenset(self.codes("encounters")),
            sectors=frozenset(self.codes("sectors")),
            vulnerabilities=frozenset(self.codes("vulnerabilities")),
            needs=frozenset(self.codes("needs")),
            indicators=frozenset(i.code for i in self.indicators),
            nationalities=frozenset(self.codes("nationalities")),
            states=frozenset(states),
        )


def seeds_digest(seeds: RuleSeeds) -> str:
    return hashlib.sha256(seeds.canonical_json.encode("utf-8")).hexdigest()[:12]


# Extra fields each code list carries beside code and label: name -> (required, kind).
_LIST_FIELDS: dict[str, dict[str, tuple[bool, str]]] = {
    "needs": {"description": (True, "texts")},
    "exclusion_reasons": {"gap": (True, "gap_texts")},
    "gap_reasons": {"gap": (True, "gap_texts")},
    "referral_reasons": {"gap": (False, "gap_texts")},
    "alerts": {"source": (True, "str"), "text": (True, "texts")},
}
_OPEN_LISTS = ("service_tags", "nationalities", "languages", "state_values")


class _Problems:
    def __init__(self) -> None:
        self.errors: list[SeedError] = []

    def add(self, file: str, entry: str, field: str, message: str) -> None:
        self.errors.append(SeedError(file, entry, field, message))


def _entry_name(list_name: str, index: int, item: object) -> str:
    code = item.get("code") if isinstance(item, dict) else None
    return f"{list_name}[{index}] ({code})" if isinstance(code, str) else f"{list_name}[{index}]"


def _check_texts(
    p: _Problems,
    file: str,
    entry: str,
    field: str,
    value: object,
    placeholders: tuple[str, ...] | None = (),
) -> dict[str, str] | None:
    """A {es, en} pair of non-empty strings; placeholders None means any are allowed."""
    if not isinstance(value, dict):
        p.add(file, entry, field, "must be a mapping with 'es' and 'en' texts")
        return None
    ok = True
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            p.add(file, entry, f"{field}.{lang}", "missing text")
            ok = False
    for key in value:
        if key not in LANGS:
            p.add(file, entry, f"{field}.{key}", "unknown language (only 'es' and 'en')")
            ok = False
    if not ok:
        return None
    if placeholders is not None:
        names = {lang: _placeholders(value[lang]) for lang in LANGS}
        for lang in LANGS:
            if names[lang] is None:
                p.add(file, entry, f"{field}.{lang}", "malformed {placeholder}")
                return None
            unknown = sorted(set(names[lang] or ()) - set(placeholders))
            if unknown:
                p.add(file, entry, f"{field}.{lang}", f"unknown placeholder(s) {unknown}")
                ok = False
        if ok and names["es"] != names["en"]:
            p.add(file, entry, field, "Spanish and English use different placeholders")
            ok = False
    return {lang: value[lang] for lang in LANGS} if ok else None


def _placeholders(text: str) -> frozenset[str] | None:
    try:
        return frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)
    except ValueError:
        return None


def _check_source(p: _Problems, file: str, entry: str, value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        p.add(file, entry, "source", "missing source (a report paragraph id or a law article)")
        return None
    return value


def _unknown_keys(p: _Problems, file: str, entry: str, item: dict, allowed: set[str]) -> None:
    for key in item:
        if key not in allowed:
            p.add(file, entry, str(key), "unknown field")


def _parse_indicators(p: _Problems, doc: object) -> tuple[Indicator, ...]:
    f = INDICATORS_FILE
    items = doc.get("indicators") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        p.add(f, "indicators", "", "the file must be a mapping with an 'indicators' list")
        return ()
    result: list[Indicator] = []
    seen: set[str] = set()
    allowed = {"code", "dimension", "strength", "activity", "label", "question", "help", "source"}
    for i, item in enumerate(items):
        entry = _entry_name("indicators", i, item)
        if not isinstance(item, dict):
            p.add(f, entry, "", "must be a mapping")
            continue
        _unknown_keys(p, f, entry, item, allowed)
        code = item.get("code")
        expected = contract.INDICATORS.get(code) if isinstance(code, str) else None
        if expected is None:
            p.add(f, entry, "code", f"unknown indicator code {code!r} (not in CONTRACT 3.1)")
        elif code in seen:
            p.add(f, entry, "code", f"duplicate indicator {code!r}")
        dimension, strength, activity = (
            item.get("dimension"),
            item.get("strength"),
            item.get("activity"),
        )
        if dimension not in contract.DIMENSIONS:
            p.add(f, entry, "dimension", f"unknown dimension {dimension!r}")
        elif expected and dimension != expected[0]:
            p.add(f, entry, "dimension", f"CONTRACT 3.1 puts {code} in {expected[0]}")
        if strength not in contract.STRENGTHS:
            p.add(f, entry, "strength", f"unknown strength {strength!r}")
        elif expected and strength != expected[1]:
            p.add(f, entry, "strength", f"CONTRACT 3.1 makes {code} {expected[1]}")
        if not isinstance(activity, bool):
            p.add(f, entry, "activity", "must be true or false")
        elif expected and activity != (code in contract.ACTIVITIES):
            p.add(f, entry, "activity", "does not match the activities of CONTRACT 2.1")
        texts = {
            what: _check_texts(p, f, entry, what, item.get(what))
            for what in ("label", "question", "help")
        }
        source = _check_source(p, f, entry, item.get("source"))
        if isinstance(code, str):
            seen.add(code)
        if expected and source and all(texts.values()) and isinstance(activity, bool):
            result.append(
                Indicator(
                    code=str(code),
                    dimension=str(dimension),
                    strength=str(strength),
                    activity=activity,
                    label=texts["label"] or {},
                    question=texts["question"] or {},
                    help=texts["help"] or {},
                    source=source,
                )
            )
    missing = [c for c in contract.INDICATORS if c not in seen]
    if missing:
        p.add(f, "indicators", "code", f"missing indicators of CONTRACT 3.1: {missing}")
    order = {c: n for n, c in enumerate(contract.INDICATORS)}
    return tuple(sorted(result, key=lambda ind: order[ind.code]))


def _parse_thresholds(p: _Problems, doc: object, form_codes: set[str]) -> Thresholds | None:
    f = THRESHOLDS_FILE
    if not isinstance(doc, dict):
        p.add(f, "", "", "the file must be a mapping")
        return None
    allowed = {
        "positive_when",
        "activity_dimension",
        "groups",
        "likely",
        "possible_when_strength_present",
        "forms",
        "source",
    }
    _unknown_keys(p, f, "thresholds", doc, allowed)
    _check_source(p, f, "thresholds", doc.get("source"))
    ok = True

    combos: list[tuple[Requirement, ...]] = []
    raw = doc.get("positive_when")
    if not isinstance(raw, list) or not raw:
        p.add(f, "positive_when", "", "must be a non-empty list of combinations")
        ok = False
        raw = []
    for i, combo in enumerate(raw):
        entry = f"positive_when[{i}]"
        if not isinstance(combo, list) or not combo:
            p.add(f, entry, "", "must be a non-empty list of {strengths, at_least}")
            ok = False
            continue
        reqs: list[Requirement] = []
        used: set[str] = set()
        for j, req in enumerate(combo):
            if not isinstance(req, dict) or set(req) != {"strengths", "at_least"}:
                p.add(f, entry, f"[{j}]", "must be a mapping {strengths: [...], at_least: n}")
                ok = False
                continue
            strengths, at_least = req["strengths"], req["at_least"]
            if (
                not isinstance(strengths, list)
                or not strengths
                or any(s not in contract.STRENGTHS for s in strengths)
            ):
                p.add(f, entry, f"[{j}].strengths", f"unknown strength in {strengths!r}")
                ok = False
                continue
            if set(strengths) & used:
                p.add(f, entry, f"[{j}].strengths", "strengths overlap within a combination")
                ok = False
            used |= set(strengths)
            if not isinstance(at_least, int) or isinstance(at_least, bool) or at_least < 1:
                p.add(f, entry, f"[{j}].at_least", "must be a whole number of at least 1")
                ok = False
                continue
            reqs.append(Requirement(frozenset(strengths), at_least))
        combos.append(tuple(reqs))

    activity_dimension = doc.get("activity_dimension")
    if activity_dimension not in contract.DIMENSIONS:
        p.add(f, "activity_dimension", "", f"unknown dimension {activity_dimension!r}")
        ok = False

    groups: dict[str, tuple[str, ...]] = {}
    raw_groups = doc.get("groups")
    if not isinstance(raw_groups, dict) or not raw_groups:
        p.add(f, "groups", "", "must map group names to lists of dimensions")
        ok = False
        raw_groups = {}
    for name, dims in raw_groups.items():
        if (
            not isinstance(dims, list)
            or not dims
            or any(d not in contract.DIMENSIONS for d in dims)
        ):
            p.add(f, f"groups.{name}", "", f"unknown dimension in {dims!r}")
            ok = False
            continue
        groups[str(name)] = tuple(dims)

    likely = doc.get("likely")
    likely_sets: dict[str, tuple[str, ...]] = {}
    if not isinstance(likely, dict) or set(likely) != {"adult", "minor"}:
        p.add(f, "likely", "", "must map 'adult' and 'minor' to lists of groups")
        ok = False
    else:
        for who in ("adult", "minor"):
            names = likely[who]
            if not isinstance(names, list) or not names or any(n not in groups for n in names):
                p.add(f, f"likely.{who}", "", f"unknown group in {names!r}")
                ok = False
                continue
            likely_sets[who] = tuple(names)

    possible_strength = doc.get("possible_when_strength_present")
    if possible_strength not in contract.STRENGTHS:
        p.add(f, "possible_when_strength_present", "", f"unknown strength {possible_strength!r}")
        ok = False

    forms: list[FormRule] = []
    raw_forms = doc.get("forms")
    if not isinstance(raw_forms, list):
        p.add(f, "forms", "", "must be a list of form rules")
        ok = False
        raw_forms = []
    seen_forms: list[str] = []
    for i, rule in enumerate(raw_forms):
        entry = f"forms[{i}]"
        if not isinstance(rule, dict):
            p.add(f, entry, "", "must be a mapping")
            ok = False
            continue
        entry = _entry_name("forms", i, {"code": rule.get("form")})
        _unknown_keys(
            p, f, entry, rule, {"form", "indicators", "sectors_when_no_other_form", "fallback"}
        )
        form = rule.get("form")
        if form not in form_codes:
            p.add(f, entry, "form", f"unknown form {form!r}")
            ok = False
            continue
        seen_forms.append(str(form))
        inds = rule.get("indicators", [])
        if not isinstance(inds, list) or any(c not in contract.INDICATORS for c in inds):
            p.add(f, entry, "indicators", f"unknown indicator in {inds!r}")
            ok = False
            inds = []
        sectors = rule.get("sectors_when_no_other_form", [])
        if not isinstance(sectors, list) or any(
            s not in contract.CODE_LISTS["sectors"] for s in sectors
        ):
            p.add(f, entry, "sectors_when_no_other_form", f"unknown sector in {sectors!r}")
            ok = False
            sectors = []
        fallback = rule.get("fallback", False)
        if not isinstance(fallback, bool):
            p.add(f, entry, "fallback", "must be true or false")
            ok = False
            fallback = False
        forms.append(FormRule(str(form), frozenset(inds), frozenset(sectors), fallback))
    if form_codes and sorted(seen_forms) != sorted(form_codes):
        p.add(f, "forms", "form", "must give exactly one rule per form of CONTRACT 3.6")
        ok = False
    if not ok or activity_dimension is None or possible_strength is None:
        return None
    return Thresholds(
        positive_when=tuple(combos),
        activity_dimension=str(activity_dimension),
        groups=groups,
        likely_adult=likely_sets["adult"],
        likely_minor=likely_sets["minor"],
        possible_strength=str(possible_strength),
        forms=tuple(forms),
    )


def _parse_codes(
    p: _Problems, doc: object
) -> tuple[dict[str, tuple[CodeEntry, ...]], dict[str, dict[str, str]]]:
    f = CODES_FILE
    lists: dict[str, tuple[CodeEntry, ...]] = {}
    why: dict[str, dict[str, str]] = {}
    if not isinstance(doc, dict):
        p.add(f, "", "", "the file must be a mapping of code lists")
        return lists, why
    known = set(contract.CODE_LISTS) | set(_OPEN_LISTS) | {"why"}
    for name in doc:
        if name not in known:
            p.add(f, str(name), "", "unknown code list")
    for name in (*contract.CODE_LISTS, *_OPEN_LISTS):
        items = doc.get(name)
        if not isinstance(items, list):
            p.add(f, name, "", "missing code list")
            continue
        extra_fields = _LIST_FIELDS.get(name, {})
        entries: list[CodeEntry] = []
        for i, item in enumerate(items):
            entry = _entry_name(name, i, item)
            if not isinstance(item, dict):
                p.add(f, entry, "", "must be a mapping with code and label")
                continue
            _unknown_keys(p, f, entry, item, {"code", "label", *extra_fields})
            code = item.get("code")
            pattern = {"nationalities": _COUNTRY, "languages": _LANGUAGE}.get(name, _CODE)
            if not isinstance(code, str) or not pattern.fullmatch(code):
                p.add(f, entry, "code", f"malformed code {code!r}")
                continue
            if any(e.code == code for e in entries):
                p.add(f, entry, "code", f"duplicate code {code!r}")
                continue
            label = _check_texts(p, f, entry, "label", item.get("label"))
            extra: dict[str, Any] = {}
            for key, (required, kind) in extra_fields.items():
                value = item.get(key)
                if value is None and not required:
                    continue
                if kind == "str":
                    if not isinstance(value, str) or not value.strip():
                        p.add(f, entry, key, "missing text")
                    else:
                        extra[key] = value
                else:
                    holes = contract.GAP_SENTENCE_PLACEHOLDERS if kind == "gap_texts" else ()
                    texts = _check_texts(p, f, entry, key, value, holes)
                    if texts:
                        extra[key] = texts
            if (
                name == "alerts"
                and code in contract.ALERT_SOURCES
                and extra.get("source") != contract.ALERT_SOURCES[code]
            ):
                p.add(f, entry, "source", "must be the source of CONTRACT 2.4, verbatim")
            if label:
                entries.append(CodeEntry(code, label, extra))
        codes = [e.code for e in entries]
        if name in contract.CODE_LISTS:
            expected = list(contract.CODE_LISTS[name])
            if codes != expected and len(entries) == len(items):
                unknown = [c for c in codes if c not in expected]
                missing = [c for c in expected if c not in codes]
                if unknown:
                    p.add(f, name, "code", f"unknown codes {unknown}")
                if missing:
                    p.add(f, name, "code", f"missing codes {missing}")
                if not unknown and not missing:
                    p.add(f, name, "", f"codes must follow the contract order {expected}")
        for must in contract.REQUIRED_SUBSETS.get(name, ()):
            if must not in codes:
                p.add(f, name, "code", f"missing code {must!r}")
        lists[name] = tuple(entries)
    raw_why = doc.get("why")
    if not isinstance(raw_why, dict):
        p.add(f, "why", "", "missing the 'why' sentence templates")
    else:
        for key in raw_why:
            if key not in contract.WHY_TEMPLATES:
                p.add(f, f"why.{key}", "", "unknown template")
        for key, why_holes in contract.WHY_TEMPLATES.items():
            if key not in raw_why:
                p.add(f, f"why.{key}", "", "missing template")
                continue
            texts = _check_texts(p, f, f"why.{key}", "text", raw_why[key], why_holes)
            if texts:
                why[key] = texts
    return lists, why


def parse_rule_seeds(indicators: object, thresholds: object, codes: object) -> RuleSeeds:
    """Check the three rule seed documents against the contract; raise SeedErrors if broken."""
    p = _Problems()
    lists, why = _parse_codes(p, codes)
    parsed_indicators = _parse_indicators(p, indicators)
    parsed_thresholds = _parse_thresholds(
        p, thresholds, {e.code for e in lists.get("forms", ())} or set(contract.CODE_LISTS["forms"])
    )
    if p.errors or parsed_thresholds is None:
        if not p.errors:  # pragma: no cover - thresholds only fail with an error recorded
            p.add(THRESHOLDS_FILE, "", "", "invalid thresholds")
        raise SeedErrors(p.errors)
    canonical = json.dumps(
        {"indicators": indicators, "thresholds": thresholds, "codes": codes},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return RuleSeeds(
        indicators=parsed_indicators,
        thresholds=parsed_thresholds,
        lists=lists,
        why=why,
        canonical_json=canonical,
    )
