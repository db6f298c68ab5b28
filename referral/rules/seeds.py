"""Rule seeds (indicators.yaml, thresholds.yaml, codes.yaml): their schemas, checked against
the contract.

The parser takes the already loaded YAML documents (no file I/O here) and reports every
problem at once, each naming the file, the entry and the field, with the messages and in
the order seed authors have always read them.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    field_validator,
    model_validator,
)

from . import contract
from .contract import MARKING_ANSWERS, Dimension, QuestionAnswer, Sector, Strength
from .errors import SeedError, SeedErrors
from .schema import (
    LANGS,
    MODEL_CONFIG,
    Code,
    Found,
    FromList,
    FromStr,
    NonBlank,
    NonEmpty,
    Problem,
    TextDict,
    Texts,
    as_dict,
    as_list,
    cross_checked,
    dotted,
    entry_name,
    first_under,
    found_in,
    in_entry,
    line,
    shape_broken,
    sub_order,
    text_message,
)

INDICATORS_FILE = "indicators.yaml"
THRESHOLDS_FILE = "thresholds.yaml"
CODES_FILE = "codes.yaml"

MSG_SOURCE = "missing source (a report paragraph id or a law article)"
MSG_BOOL = "must be true or false"


class _Report:
    """The problems of one file, listed in the order the seed checks have always used."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[tuple[tuple[Any, ...], str, str, str]] = []

    def add(self, order: tuple[Any, ...], entry: str, field: str, message: str) -> None:
        self.items.append((order, entry, field, message))

    def errors(self) -> list[SeedError]:
        ordered = sorted(enumerate(self.items), key=lambda p: (p[1][0], p[0]))
        return [SeedError(self.file, e, f, m) for _, (_, e, f, m) in ordered]


def _message(schema: type[BaseModel], f: Found, given: Mapping[Any, Any]) -> str:
    """A problem of one field of an entry: our check's message, or the field's own."""
    name = f.loc[0]
    if f.message:
        return f.message
    if name not in schema.model_fields:
        return "unknown field"
    template: str | None = getattr(schema, "MESSAGES", {}).get(name)
    if template is None:
        return text_message(f)
    return template % (given.get(name),) if "%r" in template else template


# --- texts with placeholders ----------------------------------------------------------------


def _placeholders(text: str) -> frozenset[str] | None:
    try:
        return frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)
    except ValueError:
        return None


def _with_placeholders(allowed: Sequence[str]) -> AfterValidator:
    """Both texts are well formed and use the same placeholders, all among ``allowed``."""

    def check(texts: dict[str, str]) -> dict[str, str]:
        found: dict[str, frozenset[str]] = {}
        lines = []
        for lang in LANGS:
            names = _placeholders(texts[lang])
            if names is None:  # the first malformed text is all that is said
                lines.append(line((lang,), "malformed", texts, "malformed {placeholder}"))
                break
            unknown = sorted(names - set(allowed))
            if unknown:
                message = f"unknown placeholder(s) {unknown}"
                lines.append(line((lang,), "placeholders", texts, message))
            found[lang] = names
        else:
            if not lines and found["es"] != found["en"]:
                message = "Spanish and English use different placeholders"
                lines.append(line((), "placeholders", texts, message))
        if lines:
            raise ValidationError.from_exception_data("texts", lines)  # type: ignore[arg-type]
        return texts

    return AfterValidator(check)


# A label, question or help text: both languages, no placeholder.
Label = Annotated[TextDict, _with_placeholders(())]
# A gap sentence ("Nothing fits because: ..."): may name the need and the state.
GapTexts = Annotated[TextDict, _with_placeholders(contract.GAP_SENTENCE_PLACEHOLDERS)]


# --- indicators.yaml --------------------------------------------------------------------


def _indicator_code(value: str) -> str:
    if value not in contract.INDICATORS:
        raise Problem("unknown_indicator")
    return value


