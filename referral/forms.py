"""What every form of the app shares: free text without hidden control characters, dates and
page numbers within range, each refused with a message at its field in the reader's language.

Every form derives from :class:`Form` (posted, with a CSRF token) or :class:`QueryForm` (a
GET filter), so no free-text field can forget the check (tests/test_security.py walks them).

Hidden control characters are refused, not stripped: a NUL cannot be stored in PostgreSQL
text at all, and the bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E/F) make
text read differently from what it holds ("txt.exe" shown as "exe.txt"). Stripping them
silently would change what the screener wrote behind their back; the message tells them,
and what they typed stays in the field to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import Field, PasswordField, StringField, ValidationError
from wtforms import Form as PlainForm
from wtforms.fields import choices as _choices

HIDDEN_CONTROLS = re.compile("[\x00\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FIRST_YEAR, LAST_YEAR = 1900, 2999  # dates a person may type; beyond, the database overflows
MAX_PAGE = 1_000_000  # a page number beyond this would overflow the database's OFFSET

HIDDEN_CONTROLS_MESSAGE = _l(
    "This text holds hidden control characters (a NUL or a text-direction mark, often "
    "pasted from elsewhere) that can make it read differently: delete the pasted part and "
    "type it again."
)
DATE_RANGE_MESSAGE = _l(
    "Enter a date between the years %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR
)
PAGE_RANGE_MESSAGE = _l("There is no such page: pages go from 1 to %(max)d.", max=MAX_PAGE)


def refuse_hidden_controls(_form: Any, field: Field) -> None:
    """A free-text field's value may not hold NUL or bidirectional control characters."""
    if isinstance(field.data, str) and HIDDEN_CONTROLS.search(field.data):
        raise ValidationError(HIDDEN_CONTROLS_MESSAGE)


def date_in_range(_form: Any, field: Field) -> None:
    """A date from FIRST_YEAR to LAST_YEAR (a date field's validator)."""
    value = field.data
    if isinstance(value, date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(DATE_RANGE_MESSAGE)


def page_in_range(_form: Any, field: Field) -> None:
    """A page number from 1 to MAX_PAGE (an integer field's validator)."""
    if field.data is not None and not 1 <= field.data <= MAX_PAGE:
        raise ValidationError(PAGE_RANGE_MESSAGE)


# One option of a select field (WTForms 3.2). types-WTForms does not know it yet; the rest
# of the package imports it from here.
SelectChoice: Any = _choices.SelectChoice  # type: ignore[attr-defined]


def is_free_text(field: Field) -> bool:
    """Text a person types (names, notes, reasons…); passwords are secrets, not text shown."""
    return isinstance(field, StringField) and not isinstance(field, PasswordField)


class SafeText:
    """Runs :func:`refuse_hidden_controls` on every free-text field of the form."""

    _fields: dict[str, Field]

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if is_free_text(field):
                extra.setdefault(name, []).append(refuse_hidden_controls)
        return bool(super().validate(extra_validators=extra))  # type: ignore[misc]


class Form(SafeText, FlaskForm):
    """A posted form: CSRF token (Flask-WTF) and the shared checks."""


class QueryForm(SafeText, PlainForm):
    """A GET filter form (nothing changes, so no CSRF token) with the shared checks."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            return wtforms_translations  # WTForms' own messages in the reader's language
