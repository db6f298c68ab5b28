"""Routing a screening record as the API and the CLI do: validate, then route.

The web form and bulk import call the same two functions of the rules core, so one record
gets one answer wherever it enters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from referral.directory.catalogue import current_catalogue
from referral.i18n import gettext_for
from referral.rules import (
    N_,
    Catalogue,
    ErrorMessage,
    RecordInvalid,
    RoutingResult,
    route_case,
    validate_record,
)

MSG_NOT_JSON = N_("The input is not valid JSON.")
MSG_EMPTY_INPUT = N_("The input is empty.")


class InputError(Exception):
    """Input that could not be routed; ``errors`` is the CONTRACT section 6 ``errors`` value."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def route_data(
    data: object, session: Session, lang: str, catalogue: Catalogue | None = None
) -> RoutingResult:
    """Validate one decoded record and route it; raise InputError with translated messages
    (``lang`` is the language of the messages: the result is written out by the caller).
    ``catalogue``: the one a caller routing many records looked up once for all of them."""
    catalogue = catalogue or current_catalogue(session)
    try:
        record = validate_record(data, catalogue.codes)
    except RecordInvalid as exc:
        raise InputError(translate(exc.errors, gettext_for(lang))) from None
    return route_case(record, catalogue)


def translate(
    errors: dict[str, list[ErrorMessage]], gettext: Callable[[str], str]
) -> dict[str, list[str]]:
    return {path: [m.render(gettext) for m in messages] for path, messages in errors.items()}


def decode_records(text: str, lang: str) -> tuple[bool, list[tuple[int, object]]]:
    """One JSON object, or JSON Lines. Returns (is_json_lines, [(line number, value)]).

    Raises InputError for an empty input or, in JSON Lines, for every line that is not JSON.
    """
    gettext = gettext_for(lang)
    if not text.strip():
        raise InputError({"": [gettext(MSG_EMPTY_INPUT)]})
    try:
        return False, [(1, json.loads(text))]
    except json.JSONDecodeError:
        pass
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(lines) == 1:
        raise InputError({"": [gettext(MSG_NOT_JSON)]})
    records: list[tuple[int, object]] = []
    broken: dict[str, Any] = {}
    for number, line in lines:
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError:
            broken[f"line {number}"] = {"": [gettext(MSG_NOT_JSON)]}
    if broken:
        raise InputError(broken)
    return True, records


def route_text(
    text: str,
    session: Session,
    lang: str,
    write: Callable[[bool, RoutingResult], Any] | None = None,
) -> tuple[bool, list[Any]]:
    """Route an input file's text: every result, or InputError naming every broken record.

    ``write(is_json_lines, result)``: what is kept of each result instead of the result (the
    CLI keeps its text: thousands of results held until the end cost the collector time)."""
    json_lines, records = decode_records(text, lang)
    # One directory version for the whole input (read once, not once per record).
    catalogue = current_catalogue(session)
    results: list[Any] = []
    broken: dict[str, Any] = {}
    for number, data in records:
        try:
            result = route_data(data, session, lang, catalogue)
            results.append(result if write is None else write(json_lines, result))
        except InputError as exc:
            if not json_lines:
                raise
            broken[f"line {number}"] = exc.errors
    if broken:
        raise InputError(broken)
    return json_lines, results
