"""The screening record of CONTRACT section 1: its schema, its errors and the derived facts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
)

from .contract import (
    FOREIGN_STATUSES,
    Encounter,
    MigrationStatus,
    Need,
    Sector,
    Setting,
    Sex,
    Vulnerability,
)
from .errors import N_, ErrorMessage, RecordInvalid
from .schema import (
    MODEL_CONFIG,
    REPEATED,
    Code,
    Codes,
    FromList,
    FromStr,
    Language,
    Problem,
    found_in,
)
from .seeds import CodeLists

SPANISH = frozenset({"es", "spa"})


def _listed(list_name: str) -> AfterValidator:
    """A code of a list the seeds or the database give (the validation context holds them)."""

    def check(value: str, info: ValidationInfo) -> str:
        codes: CodeLists = (info.context or {})["codes"]
        if value not in getattr(codes, list_name) and not (
            list_name == "states" and value == "unknown"
        ):
            raise Problem("unknown_code")
        return value

    return AfterValidator(check)


Age = Annotated[StrictInt, Field(ge=0, le=120)]
CompanionAge = Annotated[StrictInt, Field(ge=0, le=17)]
Nationality = Annotated[str, FromStr, _listed("nationalities")]
State = Annotated[str, FromStr, _listed("states")]  # or "unknown"
Indicator = Annotated[str, FromStr, _listed("indicators")]


class Companion(BaseModel):
    """A child in the person's care who must stay with them."""

    model_config = MODEL_CONFIG
    age: CompanionAge
    sex: Code[Sex]

    def to_dict(self) -> dict[str, Any]:
        return {"age": self.age, "sex": self.sex}


class ScreeningRecord(BaseModel):
    """CONTRACT section 1. Validate with :func:`validate_record` (it gives the code lists)."""

    model_config = MODEL_CONFIG
    age: Age | None
    clearly_adult: StrictBool = False
    sex: Code[Sex]
    nationality: Nationality
    state: State
    setting: Code[Setting]
    languages: Codes[Language]
    migration_status: Code[MigrationStatus]
    encounter: Code[Encounter]
    indicators: Codes[Indicator]
    sector: Code[Sector] | None = None
    vulnerabilities: Codes[Code[Vulnerability]] = ()
    companions: Annotated[tuple[Companion, ...], FromList] = ()
    needs: Codes[Code[Need]]
    immediate_danger: StrictBool = False
    complaint_filed: StrictBool
    victim_status: StrictBool
    cross_border: StrictBool
    organized_crime: StrictBool
    official_involvement: StrictBool

    @property
    def minor(self) -> bool:
        # Age in doubt means a minor until shown otherwise (LGPSEDMTP Art. 3 X).
        return self.age < 18 if self.age is not None else not self.clearly_adult

    @property
    def foreign(self) -> bool:
        return self.nationality not in ("MX", "ZZ") or self.migration_status in FOREIGN_STATUSES

    @property
    def possibly_foreign(self) -> bool:
        """Nobody knows yet: routed as not foreign, warned with conditional alerts (CONTRACT 1)."""
        return self.nationality == "ZZ" and self.migration_status == MigrationStatus.unknown

    @property
    def speaks_spanish(self) -> bool:
        return not self.languages or any(lang in SPANISH for lang in self.languages)

    @property
    def other_languages(self) -> tuple[str, ...]:
        """The person's languages other than Spanish (either spelling of it)."""
        return tuple(lang for lang in self.languages if lang not in SPANISH)

    def to_dict(self) -> dict[str, Any]:
        """The record as CONTRACT section 1 writes it (every field, defaults included)."""
        return self.model_dump(mode="json")


FIELDS = tuple(ScreeningRecord.model_fields)
REQUIRED_FIELDS = tuple(n for n, f in ScreeningRecord.model_fields.items() if f.is_required())

MSG_NOT_OBJECT = N_("The record must be a JSON object with the fields of a screening.")
MSG_EMPTY = N_("The record is empty.")
MSG_REQUIRED = N_("This field is required.")
MSG_UNKNOWN_FIELD = N_("Unknown field.")
MSG_AGE = N_("Enter the age as a whole number from 0 to 120, or leave it unknown.")
MSG_COMPANION_AGE = N_("Enter the child's age as a whole number from 0 to 17.")
MSG_BOOL = N_("Must be true or false.")
MSG_CODE = N_("Choose a value from the list.")
MSG_UNKNOWN_CODE = N_("Unknown code: %(code)s.")
MSG_LIST = N_("Must be a list.")
MSG_REPEATED = N_("Repeated code: %(code)s.")
MSG_LANGUAGE = N_("A language code is 2 or 3 lowercase letters (ISO 639), such as es or tzo.")
MSG_COMPANION = N_("Each child in the person's care needs an age and a sex.")