IndicatorCode = Annotated[str, FromStr, AfterValidator(_indicator_code)]


def _marking_answer(value: str) -> str:
    if value not in MARKING_ANSWERS:
        raise Problem("marked_by")
    return value


# The answer to the question that marks the indicator present: "yes" or "no".
MarkingAnswer = Annotated[str, FromStr, AfterValidator(_marking_answer)]


class Indicator(BaseModel):
    """An indicator of CONTRACT 3.1 with its texts for the screener and its source."""

    model_config = MODEL_CONFIG
    MESSAGES: ClassVar[dict[str, str]] = {
        "code": "unknown indicator code %r (not in CONTRACT 3.1)",
        "dimension": "unknown dimension %r",
        "strength": "unknown strength %r",
        "activity": MSG_BOOL,
        "marked_by": "must be yes or no: the answer to the question that marks the indicator",
        "observation": MSG_BOOL,
        "source": MSG_SOURCE,
    }
    code: IndicatorCode
    dimension: Code[Dimension]
    strength: Code[Strength]
    activity: StrictBool
    label: Label
    question: Label
    # Which answer to the question marks the indicator present ("no" to "Do you have your
    # documents?"): a question is never answered backwards.
    marked_by: MarkingAnswer
    # The screener answers it from what they observed: the person is not asked it.
    observation: StrictBool = False
    help: Label
    # The report's paragraph id (named in the reader's language by the ``cite`` filter) or
    # another source, in each language.
    source: Label

    @field_validator("dimension", "strength", "activity")
    @classmethod
    def _as_the_contract_says(cls, value: Any, info: ValidationInfo) -> Any:
        code = info.data.get("code")
        if code is None:  # an unknown code: nothing to compare with
            return value
        dimension, strength = contract.INDICATORS[code]
        if info.field_name == "dimension" and value != dimension:
            raise Problem("contract", f"CONTRACT 3.1 puts {code} in {dimension}")
        if info.field_name == "strength" and value != strength:
            raise Problem("contract", f"CONTRACT 3.1 makes {code} {strength}")
        if info.field_name == "activity" and value != (code in contract.ACTIVITIES):
            raise Problem("contract", "does not match the activities of CONTRACT 2.1")
        return value

    def text(self, what: str, lang: str) -> str:
        texts: Texts = getattr(self, what)
        return texts.get(lang) or texts["es"]

    @property
    def answers(self) -> tuple[str, ...]:
        """The answers offered: an observation is the screener's, nobody declines it."""
        if self.observation:
            return tuple(a for a in QuestionAnswer if a != QuestionAnswer.prefers_not_to_say)
        return tuple(QuestionAnswer)


def indicators_from_answers(
    answers: Mapping[str, str], indicators: Iterable[Indicator]
) -> list[str]:
    """The indicators a screening's answers mark, in the seeds' order: only the answer the
    seeds name marks one ("no" to "Do you have your documents?"); every other is absent."""
    return [i.code for i in indicators if answers.get(i.code) == i.marked_by]


def _every_indicator_once(
    items: list[Any], found: list[Found], info: ValidationInfo
) -> Iterable[dict[str, Any]]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        code = as_dict(item).get("code")
        if not isinstance(code, str):
            continue
        if code in contract.INDICATORS and code in seen:
            yield line((i, "code"), "duplicate", code, f"duplicate indicator {code!r}")
        seen.add(code)
    missing = [c for c in contract.INDICATORS if c not in seen]
    if missing:
        message = f"missing indicators of CONTRACT 3.1: {missing}"
        yield line((), "missing", missing, message)


_INDICATORS = TypeAdapter(
    Annotated[list[Indicator], WrapValidator(cross_checked(_every_indicator_once)), FromList]
)
_INDICATOR_FIELDS = tuple(Indicator.model_fields)


