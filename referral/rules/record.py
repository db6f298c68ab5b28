"""The screening record of CONTRACT section 1: validation and the derived facts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import N_, ErrorMessage, RecordInvalid
from .seeds import CodeLists

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
FOREIGN_STATUSES = frozenset({"regular", "irregular", "asylum_seeker", "refugee"})
SPANISH = frozenset({"es", "spa"})


@dataclass(frozen=True)
class Companion:
    age: int
    sex: str

    def to_dict(self) -> dict[str, Any]:
        return {"age": self.age, "sex": self.sex}


@dataclass(frozen=True)
class ScreeningRecord:
    age: int | None
    sex: str
    nationality: str
    state: str
    setting: str
    languages: tuple[str, ...]
    migration_status: str
    encounter: str
    indicators: tuple[str, ...]
    needs: tuple[str, ...]
    complaint_filed: bool
    victim_status: bool
    cross_border: bool
    organized_crime: bool
    official_involvement: bool
    clearly_adult: bool = False
    sector: str | None = None
    vulnerabilities: tuple[str, ...] = ()
    companions: tuple[Companion, ...] = ()
    immediate_danger: bool = False

    @property
    def minor(self) -> bool:
        # Age in doubt means a minor until shown otherwise (LGPSEDMTP Art. 3 X).
        return self.age < 18 if self.age is not None else not self.clearly_adult

    @property
    def foreign(self) -> bool:
        return self.nationality not in ("MX", "ZZ") or self.migration_status in FOREIGN_STATUSES

    @property
    def speaks_spanish(self) -> bool:
        return not self.languages or any(lang in SPANISH for lang in self.languages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "age": self.age,
            "clearly_adult": self.clearly_adult,
            "sex": self.sex,
            "nationality": self.nationality,
            "state": self.state,
            "setting": self.setting,
            "languages": list(self.languages),
            "migration_status": self.migration_status,
            "encounter": self.encounter,
            "indicators": list(self.indicators),
            "sector": self.sector,
            "vulnerabilities": list(self.vulnerabilities),
            "companions": [c.to_dict() for c in self.companions],
            "needs": list(self.needs),
            "immediate_danger": self.immediate_danger,
            "complaint_filed": self.complaint_filed,
            "victim_status": self.victim_status,
            "cross_border": self.cross_border,
            "organized_crime": self.organized_crime,
            "official_involvement": self.official_involvement,
        }


# field -> (kind, default); a field without a default is required.
_MISSING = object()
_FIELDS: dict[str, tuple[str, object]] = {
    "age": ("age", _MISSING),
    "clearly_adult": ("bool", False),
    "sex": ("sexes", _MISSING),
    "nationality": ("nationalities", _MISSING),
    "state": ("states", _MISSING),
    "setting": ("settings", _MISSING),
    "languages": ("languages", _MISSING),
    "migration_status": ("migration_statuses", _MISSING),
    "encounter": ("encounters", _MISSING),
    "indicators": ("list:indicators", _MISSING),
    "sector": ("sector", None),
    "vulnerabilities": ("list:vulnerabilities", ()),
    "companions": ("companions", ()),
    "needs": ("list:needs", _MISSING),
    "immediate_danger": ("bool", False),
    "complaint_filed": ("bool", _MISSING),
    "victim_status": ("bool", _MISSING),
    "cross_border": ("bool", _MISSING),
    "organized_crime": ("bool", _MISSING),
    "official_involvement": ("bool", _MISSING),
}
REQUIRED_FIELDS = tuple(name for name, (_, d) in _FIELDS.items() if d is _MISSING)

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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_record(data: object, codes: CodeLists) -> ScreeningRecord:
    """Return the typed record, or raise RecordInvalid naming every broken field at once."""
    errors: dict[str, list[ErrorMessage]] = {}

    def fail(path: str, msgid: str, **params: Any) -> None:
        errors.setdefault(path, []).append(ErrorMessage(msgid, params))

    if not isinstance(data, dict):
        fail("", MSG_NOT_OBJECT)
        raise RecordInvalid(errors)
    if not data:
        fail("", MSG_EMPTY)
    for key in data:
        if key not in _FIELDS:
            fail(str(key), MSG_UNKNOWN_FIELD)

    lists: dict[str, frozenset[str]] = {
        "sexes": codes.sexes,
        "nationalities": codes.nationalities,
        "states": codes.states | {"unknown"},
        "settings": codes.settings,
        "migration_statuses": codes.migration_statuses,
        "encounters": codes.encounters,
        "indicators": codes.indicators,
        "vulnerabilities": codes.vulnerabilities,
        "needs": codes.needs,
        "sectors": codes.sectors,
    }
    values: dict[str, Any] = {}
    for name, (kind, default) in _FIELDS.items():
        if name not in data:
            if default is _MISSING:
                fail(name, MSG_REQUIRED)
            else:
                values[name] = default
            continue
        value = data[name]
        if kind == "age":
            if value is not None and not (_is_int(value) and 0 <= value <= 120):
                fail(name, MSG_AGE)
        elif kind == "bool":
            if not isinstance(value, bool):
                fail(name, MSG_BOOL)
        elif kind == "sector":
            if value is not None and not (isinstance(value, str) and value in codes.sectors):
                fail(name, MSG_CODE)
        elif kind.startswith("list:"):
            allowed = lists[kind[5:]]
            if not isinstance(value, list):
                fail(name, MSG_LIST)
                continue
            seen: set[str] = set()
            for item in value:
                if not isinstance(item, str) or item not in allowed:
                    fail(name, MSG_UNKNOWN_CODE, code=str(item)[:60])
                elif item in seen:
                    fail(name, MSG_REPEATED, code=item)
                else:
                    seen.add(item)
            value = tuple(value)
        elif kind == "languages":
            if not isinstance(value, list):
                fail(name, MSG_LIST)
                continue
            seen = set()
            for item in value:
                if not isinstance(item, str) or not _LANGUAGE.fullmatch(item):
                    fail(name, MSG_LANGUAGE)
                elif item in seen:
                    fail(name, MSG_REPEATED, code=item)
                else:
                    seen.add(item)
            value = tuple(value)
        elif kind == "companions":
            value = _companions(value, codes, fail)
        elif not (isinstance(value, str) and value in lists[kind]):
            fail(name, MSG_CODE)
        values[name] = value
    if errors:
        raise RecordInvalid(errors)
    return ScreeningRecord(**values)


def _companions(value: object, codes: CodeLists, fail: Any) -> tuple[Companion, ...]:
    if not isinstance(value, list):
        fail("companions", MSG_LIST)
        return ()
    result: list[Companion] = []
    for i, item in enumerate(value):
        path = f"companions[{i}]"
        if not isinstance(item, dict):
            fail(path, MSG_COMPANION)
            continue
        for key in item:
            if key not in ("age", "sex"):
                fail(f"{path}.{key}", MSG_UNKNOWN_FIELD)
        age, sex = item.get("age", _MISSING), item.get("sex", _MISSING)
        if age is _MISSING:
            fail(f"{path}.age", MSG_REQUIRED)
        elif not (_is_int(age) and 0 <= age <= 17):
            fail(f"{path}.age", MSG_COMPANION_AGE)
        if sex is _MISSING:
            fail(f"{path}.sex", MSG_REQUIRED)
        elif not (isinstance(sex, str) and sex in codes.sexes):
            fail(f"{path}.sex", MSG_CODE)
        if _is_int(age) and isinstance(sex, str):
            result.append(Companion(int(age), sex))
    return tuple(result)
