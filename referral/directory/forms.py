"""The service form: every field of CONTRACT section 4, with choices and labels from the seeds.

The form only shapes what was typed into a directory entry; whether the entry is valid is
decided by the rules core (``parse_services``), whose problems come back to the field they
name as a translated message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from referral.forms import Form, date_in_range
from referral.rules import Catalogue, SeedError

TEXT_PAIRS = ("how_to_refer", "contact", "hours")
AGE_FIELDS = ("min_age", "max_age", "male_max_age", "companion_max_age_male")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_int(label: Any, high: int | None = 120) -> IntegerField:
    checks: list[Any] = [Optional(), NumberRange(min=0, max=high)]
    return IntegerField(label, validators=checks)


class ServiceForm(Form):
    id = StringField(
        _l("Id"),
        validators=[DataRequired(), Length(max=120)],
        description=_l(
            "Lowercase letters, digits, '.', '_' or '-', for example svc-gro-shelter-men."
        ),
    )
    name_es = StringField(_l("Name in Spanish"), validators=[DataRequired(), Length(max=300)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=300)])
    need = SelectField(_l("Need it serves"), choices=[])
    status = SelectField(_l("Status"), choices=[])
    operator = SelectField(_l("Operated by"), choices=[])
    coverage = MultiCheckboxField(_l("Where it serves"), choices=[])
    min_age = _optional_int(_l("Minimum age"))
    max_age = _optional_int(_l("Maximum age"))
    sexes = MultiCheckboxField(_l("Sexes it accepts"), choices=[])
    male_max_age = _optional_int(
        _l("Males accepted only up to this age"),
    )
    accepts_foreign = BooleanField(_l("Accepts foreign nationals"))
    languages = StringField(
        _l("Languages spoken"),
        description=_l("Language codes separated by commas, for example: es, en, tzo."),
    )
    capacity_available = _optional_int(_l("Free places now"), high=None)
    requires_complaint = BooleanField(_l("Requires a complaint with a prosecutor first"))
    requires_victim_status = BooleanField(_l("Requires official victim status first"))
    accepts_companions = BooleanField(_l("Takes the children in the person's care"))
    companion_max_age_male = _optional_int(_l("Boys in the person's care accepted up to age"), 17)
    specializations = MultiCheckboxField(_l("Specialized in"), choices=[])
    tags = MultiCheckboxField(_l("Tags"), choices=[])
    source = TextAreaField(
        _l("Source"),
        validators=[DataRequired()],
        description=_l("The report paragraph or law article this entry rests on."),
    )
    how_to_refer_es = TextAreaField(_l("How to refer (Spanish)"))
    how_to_refer_en = TextAreaField(_l("How to refer (English)"))
    contact_es = TextAreaField(_l("Contact (Spanish)"))
    contact_en = TextAreaField(_l("Contact (English)"))
    hours_es = StringField(_l("Hours (Spanish)"))
    hours_en = StringField(_l("Hours (English)"))
    required_documents_es = TextAreaField(
        _l("Documents to bring (Spanish)"), description=_l("One document a line.")
    )
    required_documents_en = TextAreaField(
        _l("Documents to bring (English)"),
        description=_l("One document a line, in the same order as in Spanish."),
    )
    nationalities = StringField(
        _l("Only for nationals of"),
        description=_l(
            "Leave it empty for every nationality. Only for a service that serves some "
            "nationalities by nature, such as a consulate: country codes separated by commas, "
            "for example: GT, HN."
        ),
    )
    caveats_es = TextAreaField(
        _l("Know before referring (Spanish)"),
        description=_l("What the sources say a screener should know: one caveat a line."),
    )
    caveats_en = TextAreaField(
        _l("Know before referring (English)"),
        description=_l("One caveat a line, in the same order as in Spanish."),
    )
    caveats_source = TextAreaField(
        _l("Source of each caveat"),
        description=_l("The report paragraph or law article of each caveat, one a line."),
    )
    last_verified = DateField(_l("Last verified"), validators=[Optional(), date_in_range])
    confidential = BooleanField(
        _l("Confidential location"),
        description=_l("The contact and how to get there are shown to administrators only."),
    )


class CapacityForm(Form):
    capacity_available = _optional_int(_l("Free places now"), high=None)


class RetireForm(Form):
    pass


class ConfirmDirectoryForm(Form):
    """An admin says the directory is a real one (or a demonstration again)."""

    confirmed = HiddenField()


def prepare(form: ServiceForm, catalogue: Catalogue, lang: str) -> ServiceForm:
    def choices(list_name: str, codes: Any) -> list[tuple[str, str]]:
        return [(c, catalogue.label(list_name, c, lang)) for c in codes]

    form.need.choices = choices("needs", catalogue.need_order)
    form.status.choices = choices("service_statuses", catalogue.seeds.codes("service_statuses"))
    form.operator.choices = choices("operators", catalogue.seeds.codes("operators"))
    form.coverage.choices = [("national", _("The whole country"))] + [
        (code, catalogue.label("states", code, lang)) for code in catalogue.state_names
    ]
    form.sexes.choices = choices("sexes", ("female", "male", "intersex"))
    form.specializations.choices = choices("forms", catalogue.seeds.codes("forms"))
    form.tags.choices = choices("service_tags", catalogue.seeds.codes("service_tags"))
    return form


def fill_from_entry(form: ServiceForm, entry: dict[str, Any]) -> None:
    """Put a stored entry into an empty form (GET of the edit page)."""
    form.id.data = entry["id"]
    form.name_es.data, form.name_en.data = entry["name"]["es"], entry["name"]["en"]
    for name in (
        "need",
        "status",
        "operator",
        "coverage",
        "sexes",
        "specializations",
        "tags",
        "source",
        "accepts_foreign",
        "requires_complaint",
        "requires_victim_status",
        "accepts_companions",
        "capacity_available",
        *AGE_FIELDS,
    ):
        getattr(form, name).data = entry.get(name)
    form.languages.data = ", ".join(entry.get("languages") or [])
    for name in TEXT_PAIRS:
        texts = entry.get(name) or {}
        getattr(form, f"{name}_es").data = texts.get("es", "")
        getattr(form, f"{name}_en").data = texts.get("en", "")
    documents = entry.get("required_documents") or []
    form.required_documents_es.data = "\n".join(d["es"] for d in documents)
    form.required_documents_en.data = "\n".join(d["en"] for d in documents)
    form.nationalities.data = ", ".join(entry.get("nationalities") or [])
    caveats = entry.get("caveats") or []
    for key in ("es", "en", "source"):
        getattr(form, f"caveats_{key}").data = "\n".join(c[key] for c in caveats)
    verified = entry.get("last_verified")
    form.last_verified.data = dt.date.fromisoformat(verified) if verified else None
    form.confidential.data = bool(entry.get("confidential"))


def entry_from_form(form: ServiceForm, *, service_id: str) -> dict[str, Any]:
    """The CONTRACT 4 entry the form describes (checked afterwards by the rules core)."""
    entry: dict[str, Any] = {
        "id": service_id,
        "name": {"es": (form.name_es.data or "").strip(), "en": (form.name_en.data or "").strip()},
        "need": form.need.data,
        "status": form.status.data,
        "operator": form.operator.data,
        "coverage": list(form.coverage.data or []),
        "min_age": form.min_age.data,
        "max_age": form.max_age.data,
        "sexes": list(form.sexes.data or []),
        "male_max_age": form.male_max_age.data,
        "accepts_foreign": bool(form.accepts_foreign.data),
        "languages": [x.strip() for x in (form.languages.data or "").split(",") if x.strip()],
        "capacity_available": form.capacity_available.data,
        "requires_complaint": bool(form.requires_complaint.data),
        "requires_victim_status": bool(form.requires_victim_status.data),
        "accepts_companions": bool(form.accepts_companions.data),
        "companion_max_age_male": form.companion_max_age_male.data,
        "specializations": list(form.specializations.data or []),
        "tags": list(form.tags.data or []),
        "source": (form.source.data or "").strip(),
    }
    for name in TEXT_PAIRS:
        es = (getattr(form, f"{name}_es").data or "").strip()
        en = (getattr(form, f"{name}_en").data or "").strip()
        if es or en:
            entry[name] = {"es": es, "en": en}
    docs_es = [x.strip() for x in (form.required_documents_es.data or "").splitlines() if x.strip()]
    docs_en = [x.strip() for x in (form.required_documents_en.data or "").splitlines() if x.strip()]
    if docs_es or docs_en:
        width = max(len(docs_es), len(docs_en))
        docs_es += [""] * (width - len(docs_es))
        docs_en += [""] * (width - len(docs_en))
        entry["required_documents"] = [
            {"es": es, "en": en} for es, en in zip(docs_es, docs_en, strict=True)
        ]
    nationalities = [x.strip() for x in (form.nationalities.data or "").split(",") if x.strip()]
    if nationalities:
        entry["nationalities"] = nationalities
    lines = [
        [x.strip() for x in (getattr(form, f"caveats_{key}").data or "").splitlines() if x.strip()]
        for key in ("es", "en", "source")
    ]
    if any(lines):
        width = max(len(x) for x in lines)
        es, en, source = ([*x, *[""] * (width - len(x))] for x in lines)
        entry["caveats"] = [
            {"es": a, "en": b, "source": c} for a, b, c in zip(es, en, source, strict=True)
        ]
    if form.last_verified.data:
        entry["last_verified"] = form.last_verified.data.isoformat()
    if form.confidential.data:
        entry["confidential"] = True
    return entry


def form_field(error_field: str) -> str:
    """The form field a rules-core error names: ``name.es`` -> ``name_es``."""
    if error_field.startswith("caveats"):
        return "caveats_" + next(
            (key for key in ("en", "source") if error_field.endswith("." + key)), "es"
        )
    if error_field.startswith("nationalities"):
        return "nationalities"
    if error_field.startswith("required_documents"):
        return "required_documents_en" if error_field.endswith(".en") else "required_documents_es"
    return error_field.replace(".", "_")


def error_message(error: SeedError) -> str:
    """A rules-core message about a directory entry, in the reader's language."""
    message = error.message
    known = (
        ("missing field", lambda: _("This field is required.")),
        ("must be lowercase", lambda: _("Use lowercase letters, digits, '.', '_' or '-'.")),
        ("duplicate id", lambda: _("Another service already has this id.")),
        ("unknown code", lambda: _("Choose a value from the list.")),
        ("repeated code", lambda: _("A value is repeated.")),
        ("must not be empty", lambda: _("Choose at least one.")),
        (
            "must be a list of 2 or 3 letter",
            lambda: _("Language codes are 2 or 3 lowercase letters, separated by commas."),
        ),
        (
            "must be a whole number",
            lambda: _("Enter a whole number in the allowed range, or leave it empty."),
        ),
        ("is below min_age", lambda: _("The maximum age is below the minimum age.")),
        (
            "a government service must accept foreign victims",
            lambda: _(
                "A government service must accept foreign victims: by law they get the same "
                "services (report PROTECTION ¶8)."
            ),
        ),
        ("missing source", lambda: _("Say which report paragraph or law article this rests on.")),
        ("missing text", lambda: _("Write this text in both languages.")),
        ("must be a date", lambda: _("Enter a date as YYYY-MM-DD.")),
        (
            "must be an ISO 3166-1 alpha-2 code",
            lambda: _(
                "Write country codes of two capital letters, such as GT, separated by commas."
            ),
        ),
        (
            "a refuge for women victims of violence is refused",
            lambda: _(
                "A refuge for women victims of violence cannot be in the directory: trafficking "
                "victims must never be housed there (LGPSEDMTP Art. 90 VI)."
            ),
        ),
    )
    for prefix, text in known:
        if message.startswith(prefix):
            return text()
    return _("This value is not valid.")
