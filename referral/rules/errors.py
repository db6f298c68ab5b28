"""Typed errors of the rules core; views turn them into translated messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(s: str) -> str:
    """Mark a msgid for extraction (pybabel keyword N_) without translating it here."""
    return s


@dataclass(frozen=True)
class ErrorMessage:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, gettext: Callable[[str], str]) -> str:
        text = gettext(self.msgid)
        return text % dict(self.params) if self.params else text


class RecordInvalid(Exception):
    """A screening record broke CONTRACT section 1; every broken field is listed."""

    def __init__(self, errors: dict[str, list[ErrorMessage]]) -> None:
        super().__init__(", ".join(sorted(errors)) or "invalid record")
        self.errors = errors


def render_errors(
    errors: Mapping[str, list[ErrorMessage]], gettext: Callable[[str], str]
) -> dict[str, list[str]]:
    return {path: [m.render(gettext) for m in messages] for path, messages in errors.items()}


class SeedError(Exception):
    """One problem in a seed file, naming the file, the entry and the field."""

    def __init__(self, file: str, entry: str, field: str, message: str) -> None:
        super().__init__(f"{file}: {entry}: {field}: {message}")
        self.file = file
        self.entry = entry
        self.field = field
        self.message = message


class SeedErrors(Exception):
    """Every problem found in a seed set, reported at once."""

    def __init__(self, errors: list[SeedError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors
