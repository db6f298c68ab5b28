"""Two languages: Spanish (Mexico) by default, and English.

Locale order: the language the person chose with the switch (kept in a cookie) > the
signed-in user's saved preference > the browser's Accept-Language > Spanish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import icu
from babel import Locale
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale

from referral.config import (  # LANGUAGES: fixed at import time (CLI --lang)
    LANGUAGES,
    ConfigurationError,
)

DEFAULT_LANGUAGE = LANGUAGES[0]
LANGUAGE_COOKIE = "ruta_lang"
# Inside the package, so a wheel has them; the top-level translations/ links here.
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

babel = Babel()


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    offered = languages()
    forced = g.get("forced_language")
    if forced in offered:
        return str(forced)
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in offered:
        return str(chosen)
    preference = saved_preference()
    if preference in offered:
        return str(preference)
    return request.accept_languages.best_match(offered) or DEFAULT_LANGUAGE


def languages() -> tuple[str, ...]:
    """The languages pages are offered in (config ``LANGUAGES``)."""
    return tuple(current_app.config["LANGUAGES"])


def current_language() -> str:
    """The two-letter code of the language this request is shown in (or of ``force_locale``)."""
    return str(get_locale() or DEFAULT_LANGUAGE)[:2]


@cache
def language_name(code: str) -> str:
    """A language's name in itself, as choices show it ("Español", "English")."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


# Each language's collation (ICU, the Unicode Collation Algorithm with CLDR's tailoring):
# "Bélgica" before "Bután", "ñ" after "n" in Spanish, capitals and accents as readers expect.
T = TypeVar("T")
COLLATION_LOCALES = {"es": "es_MX", "en": "en_US"}


@cache
def _collator(lang: str) -> icu.Collator:
    # ICU collators are safe to share between threads for comparisons and sort keys.
    return icu.Collator.createInstance(icu.Locale(COLLATION_LOCALES.get(lang, lang)))


def sort_key(lang: str) -> Callable[[str], bytes]:
    """A key for ``sorted`` that orders texts as ``lang``'s readers do."""
    return _collator(lang).getSortKey


def by_label(items: Iterable[T], lang: str, label: Callable[[T], str]) -> list[T]:
    """``items`` sorted by their label in ``lang``'s collation order."""
    key = sort_key(lang)
    return sorted(items, key=lambda item: key(label(item)))


def local_timezone() -> ZoneInfo:
    """Where dates are typed and read: days, months and years (``BABEL_DEFAULT_TIMEZONE``)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def saved_preference() -> str | None:
    lookup: Callable[[], str | None] | None = current_app.extensions.get("referral_user_language")
    return lookup() if lookup else None


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    check_catalogs()
    babel.init_app(app, locale_selector=select_locale)  # the timezone: BABEL_DEFAULT_TIMEZONE
    app.jinja_env.globals.update(
        format_date=format_date, format_datetime=format_datetime, format_number=format_decimal
    )


def check_catalogs(directory: Path = TRANSLATIONS_DIR) -> None:
    """Refuse to start without compiled catalogs: ``.mo`` files are built with the package.

    In a source checkout a ``.po`` newer than its ``.mo`` means the pages would show
    yesterday's texts, so that is refused too, with the command that fixes it.
    """
    for language in LANGUAGES:
        messages = directory / language / "LC_MESSAGES"
        mo_path, po_path = messages / "messages.mo", messages / "messages.po"
        if not mo_path.is_file():
            problem = f"{mo_path} is missing"
        elif po_path.is_file() and po_path.stat().st_mtime > mo_path.stat().st_mtime:
            problem = f"{po_path} is newer than its messages.mo"
        else:
            continue
        raise ConfigurationError(
            f"The {language!r} translations are not compiled: {problem}. In a source checkout run "
            "`.venv/bin/pybabel compile -d translations` (or `.venv/bin/pip install -e .` again); "
            "an installed wheel has them compiled when it is built."
        )


@cache
def translations(language: str) -> NullTranslations:
    """Catalog for one language, usable outside a request (CLI, rules texts)."""
    return Translations.load(str(TRANSLATIONS_DIR), [language], domain="messages")


def gettext_for(language: str) -> Callable[[str], str]:
    return translations(language).gettext
