"""Two languages: Spanish (Mexico) by default, and English.

Locale order: the language the person chose with the switch (kept in a cookie) > the
signed-in user's saved preference > the browser's Accept-Language > Spanish.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale

from referral.config import LANGUAGES  # for what is fixed at import time (CLI --lang choices)

DEFAULT_LANGUAGE = LANGUAGES[0]
LANGUAGE_COOKIE = "ruta_lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

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


def local_timezone() -> ZoneInfo:
    """Where dates are typed and read: days, months and years (``BABEL_DEFAULT_TIMEZONE``)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def saved_preference() -> str | None:
    lookup: Callable[[], str | None] | None = current_app.extensions.get("referral_user_language")
    return lookup() if lookup else None


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    compile_catalogs()
    babel.init_app(app, locale_selector=select_locale)  # the timezone: BABEL_DEFAULT_TIMEZONE
    app.jinja_env.globals.update(
        format_date=format_date, format_datetime=format_datetime, format_number=format_decimal
    )


def compile_catalogs(directory: Path = TRANSLATIONS_DIR) -> None:
    """Compile each ``.po`` whose ``.mo`` is missing or older (the ``.mo`` files are not in git)."""
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}")
        try:
            with tmp.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            os.replace(tmp, mo_path)
        except OSError:  # a read-only install: the catalogs were compiled when it was built
            tmp.unlink(missing_ok=True)
    translations.cache_clear()


@cache
def translations(language: str) -> NullTranslations:
    """Catalog for one language, usable outside a request (CLI, rules texts)."""
    return Translations.load(str(TRANSLATIONS_DIR), [language], domain="messages")


def gettext_for(language: str) -> Callable[[str], str]:
    return translations(language).gettext
