"""Two languages: Spanish (Mexico) by default, and English.

Locale order: the language the person chose with the switch (kept in a cookie) > the
signed-in user's saved preference > the browser's Accept-Language > Spanish.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale

from referral.config import ConfigurationError

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
LANGUAGE_COOKIE = "ruta_lang"
# Inside the package, so a wheel has them; the top-level translations/ links here.
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

babel = Babel()


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    forced = g.get("forced_language")
    if forced in LANGUAGES:
        return str(forced)
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    preference = saved_preference()
    if preference in LANGUAGES:
        return str(preference)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def saved_preference() -> str | None:
    lookup: Callable[[], str | None] | None = current_app.extensions.get("referral_user_language")
    return lookup() if lookup else None


def select_timezone() -> str:
    return "America/Mexico_City"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    check_catalogs()
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals.update(
        format_date=format_date, format_datetime=format_datetime, format_number=format_decimal
    )

    @app.context_processor
    def _language() -> dict[str, object]:
        return {
            "current_language": str(get_locale() or DEFAULT_LANGUAGE)[:2],
            "today": date.today(),
        }


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