def _parse_indicators(report: _Report, doc: object) -> tuple[Indicator, ...]:
    items = as_dict(doc).get("indicators")
    if not isinstance(items, list):
        report.add((), "indicators", "", "the file must be a mapping with an 'indicators' list")
        return ()
    try:
        parsed = _INDICATORS.validate_python(items)
    except ValidationError as exc:
        for f in found_in(exc):
            if not f.loc:  # the indicators none of the entries gave, after every entry
                report.add((1,), "indicators", "code", f.message)
                continue
            i, rest = f.loc[0], f.loc[1:]
            entry = entry_name("indicators", i, items[i])
            order = (0, i, *in_entry(rest, items[i], _INDICATOR_FIELDS))
            if not rest:
                report.add(order, entry, "", "must be a mapping")
            else:
                message = _message(Indicator, Found(rest, f.kind, f.value, f.message), items[i])
                report.add(order, entry, dotted(rest), message)
        return ()
    rank = {c: n for n, c in enumerate(contract.INDICATORS)}
    return tuple(sorted(parsed, key=lambda ind: rank[ind.code]))


# --- thresholds.yaml --------------------------------------------------------------------


class Requirement(BaseModel):
    """At least ``at_least`` present indicators of these strengths."""

    model_config = MODEL_CONFIG
    strengths: Annotated[frozenset[Code[Strength]], NonEmpty, FromList]
    at_least: Annotated[StrictInt, Field(ge=1)]


def _disjoint(
    combo: list[Any], found: list[Found], info: ValidationInfo
) -> Iterable[dict[str, Any]]:
    """The strengths of one combination do not overlap (each counts its own indicators)."""
    used: set[Hashable] = set()
    for j, requirement in enumerate(combo):
        if shape_broken(found, (j,)) or any(f.loc[:2] == (j, "strengths") for f in found):
            continue
        strengths = set(requirement["strengths"])
        if strengths & used:
            message = "strengths overlap within a combination"
            yield line((j, "strengths"), "overlap", requirement["strengths"], message)
        used |= strengths


# Requirements that must all be met.
Combination = Annotated[
    tuple[Requirement, ...], NonEmpty, WrapValidator(cross_checked(_disjoint)), FromList
]


def _form_code(value: str, info: ValidationInfo) -> str:
    if value not in (info.context or {})["form_codes"]:
        raise Problem("unknown_form")
    return value


class FormRule(BaseModel):
    """When a form of exploitation (CONTRACT 3.6) is derived."""

    model_config = MODEL_CONFIG
    MESSAGES: ClassVar[dict[str, str]] = {
        "form": "unknown form %r",
        "indicators": "unknown indicator in %r",
        "sectors_when_no_other_form": "unknown sector in %r",
        "fallback": MSG_BOOL,
    }
    form: Annotated[str, FromStr, AfterValidator(_form_code)]
    indicators: Annotated[frozenset[IndicatorCode], FromList] = frozenset()
    sectors_when_no_other_form: Annotated[frozenset[Code[Sector]], FromList] = frozenset()
    fallback: StrictBool = False


GroupNames = Annotated[tuple[Annotated[str, FromStr], ...], NonEmpty, FromList]


class Likely(BaseModel):
    """The groups that must each hold a positive dimension for the status to be likely."""

    model_config = MODEL_CONFIG
    adult: GroupNames
    minor: GroupNames


def _str_key(value: object) -> str:
    return str(value)