# What a broken value of each field is told (a missing one: MSG_REQUIRED).
_MESSAGE = {
    "age": MSG_AGE,
    **dict.fromkeys(
        (
            "clearly_adult",
            "immediate_danger",
            "complaint_filed",
            "victim_status",
            "cross_border",
            "organized_crime",
            "official_involvement",
        ),
        MSG_BOOL,
    ),
    **dict.fromkeys(
        ("sex", "nationality", "state", "setting", "migration_status", "encounter", "sector"),
        MSG_CODE,
    ),
}
_UNKNOWN_KEY = ("extra_forbidden", "invalid_key")


def validate_record(data: object, codes: CodeLists) -> ScreeningRecord:
    """Return the typed record, or raise RecordInvalid naming every broken field at once."""
    if not isinstance(data, dict):
        raise RecordInvalid({"": [ErrorMessage(MSG_NOT_OBJECT)]})
    try:
        return ScreeningRecord.model_validate(data, context={"codes": codes})
    except ValidationError as exc:
        raise RecordInvalid(record_errors(exc, data)) from None


def record_errors(exc: ValidationError, data: Mapping[Any, Any]) -> dict[str, list[ErrorMessage]]:
    """Pydantic's errors as CONTRACT section 6 field paths and messages, in the order
    readers have always had them: the whole record, unknown fields as given, then each
    field of section 1 (a child's unknown fields, then its age, then its sex)."""
    keys = {key: n for n, key in enumerate(data)}
    placed: list[tuple[tuple[Any, ...], str, ErrorMessage]] = []
    for f in found_in(exc):
        name = f.loc[0]
        if f.kind in _UNKNOWN_KEY and len(f.loc) == 1:
            placed.append(((0, keys.get(name, 0)), str(name), ErrorMessage(MSG_UNKNOWN_FIELD)))
        else:
            order = (1, FIELDS.index(name), *_item_order(f.loc, data))
            placed.append((order, _path(f.loc), _message(f.loc, f.kind, f.value)))
    errors: dict[str, list[ErrorMessage]] = {"": [ErrorMessage(MSG_EMPTY)]} if not data else {}
    for _, path, message in sorted(placed, key=lambda p: p[0]):
        errors.setdefault(path, []).append(message)
    return errors


def _path(loc: tuple[Any, ...]) -> str:
    if loc[0] != "companions" or len(loc) == 1:
        return str(loc[0])
    path = f"companions[{loc[1]}]"
    return f"{path}.{loc[2]}" if len(loc) > 2 else path


def _item_order(loc: tuple[Any, ...], data: Mapping[Any, Any]) -> tuple[Any, ...]:
    if len(loc) < 3:
        return tuple(loc[1:2])
    index, key = loc[1], loc[2]
    if key in ("age", "sex"):
        return (index, 1 if key == "age" else 2, 0)
    child = data["companions"][index]
    return (index, 0, list(child).index(key) if key in child else 0)


def _message(loc: tuple[Any, ...], kind: str, value: object) -> ErrorMessage:
    name = loc[0]
    if kind == "missing":
        return ErrorMessage(MSG_REQUIRED)
    if name in _MESSAGE:
        return ErrorMessage(_MESSAGE[name])
    if len(loc) == 1:  # a list field that is not a list
        return ErrorMessage(MSG_LIST)
    if kind == REPEATED:
        return ErrorMessage(MSG_REPEATED, {"code": value})
    if name == "languages":
        return ErrorMessage(MSG_LANGUAGE)
    if name != "companions":
        return ErrorMessage(MSG_UNKNOWN_CODE, {"code": str(value)[:60]})
    if len(loc) == 2:
        return ErrorMessage(MSG_COMPANION)
    if kind in _UNKNOWN_KEY:
        return ErrorMessage(MSG_UNKNOWN_FIELD)
    return ErrorMessage(MSG_COMPANION_AGE if loc[2] == "age" else MSG_CODE)
