"""Pydantic building blocks shared by the record, seed and directory schemas.

JSON is stricter than pydantic's lax mode: a list must be a list (not a tuple or a string),
a code a string (not bytes or a number), and a list may refuse repeated values. Checks that
look across items or fields run on what was given, beside pydantic's own errors, so every
problem is reported at once. Errors keep pydantic's locations; each schema maps them onto
its own messages and field paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

LANGS = ("es", "en")
Texts = Mapping[str, str]

# Every schema: unknown keys are errors, a validated value never changes, codes are plain str.
MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

# Our own kinds of problem, beside pydantic's error types.
NOT_A_LIST = "not_a_list"
NOT_A_STRING = "not_a_string"
EMPTY = "empty"
BLANK = "blank"
REPEATED = "repeated"
KEY_PROBLEMS = ("missing", "extra_forbidden", "invalid_key")


class Problem(ValueError):
    """A check of ours failed (pydantic reports it as a value_error): ``kind`` says which;
    ``message``, when given, is what the seed and directory checks tell their reader."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Found:
    """One problem, from pydantic or from a check of ours."""

    loc: tuple[Any, ...]
    kind: str
    value: Any
    message: str = ""


def found_in(exc: ValidationError) -> list[Found]:
    out = []
    for e in exc.errors(include_url=False):
        problem = (e.get("ctx") or {}).get("error")
        if isinstance(problem, Problem):
            out.append(Found(tuple(e["loc"]), problem.kind, e["input"], problem.message))
        else:
            out.append(Found(tuple(e["loc"]), str(e["type"]), e["input"]))
    return out


def line(loc: tuple[Any, ...], kind: str, value: object, message: str = "") -> dict[str, Any]:
    """A line error of ours, to raise beside pydantic's with :func:`cross_checked`."""
    return {
        "type": "value_error",
        "loc": loc,
        "input": value,
        "ctx": {"error": Problem(kind, message)},
    }


# --- JSON strictness ------------------------------------------------------------------------


def _must_be_list(value: object) -> object:
    if not isinstance(value, list):
        raise Problem(NOT_A_LIST)
    return value


def _must_be_str(value: object) -> object:
    if not isinstance(value, str):
        raise Problem(NOT_A_STRING)
    return value


def _not_empty(value: object) -> object:
    if isinstance(value, list | dict) and not value:
        raise Problem(EMPTY)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise Problem(BLANK)
    return value


# A JSON list (not a tuple, a set or a string), though kept as a tuple once validated.
FromList = BeforeValidator(_must_be_list)
# A JSON string: pydantic's lax mode would take bytes, or a number for an enum.
FromStr = BeforeValidator(_must_be_str)
# A list or mapping with something in it (declared before FromList, it runs after it).
NonEmpty = BeforeValidator(_not_empty)
NonBlank = Annotated[str, FromStr, AfterValidator(_not_blank)]
Language = Annotated[str, FromStr, StringConstraints(pattern=r"^[a-z]{2,3}$")]

T = TypeVar("T")
# A code given as a JSON string.
Code = Annotated[T, FromStr]


# --- checks across items and fields ---------------------------------------------------------

CrossCheck = Callable[[Any, list[Found], ValidationInfo], Iterable[dict[str, Any]]]


def cross_checked(check: CrossCheck) -> Callable[..., Any]:
    """A wrap validator: pydantic validates, then ``check`` looks at what was given and the
    problems found so far, and may add its own. When the value itself is broken (not a
    list, not a mapping, empty), only that is reported."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        try:
            validated = handler(value)
            found: list[Found] = []
        except ValidationError as exc:
            found = found_in(exc)
            if any(not f.loc for f in found):
                raise
        lines = [line(f.loc, f.kind, f.value, f.message) for f in found] + list(
            check(value, found, info)
        )
        if lines:
            raise ValidationError.from_exception_data("checks", lines)  # type: ignore[arg-type]
        return validated

    return validate


def _repeats(value: Any, found: list[Found], info: ValidationInfo) -> Iterable[dict[str, Any]]:
    """Each valid item that repeats an earlier one."""
    broken = {f.loc[0] for f in found}
    seen: set[object] = set()
    for i, item in enumerate(value):
        if i in broken:
            continue
        if item in seen:
            yield line((i,), REPEATED, item)
        seen.add(item)


_check_repeats = cross_checked(_repeats)


def _no_repeats(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    try:
        validated = handler(value)
    except ValidationError:
        return _check_repeats(value, handler, info)
    if len(set(value)) != len(value):  # rare: every record is checked, so look first
        return _check_repeats(value, handler, info)
    return validated


# A JSON list of values, none repeated, kept as a tuple.
Codes = Annotated[tuple[T, ...], WrapValidator(_no_repeats), FromList]


# --- texts in two languages -------------------------------------------------------------


class TextPair(BaseModel):
    """A text in Spanish and English."""

    model_config = MODEL_CONFIG
    es: NonBlank
    en: NonBlank


def _text_pair(value: object) -> dict[str, str]:
    return TextPair.model_validate(value).model_dump()


# Validated by TextPair, kept as a plain {es, en} dict (templates and labels index it).
TextDict = Annotated[dict[str, str], BeforeValidator(_text_pair)]


def text_message(f: Found) -> str:
    """What a seed or directory error says about an {es, en} text (``f.loc`` starts at it)."""
    if f.message:
        return f.message
    if len(f.loc) < 2:
        return "must be a mapping with 'es' and 'en' texts"
    if f.loc[1] in LANGS and f.kind != "extra_forbidden":
        return "missing text"
    return "unknown language (only 'es' and 'en')"


# --- naming and ordering the errors of seeds and directory entries ------------------------


def entry_name(list_name: str, index: int, item: object, key: str = "code") -> str:
    """``needs[3] (medical)``: how seed errors name an entry of a list."""
    code = item.get(key) if isinstance(item, dict) else None
    return f"{list_name}[{index}] ({code})" if isinstance(code, str) else f"{list_name}[{index}]"


def dotted(loc: Sequence[Any]) -> str:
    """``("label", "en")`` -> ``label.en``; ``("required_documents", 0)`` -> ``...[0]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def sub_order(rest: Sequence[Any], given: object) -> tuple[Any, ...]:
    """Sort key inside a field: items in order, Spanish before English before unknown keys
    as given, and what concerns the whole field last."""
    order: list[Any] = []
    for part in rest:
        if isinstance(part, int):
            order.append((0, part))
        elif part in LANGS:
            order.append((0, LANGS.index(part)))
        else:
            keys = list(given) if isinstance(given, dict) else []
            order.append((1, keys.index(part) if part in keys else len(keys)))
        try:
            given = given[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            given = None
    return (*order, (0,)) if order else ((1,),)


def in_entry(loc: Sequence[Any], given: object, fields: Sequence[str]) -> tuple[Any, ...]:
    """Sort key inside an entry: unknown keys first, as given; then the fields in the order
    they are checked; problems of the whole entry last."""
    if not loc:
        return (2,)
    name = loc[0]
    if name not in fields:
        keys = list(given) if isinstance(given, dict) else []
        return (0, keys.index(name) if name in keys else 0)
    value = given.get(name) if isinstance(given, dict) else None
    return (1, fields.index(name), *sub_order(loc[1:], value))


def shape_broken(found: Iterable[Found], at: tuple[Any, ...]) -> bool:
    """The mapping at ``at`` is not one, or lacks or adds a key."""
    n = len(at)
    return any(
        f.loc[:n] == at and (len(f.loc) == n or (len(f.loc) == n + 1 and f.kind in KEY_PROBLEMS))
        for f in found
    )


def first_under(f: Found, found: Sequence[Found], prefix: tuple[Any, ...]) -> bool:
    """Whether ``f`` is the first problem under ``prefix`` (its first one explains the rest)."""
    return next(e for e in found if e.loc[: len(prefix)] == prefix) is f


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: object) -> Mapping[Any, Any]:
    return value if isinstance(value, dict) else {}