def _across_thresholds(
    data: Any, found: list[Found], info: ValidationInfo
) -> Iterable[dict[str, Any]]:
    """``likely`` names groups that are sound; each form of CONTRACT 3.6 gets one rule."""
    groups = data.get("groups")
    valid_groups: set[str] = set()
    if isinstance(groups, dict) and not any(f.loc == ("groups",) for f in found):
        broken = {f.loc[1] for f in found if f.loc[:1] == ("groups",)}
        valid_groups = {str(name) for name in groups if name not in broken}
    likely = data.get("likely")
    if isinstance(likely, dict) and not shape_broken(found, ("likely",)):
        for who in ("adult", "minor"):
            if any(f.loc[:2] == ("likely", who) for f in found):
                continue
            if any(not isinstance(n, str) or n not in valid_groups for n in likely[who]):
                yield line(("likely", who), "unknown_group", likely[who])
    form_codes = (info.context or {})["form_codes"]
    rules = as_list(data.get("forms"))
    forms = [as_dict(rule).get("form") for rule in rules if isinstance(rule, dict)]
    seen = [str(f) for f in forms if isinstance(f, Hashable) and f in form_codes]
    if form_codes and sorted(seen) != sorted(form_codes):
        message = "must give exactly one rule per form of CONTRACT 3.6"
        yield line(("forms",), "incomplete", rules, message)


