"""The public pages: home, the language switch and the cited source report."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from referral.i18n import LANGUAGE_COOKIE, current_language, languages
from referral.seeds.loader import seed_store
from referral.urls import safe_next

blueprint = Blueprint("site", __name__, template_folder="templates")

ONE_YEAR = 365 * 24 * 3600


@blueprint.get("/")
def home() -> str:
    return render_template("site/home.html")


@blueprint.get("/language/<code>")
def choose_language(code: str) -> Response:
    if code not in languages():
        abort(404)
    response = make_response(redirect(safe_next(request.args.get("next"))))
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


@blueprint.get("/sources/report")
def report() -> str:
    paragraphs = seed_store(current_app.config["SEEDS_DIR"]).report
    return render_template("site/report.html", paragraphs=list(paragraphs.values()))


# The report's sections, named in the reader's language (the anchors keep the English ids).
REPORT_SECTIONS = {
    "SUMMARY": _l("SUMMARY"),
    "RECOMMENDATIONS": _l("RECOMMENDATIONS"),
    "PROSECUTION": _l("PROSECUTION"),
    "PROTECTION": _l("PROTECTION"),
    "PREVENTION": _l("PREVENTION"),
    "PROFILE": _l("PROFILE"),
}

_CITATION = re.compile(
    r"\b(SUMMARY|RECOMMENDATIONS|PROSECUTION|PROTECTION|PREVENTION|PROFILE) ¶(\d+)"
)


@blueprint.app_template_filter("cite")
def cite(source: str) -> Markup:
    """A source text with each report paragraph id linked to the paragraph."""
    report = url_for("site.report")
    link = Markup('<a href="{}#{}-{}">{}</a>')
    parts: list[Markup] = []
    position = 0
    for match in _CITATION.finditer(source):
        parts.append(_quoted(source[position : match.start()]))
        section, paragraph = match.group(1), match.group(2)
        text = f"{REPORT_SECTIONS[section]} ¶{paragraph}"
        parts.append(link.format(report, section, paragraph, text))
        position = match.end()
    parts.append(_quoted(source[position:]))
    return Markup("").join(parts)


_QUOTE = re.compile(r'"([^"]+)"')


def _quoted(text: str) -> Markup:
    """Text whose quotations of the (English) report are marked as English on other pages."""
    if current_language() == "en":
        return escape(text)
    parts: list[Markup] = []
    position = 0
    for match in _QUOTE.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup('<q lang="en">{}</q>').format(match.group(1)))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
