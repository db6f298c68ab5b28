"""Codes shown as texts: what every template gets, and the one label of a reason code.

Templates receive ``lang`` (the request's language), ``languages`` (code and name of each
language offered), ``catalogue`` (the request's routing catalogue, looked up only when a
template reads it), ``label(list, code)``, ``reason_label(code)``, ``by_label(list, codes)``
(codes sorted by their labels in the reader's collation) and ``today``, so views pass only
what is their own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from werkzeug.local import LocalProxy

from referral import db
from referral.directory.catalogue import current_catalogue
from referral.i18n import by_label, current_language, language_name, languages
from referral.rules import Catalogue

# A reason code may be a routing exclusion, a gap reason or a referral's decline reason.
REASON_LISTS = ("exclusion_reasons", "gap_reasons", "referral_reasons")


def reason_label(catalogue: Catalogue, code: str, lang: str) -> str:
    """The label of a reason code in ``lang``, from whichever reason list holds it."""
    for list_name in REASON_LISTS:
        text = catalogue.label(list_name, code, lang)
        if text != code:
            return str(text)
    return code


def request_catalogue() -> Catalogue:
    return current_catalogue(db.session())


def template_context() -> dict[str, Any]:
    lang = current_language()
    catalogue: Any = LocalProxy(request_catalogue)  # loaded on first use, once per request

    def label(list_name: str, code: str) -> str:
        return str(catalogue.label(list_name, code, lang))

    def reason(code: str) -> str:
        return reason_label(catalogue, code, lang)

    def sorted_by_label(list_name: str, codes: Any) -> list[str]:
        """Codes in the order of their labels in the reader's language (its collation)."""
        return by_label(codes, lang, lambda code: label(list_name, code))

    return {
        "lang": lang,
        "languages": {code: language_name(code) for code in languages()},
        "catalogue": catalogue,
        "label": label,
        "reason_label": reason,
        "by_label": sorted_by_label,
        "today": date.today(),
    }


def init_app(app: Flask) -> None:
    app.context_processor(template_context)