class Thresholds(BaseModel):
    """A dimension is positive when any combination is met; a combination is met when
    every requirement in it is (requirements of one combination count disjoint strengths).
    Fields in the order they are checked."""

    model_config = MODEL_CONFIG
    source: NonBlank
    positive_when: Annotated[tuple[Combination, ...], NonEmpty, FromList]
    activity_dimension: Code[Dimension]
    groups: Annotated[
        dict[
            Annotated[str, BeforeValidator(_str_key)],
            Annotated[tuple[Code[Dimension], ...], NonEmpty, FromList],
        ],
        NonEmpty,
    ]
    likely: Likely
    possible_when_strength_present: Code[Strength]
    forms: Annotated[tuple[FormRule, ...], FromList]

    @model_validator(mode="wrap")
    @classmethod
    def _across_fields(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        return cross_checked(_across_thresholds)(data, handler, info)

    @property
    def likely_adult(self) -> tuple[str, ...]:
        return self.likely.adult

    @property
    def likely_minor(self) -> tuple[str, ...]:
        return self.likely.minor

    @property
    def possible_strength(self) -> str:
        return self.possible_when_strength_present


_THRESHOLD_FIELDS = tuple(Thresholds.model_fields)
_FORM_RULE_FIELDS = tuple(FormRule.model_fields)


def _parse_thresholds(report: _Report, doc: object, form_codes: set[str]) -> Thresholds | None:
    if not isinstance(doc, dict):
        report.add((), "", "", "the file must be a mapping")
        return None
    try:
        return Thresholds.model_validate(doc, context={"form_codes": form_codes})
    except ValidationError as exc:
        found = found_in(exc)
        for f in found:
            _threshold_error(report, f, doc, found)
        return None


def _threshold_error(report: _Report, f: Found, doc: dict[str, Any], found: list[Found]) -> None:
    """One problem of thresholds.yaml named by entry and field. Within a requirement, a
    group, ``likely`` or a form rule, the first problem is the one reported."""
    loc, name = f.loc, f.loc[0]
    order = in_entry(loc, doc, _THRESHOLD_FIELDS)
    given: Any = doc.get(name)
    if name not in _THRESHOLD_FIELDS:
        report.add(order, "thresholds", str(name), "unknown field")
    elif name == "source":
        report.add(order, "thresholds", "source", MSG_SOURCE)
    elif name == "activity_dimension":
        report.add(order, name, "", f"unknown dimension {given!r}")
    elif name == "possible_when_strength_present":
        report.add(order, name, "", f"unknown strength {given!r}")
    elif name == "positive_when":
        _combination_error(report, f, order[:2], given, found)
    elif name == "groups":
        if len(loc) == 1:
            report.add(order, name, "", "must map group names to lists of dimensions")
        elif first_under(f, found, loc[:2]):
            at = (*order[:2], list(given).index(loc[1]) if loc[1] in given else 0)
            report.add(at, f"groups.{loc[1]}", "", f"unknown dimension in {given[loc[1]]!r}")
    elif name == "likely":
        if shape_broken(found, ("likely",)):
            if first_under(f, found, ("likely",)):
                message = "must map 'adult' and 'minor' to lists of groups"
                report.add(order[:2], "likely", "", message)
        elif first_under(f, found, loc[:2]):
            at = (*order[:2], ("adult", "minor").index(loc[1]))
            report.add(at, f"likely.{loc[1]}", "", f"unknown group in {given[loc[1]]!r}")
    elif f.message:  # every form must have one rule
        report.add((9,), "forms", "form", f.message)
    elif len(loc) == 1:
        report.add(order, "forms", "", "must be a list of form rules")
    elif len(loc) == 2:
        report.add(order, f"forms[{loc[1]}]", "", "must be a mapping")
    else:
        _form_rule_error(report, f, order[:3], given[loc[1]], found)


def _combination_error(
    report: _Report, f: Found, at: tuple[Any, ...], given: Any, found: list[Found]
) -> None:
    """positive_when, positive_when[i], or its requirement [j]: its shape, its strengths,
    then its at_least (left unsaid when the strengths are broken)."""
    loc = f.loc
    if len(loc) == 1:
        report.add(at, "positive_when", "", "must be a non-empty list of combinations")
        return
    i, entry = loc[1], f"positive_when[{loc[1]}]"
    if len(loc) == 2:
        report.add((*at, i), entry, "", "must be a non-empty list of {strengths, at_least}")
        return
    j = loc[2]
    at = (*at, i, j)
    inside = [Found(e.loc[2:], e.kind, e.value) for e in found if e.loc[:2] == loc[:2]]
    if shape_broken(inside, (j,)):
        if first_under(f, found, loc[:3]):
            report.add(at, entry, f"[{j}]", "must be a mapping {strengths: [...], at_least: n}")
    elif f.message:  # overlapping strengths
        report.add((*at, 1), entry, f"[{j}].strengths", f.message)
    elif loc[3] == "strengths":
        if first_under(f, found, loc[:4]):
            strengths = given[i][j]["strengths"]
            report.add((*at, 0), entry, f"[{j}].strengths", f"unknown strength in {strengths!r}")
    elif not any(e.loc[:4] == (*loc[:3], "strengths") and not e.message for e in found):
        report.add((*at, 2), entry, f"[{j}].at_least", "must be a whole number of at least 1")


def _form_rule_error(
    report: _Report, f: Found, at: tuple[Any, ...], rule: dict[str, Any], found: list[Found]
) -> None:
    """A rule with an unknown form says only that (and its unknown fields)."""
    i, field = f.loc[1], f.loc[2]
    entry = entry_name("forms", i, rule, key="form")
    order = (*at, *in_entry(f.loc[2:], rule, _FORM_RULE_FIELDS)[:2])
    unknown_form = any(e.loc[:3] == ("forms", i, "form") for e in found)
    known = field in _FORM_RULE_FIELDS
    if known and ((unknown_form and field != "form") or not first_under(f, found, f.loc[:3])):
        return
    report.add(
        order, entry, str(field), _message(FormRule, Found(f.loc[2:], f.kind, f.value), rule)
    )


# --- codes.yaml -------------------------------------------------------------------------


class CodeEntry(BaseModel):
    """A code of a list in codes.yaml with its label; ``extra`` holds the list's own texts."""

    model_config = MODEL_CONFIG
    EXTRA: ClassVar[tuple[str, ...]] = ()
    MESSAGES: ClassVar[dict[str, str]] = {"source": "missing text"}
    code: Annotated[str, FromStr, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    label: Label

    @property
    def extra(self) -> dict[str, Any]:
        """The entry's fields beside code and label that are set, in the seed's order."""
        values = {name: getattr(self, name) for name in self.EXTRA}
        return {name: value for name, value in values.items() if value is not None}


class CountryEntry(CodeEntry):
    code: Annotated[str, FromStr, StringConstraints(pattern=r"^[A-Z]{2}$")]


class LanguageEntry(CodeEntry):
    code: Annotated[str, FromStr, StringConstraints(pattern=r"^[a-z]{2,3}$")]


class NeedEntry(CodeEntry):
    EXTRA = ("description",)
    description: Label


class ReasonEntry(CodeEntry):
    """An exclusion or gap reason, with its sentence for "Nothing fits because: ..."."""

    EXTRA = ("gap",)
    gap: GapTexts


class ReferralReasonEntry(CodeEntry):
    EXTRA = ("gap",)
    gap: GapTexts | None = None


def _contract_source(
    data: Any, found: list[Found], info: ValidationInfo
) -> Iterable[dict[str, Any]]:
    """An alert of CONTRACT 2.4 cites the contract's source, verbatim in English."""
    code = data.get("code")
    if isinstance(code, str) and code in contract.ALERT_SOURCES:
        sound = not any(f.loc[:1] == ("source",) for f in found)
        source = data.get("source")
        english = source.get("en") if isinstance(source, dict) else None
        if not sound or english != contract.ALERT_SOURCES[code]:
            message = "must be the source of CONTRACT 2.4, verbatim"
            yield line(("source",), "alert_source", data.get("source"), message)
    if code in contract.FOREIGN_VICTIM_ALERTS and not data.get("if_foreign_text"):
        message = "needs the text for a possibly foreign person (if the person is not Mexican...)"
        yield line(("if_foreign_text",), "alert_source", None, message)


class AlertEntry(CodeEntry):
    # The source in the reader's language; if_foreign_text: the alert's text when it holds
    # only because the person is possibly foreign ("if the person is not Mexican...");
    # right: the right the alert names, in plain words for the person (the rights sheet).
    EXTRA = ("source", "text", "if_foreign_text", "right")
    source: Label
    text: Label
    if_foreign_text: Label | None = None
    right: Label | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _verbatim_source(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        return cross_checked(_contract_source)(data, handler, info)


# Code list -> the schema of its entries (every other list: CodeEntry).
_ENTRIES: dict[str, type[CodeEntry]] = {
    "needs": NeedEntry,
    "exclusion_reasons": ReasonEntry,
    "gap_reasons": ReasonEntry,
    "referral_reasons": ReferralReasonEntry,
    "alerts": AlertEntry,
    "nationalities": CountryEntry,
    "languages": LanguageEntry,
}
_OPEN_LISTS = ("service_tags", "nationalities", "languages", "state_values")

# The "why" sentences of options, each with the placeholders it must use.
_WHY_FIELDS: dict[str, Any] = {
    key: (Annotated[TextDict, _with_placeholders(holes)], ...)
    for key, holes in contract.WHY_TEMPLATES.items()
}
WhyTemplates: type[BaseModel] = create_model("WhyTemplates", __config__=MODEL_CONFIG, **_WHY_FIELDS)
_WHY_KEYS = list(contract.WHY_TEMPLATES)


def _parse_codes(
    report: _Report, doc: object
) -> tuple[dict[str, tuple[CodeEntry, ...]], dict[str, dict[str, str]], dict[str, list[str]]]:
    """The code lists, the "why" templates, and the codes each list gave (when a list is
    broken: the codes of its entries whose code and label are sound)."""
    lists: dict[str, tuple[CodeEntry, ...]] = {}
    codes: dict[str, list[str]] = {}
    if not isinstance(doc, dict):
        report.add((), "", "", "the file must be a mapping of code lists")
        return lists, {}, codes
    names = (*contract.CODE_LISTS, *_OPEN_LISTS)
    for n, name in enumerate(doc):
        if name not in (*names, "why"):
            report.add((0, n), str(name), "", "unknown code list")
    for n, name in enumerate(names):
        items = doc.get(name)
        if isinstance(items, list):
            lists[name], codes[name] = _parse_code_list(report, (1, n), name, items)
        else:
            report.add((1, n), name, "", "missing code list")
    why = doc.get("why")
    if not isinstance(why, dict):
        report.add((2,), "why", "", "missing the 'why' sentence templates")
        return lists, {}, codes
    try:
        return lists, WhyTemplates.model_validate(why).model_dump(), codes
    except ValidationError as exc:
        for f in found_in(exc):
            key = f.loc[0]
            entry = f"why.{key}"
            if key not in contract.WHY_TEMPLATES:
                report.add((2, 0, list(why).index(key)), entry, "", "unknown template")
                continue
            order = (2, 1, _WHY_KEYS.index(key), *sub_order(f.loc[1:], why.get(key)))
            if f.kind == "missing" and len(f.loc) == 1:
                report.add(order, entry, "", "missing template")
            else:
                message = text_message(f)
                report.add(order, entry, dotted(("text", *f.loc[1:])), message)
        return lists, {}, codes


def _parse_code_list(
    report: _Report, at: tuple[Any, ...], name: str, items: list[Any]
) -> tuple[tuple[CodeEntry, ...], list[str]]:
    """One list: an entry with a malformed or repeated code says only that."""
    schema = _ENTRIES.get(name, CodeEntry)
    fields = tuple(schema.model_fields)
    entries: list[CodeEntry] = []
    codes: list[str] = []  # of the entries whose code and label are sound
    for i, item in enumerate(items):
        entry = entry_name(name, i, item)
        if not isinstance(item, dict):
            report.add((*at, 0, i), entry, "", "must be a mapping with code and label")
            continue
        try:
            entries.append(schema.model_validate(item))
            found: list[Found] = []
        except ValidationError as exc:
            found = found_in(exc)
        code = item.get("code")
        said = [f for f in found if f.loc[0] not in fields]  # unknown fields, always
        if any(f.loc[0] == "code" for f in found):
            report.add((*at, 0, i, 1, 0), entry, "code", f"malformed code {code!r}")
        elif code in codes:
            report.add((*at, 0, i, 1, 0), entry, "code", f"duplicate code {code!r}")
        else:
            said = found
            if not any(f.loc[0] == "label" for f in found):
                codes.append(str(code))
        for f in said:  # the contract's alert source is checked last
            order = (3,) if f.kind == "alert_source" else in_entry(f.loc, item, fields)
            report.add((*at, 0, i, *order), entry, dotted(f.loc), _message(schema, f, item))
    if name in contract.CODE_LISTS:
        expected = list(contract.CODE_LISTS[name])
        if codes != expected and len(codes) == len(items):
            unknown = [c for c in codes if c not in expected]
            missing = [c for c in expected if c not in codes]
            if unknown:
                report.add((*at, 1, 0), name, "code", f"unknown codes {unknown}")
            if missing:
                report.add((*at, 1, 1), name, "code", f"missing codes {missing}")
            if not unknown and not missing:
                message = f"codes must follow the contract order {expected}"
                report.add((*at, 1, 2), name, "", message)
    for must in contract.REQUIRED_SUBSETS.get(name, ()):
        if must not in codes:
            report.add((*at, 2), name, "code", f"missing code {must!r}")
    return tuple(entries), codes


# --- the three files together -------------------------------------------------------------


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


def parse_rule_seeds(indicators: object, thresholds: object, codes: object) -> RuleSeeds:
    """Check the three rule seed documents against the contract; raise SeedErrors if broken."""
    reports = {name: _Report(name) for name in (CODES_FILE, INDICATORS_FILE, THRESHOLDS_FILE)}
    lists, why, list_codes = _parse_codes(reports[CODES_FILE], codes)
    parsed_indicators = _parse_indicators(reports[INDICATORS_FILE], indicators)
    form_codes = set(list_codes.get("forms", ())) or set(contract.CODE_LISTS["forms"])
    parsed_thresholds = _parse_thresholds(reports[THRESHOLDS_FILE], thresholds, form_codes)
    errors = [e for report in reports.values() for e in report.errors()]
    if errors or parsed_thresholds is None:
        raise SeedErrors(errors)
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
