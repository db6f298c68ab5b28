"""Directory entries (CONTRACT section 4): the schema of a service and the check of a list.

:class:`Service` is the one list of an entry's fields: the seed loader, the directory's
edits and imports, the export and routing all go through it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from .contract import SERVICE_SEXES, Form, Need, Operator, ServiceStatus
from .errors import SeedError, SeedErrors
from .schema import (
    EMPTY,
    KEY_PROBLEMS,
    MODEL_CONFIG,
    NOT_A_LIST,
    Code,
    Found,
    FromList,
    FromStr,
    Language,
    NonBlank,
    NonEmpty,
    Problem,
    TextDict,
    as_dict,
    cross_checked,
    dotted,
    found_in,
    line,
    sub_order,
    text_message,
)
from .seeds import RuleSeeds

NATIONAL = "national"  # coverage of the whole country


def _not_null(value: object) -> object:
    """An optional field may be left out, not given as null."""
    if value is None:
        raise Problem("null")
    return value


def _repeated(value: Any, found: list[Found], info: ValidationInfo) -> Iterable[dict[str, Any]]:
    """A list of codes names each code once (said once for the list)."""
    if len(set(map(str, value))) == len(value):
        return ()
    return (line((), "repeated", value, "repeated code"),)


def _listed(context_key: str) -> AfterValidator:
    """A code of a list the caller gives (the states, the seeds' service tags)."""

    def check(value: str, info: ValidationInfo) -> str:
        if context_key == "tags" and value == WOMENS_VIOLENCE_REFUGE:
            return value  # refused across fields, with the law that refuses it
        if value not in (info.context or {})[context_key]:
            raise Problem("unknown_code")
        return value

    return AfterValidator(check)


def _service_sex(value: str) -> str:
    if value not in SERVICE_SEXES:
        raise Problem("unknown_code")
    return value


def _date(value: object) -> object:
    """A date, or its ISO form (YAML gives dates, JSON strings), never a date-time."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise Problem("date") from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise Problem("date")
    return value


Id = Annotated[str, FromStr, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Age = Annotated[StrictInt, Field(ge=0, le=120)]
ChildAge = Annotated[StrictInt, Field(ge=0, le=17)]
Places = Annotated[StrictInt, Field(ge=0)]
Distinct = WrapValidator(cross_checked(_repeated))
Optional = BeforeValidator(_not_null)
Coverage = Annotated[str, FromStr, _listed("coverage")]
ServiceSex = Annotated[str, FromStr, AfterValidator(_service_sex)]
Tag = Annotated[str, FromStr, _listed("tags")]
# ISO 3166-1 alpha-2, as the seeds' nationalities write it.
Nationality = Annotated[str, FromStr, StringConstraints(pattern=r"^[A-Z]{2}$")]
# Trafficking victims are never housed in refuges for women victims of violence
# (LGPSEDMTP Art. 90 VI, as amended in 2024): an entry with this tag is refused.
WOMENS_VIOLENCE_REFUGE = "womens_violence_refuge"
# A kind of service the report describes without naming one: shown as a demonstration.
ILLUSTRATIVE = "illustrative"


class Caveat(BaseModel):
    """What the sources say a screener should know before referring, with its source."""

    model_config = MODEL_CONFIG
    es: NonBlank
    en: NonBlank
    source: NonBlank


def _caveat(value: object) -> dict[str, str]:
    return Caveat.model_validate(value).model_dump()


CaveatDict = Annotated[dict[str, str], BeforeValidator(_caveat)]


def _across_fields(data: Any, found: list[Found], info: ValidationInfo) -> Iterable[dict[str, Any]]:
    """Checks across fields, made on what was given even when a field is broken."""
    low, high = data.get("min_age"), data.get("max_age")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        yield line(("max_age",), "below_min_age", high, "is below min_age")
    # By law foreign victims get the same services (report PROTECTION ¶8).
    if data.get("operator") == Operator.government and data.get("accepts_foreign") is False:
        message = (
            "a government service must accept foreign victims: by law they get the same "
            "services (report PROTECTION ¶8)"
        )
        yield line(("accepts_foreign",), "government_refuses_foreign", False, message)
    tags = data.get("tags")
    if isinstance(tags, list) and WOMENS_VIOLENCE_REFUGE in tags:
        message = (
            "a refuge for women victims of violence is refused: trafficking victims must "
            "never be housed there (LGPSEDMTP Art. 90 VI, as amended in 2024)"
        )
        yield line(("tags",), "womens_violence_refuge", WOMENS_VIOLENCE_REFUGE, message)


class Service(BaseModel):
    """One directory entry. Validate with :func:`parse_services` (it gives states and tags)."""

    model_config = MODEL_CONFIG
    id: Id
    name: TextDict
    need: Code[Need]
    status: Code[ServiceStatus]
    operator: Code[Operator]
    coverage: Annotated[tuple[Coverage, ...], NonEmpty, Distinct, FromList]
    min_age: Age | None
    max_age: Age | None
    sexes: Annotated[tuple[ServiceSex, ...], NonEmpty, Distinct, FromList]
    male_max_age: Age | None
    accepts_foreign: StrictBool
    languages: Annotated[tuple[Language, ...], FromList]
    capacity_available: Places | None
    requires_complaint: StrictBool
    requires_victim_status: StrictBool
    accepts_companions: StrictBool
    companion_max_age_male: ChildAge | None
    specializations: Annotated[tuple[Code[Form], ...], Distinct, FromList]
    tags: Annotated[tuple[Tag, ...], Distinct, FromList]
    source: NonBlank
    how_to_refer: Annotated[TextDict | None, Optional] = None
    contact: Annotated[TextDict | None, Optional] = None
    hours: Annotated[TextDict | None, Optional] = None
    required_documents: Annotated[tuple[TextDict, ...] | None, FromList, Optional] = None
    last_verified: Annotated[dt.date | None, BeforeValidator(_date), Optional] = None
    confidential: Annotated[StrictBool | None, Optional] = None
    nationalities: Annotated[tuple[Nationality, ...] | None, NonEmpty, Distinct, FromList] = None
    caveats: Annotated[tuple[CaveatDict, ...] | None, NonEmpty, FromList, Optional] = None

    @model_validator(mode="wrap")
    @classmethod
    def _checked_across_fields(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        if isinstance(data, dict) and "nationalities" in data and data["nationalities"] is None:
            # null is every nationality, as if left out (an empty list is refused)
            data = {k: v for k, v in data.items() if k != "nationalities"}
        return cross_checked(_across_fields)(data, handler, info)

    def to_contract_dict(self) -> dict[str, Any]:
        """The entry as CONTRACT section 4 writes it (optional fields only when set)."""
        entry = self.model_dump(mode="json")
        for name in OPTIONAL_FIELDS:
            if entry[name] is None:
                del entry[name]
        return entry


REQUIRED_FIELDS = tuple(n for n, f in Service.model_fields.items() if f.is_required())
OPTIONAL_FIELDS = tuple(n for n, f in Service.model_fields.items() if not f.is_required())

_ID_MESSAGE = "must be lowercase letters, digits, '.', '_' or '-'"
_WHOLE = "must be a whole number %s, or null"
# What a broken value of each field is told (%r: the value given).
_MESSAGES = {
    "id": _ID_MESSAGE,
    **dict.fromkeys(("need", "status", "operator"), "unknown code %r"),
    "languages": "must be a list of 2 or 3 letter lowercase language codes",
    **dict.fromkeys(("min_age", "max_age", "male_max_age"), _WHOLE % "0 to 120"),
    "companion_max_age_male": _WHOLE % "0 to 17",
    "capacity_available": _WHOLE % "0 or more",
    "source": "missing source (report paragraph id or law article)",
    "last_verified": "must be a date (YYYY-MM-DD)",
    **dict.fromkeys(
        (
            "accepts_foreign",
            "requires_complaint",
            "requires_victim_status",
            "accepts_companions",
            "confidential",
        ),
        "must be true or false",
    ),
}
_CODE_LISTS = ("coverage", "sexes", "tags", "specializations")
# The order in which the checks of one entry list their problems (after unknown fields and
# missing fields): across-field checks come after the field they name.
_CHECKS = (
    "id",
    "name",
    "need",
    "status",
    "operator",
    *_CODE_LISTS,
    "languages",
    "min_age",
    "max_age",
    "male_max_age",
    "companion_max_age_male",
    "capacity_available",
    "below_min_age",
    "accepts_foreign",
    "requires_complaint",
    "requires_victim_status",
    "accepts_companions",
    "government_refuses_foreign",
    "source",
    "how_to_refer",
    "contact",
    "hours",
    "required_documents",
    "last_verified",
    "confidential",
    "nationalities",
    "caveats",
    "womens_violence_refuge",
)


def parse_services(
    entries: object, seeds: RuleSeeds, states: set[str], file: str = "services.yaml"
) -> list[Service]:
    """Check directory entries against the contract; raise SeedErrors naming id and field."""
    if isinstance(entries, dict) and set(entries) == {"services"}:
        entries = entries["services"]
    if not isinstance(entries, list):
        raise SeedErrors([SeedError(file, "services", "", "must be a list of services")])
    context = {"coverage": {*states, NATIONAL}, "tags": set(seeds.codes("service_tags"))}
    errors: list[SeedError] = []
    services: list[Service] = []
    seen: set[str] = set()
    for index, item in enumerate(entries):
        sid = as_dict(item).get("id")
        entry = sid if isinstance(sid, str) and sid else f"services[{index}]"
        try:
            service = Service.model_validate(item, context=context)
            found: list[Found] = []
        except ValidationError as exc:
            found = found_in(exc)
        if isinstance(sid, str) and not any(f.loc[:1] == ("id",) for f in found):
            if sid in seen:
                found.append(Found(("id",), "duplicate", sid, "duplicate id"))
            seen.add(sid)
        if found:
            errors.extend(SeedError(file, entry, f, m) for f, m in _problems(found, item))
        else:
            services.append(service)
    if errors:
        raise SeedErrors(errors)
    return services


def _problems(found: list[Found], item: object) -> list[tuple[str, str]]:
    """Pydantic's errors as (field, message), in the order the directory has always listed
    them: unknown fields as given, missing fields, then each check in turn."""
    if not isinstance(item, dict):
        return [("", "must be a mapping")]
    keys = list(item)
    placed: list[tuple[tuple[Any, ...], str, str]] = []
    for f in found:
        name = f.loc[0]
        if f.kind in KEY_PROBLEMS and len(f.loc) == 1 and f.kind != "missing":
            placed.append(
                ((0, keys.index(name) if name in keys else 0), str(name), "unknown field")
            )
        elif f.kind == "missing" and len(f.loc) == 1:
            placed.append(((1, REQUIRED_FIELDS.index(name)), name, "missing field"))
            if name == "id":  # no id is no well-formed id either
                placed.append(((2, 0), "id", _ID_MESSAGE))
        else:
            check = f.kind if f.kind in _CHECKS else name
            order = (2, _CHECKS.index(check), *sub_order(f.loc[1:], item.get(name)))
            placed.append((order, *_message(f)))
    out: list[tuple[str, str]] = []
    for _, field, message in sorted(placed, key=lambda p: p[0]):
        if field != "languages" or (field, message) not in out:  # one line for the languages
            out.append((field, message))
    return out


def _message(f: Found) -> tuple[str, str]:
    name = f.loc[0]
    if f.message:
        return name, f.message
    if name in _CODE_LISTS:
        if len(f.loc) > 1:
            return name, f"unknown code {f.value!r}"
        return name, "must be a list" if f.kind == NOT_A_LIST else "must not be empty"
    if name in _MESSAGES:
        template = _MESSAGES[name]
        return name, template % (f.value,) if "%r" in template else template
    if name == "required_documents" and len(f.loc) == 1:
        return name, "must be a list of {es, en} texts"
    if name == "nationalities":
        if len(f.loc) > 1:
            return dotted(f.loc), "must be an ISO 3166-1 alpha-2 code such as 'GT'"
        if f.kind == EMPTY:
            return name, "must not be empty: leave it out for every nationality"
        return name, "must be a list of ISO 3166-1 alpha-2 codes, or null"
    if name == "caveats":
        if len(f.loc) == 1:
            if f.kind == EMPTY:
                return name, "must not be empty: leave it out when there is no caveat"
            return name, "must be a list of {es, en, source} texts"
        if len(f.loc) == 2:
            return dotted(f.loc), "must be a mapping with 'es', 'en' and 'source' texts"
        if f.loc[2] == "source":
            return dotted(f.loc), "missing source (report paragraph id or law article)"
        if f.kind == "extra_forbidden":
            return dotted(f.loc), "unknown key (only 'es', 'en' and 'source')"
        return dotted(f.loc), "missing text"
    # name, how_to_refer, contact, hours, required_documents[j]
    text_at = 2 if name == "required_documents" else 1
    return dotted(f.loc), text_message(Found(f.loc[text_at - 1 :], f.kind, f.value))
