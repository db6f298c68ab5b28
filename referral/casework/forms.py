"""The intake form, one WTForms class per section. Choices and labels come from the seeds.

Every field keeps what was typed when validation fails; messages are in the user's language.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any, cast

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from referral.casework.models import Referral
from referral.casework.workflow import REASONS, TRANSITIONS
from referral.forms import Form as FlaskForm  # every posted form's shared checks
from referral.i18n import by_label, sort_key
from referral.rules import Catalogue, Indicator, indicators_from_answers
from referral.rules.contract import INDICATORS, REASON_REQUIRED_STATUSES, QuestionAnswer

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
MAX_COMPANIONS = 12
YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
NOT_ASKED = QuestionAnswer.not_asked.value
ANSWER_LABELS = {
    QuestionAnswer.yes.value: _l("Yes"),
    QuestionAnswer.no.value: _l("No"),
    QuestionAnswer.not_asked.value: _l("Not asked"),
    QuestionAnswer.prefers_not_to_say.value: _l("Prefers not to say"),
}
QUESTION_PREFIX = "q_"  # the form field of each indicator's question: q_<indicator code>


def question_field(code: str) -> str:
    return QUESTION_PREFIX + code


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes with one name (rendered by the templates' macros)."""


class CompanionForm(Form):
    age = IntegerField(
        _l("Age"),
        validators=[
            InputRequired(_l("Enter the child's age.")),
            NumberRange(0, 17, _l("A child in the person's care is 0 to 17 years old.")),
        ],
    )
    sex = SelectField(_l("Sex"), validators=[InputRequired(_l("Choose the child's sex."))])


class EncounterForm(FlaskForm):
    encounter = SelectField(
        _l("Where did you meet the person?"),
        validators=[InputRequired(_l("Choose where you met the person."))],
    )
    state = SelectField(
        _l("State where the person is now"),
        validators=[InputRequired(_l("Choose the state, or “unknown”."))],
    )
    setting = RadioField(
        _l("Urban or rural area"), validators=[InputRequired(_l("Choose urban, rural or unknown."))]
    )


class PersonForm(FlaskForm):
    age = IntegerField(
        _l("Age in years"),
        validators=[Optional(), NumberRange(0, 120, _l("Enter an age from 0 to 120."))],
    )
    age_unknown = BooleanField(_l("The age is not known"))
    clearly_adult = BooleanField(
        _l("I am sure the person is 18 or older"),
        description=_l(
            "Only when the age is not known. Otherwise the person is treated as a minor "
            "until shown otherwise (LGPSEDMTP Art. 3 X)."
        ),
    )
    sex = RadioField(_l("Sex"), validators=[InputRequired(_l("Choose the person's sex."))])
    # The rules core checks the code against its 250 countries; WTForms need not scan them
    # again on every submission.
    nationality = SelectField(
        _l("Nationality"),
        validators=[InputRequired(_l("Choose a nationality, or “unknown”."))],
        validate_choice=False,
    )
    languages = MultiCheckboxField(_l("Languages the person speaks"))
    other_languages = StringField(
        _l("Other languages (ISO 639 codes, separated by commas)"),
        description=_l("For example: mam, quc. Leave empty if none."),
        validators=[Length(max=100)],
    )
    migration_status = SelectField(
        _l("Migration status"), validators=[InputRequired(_l("Choose a migration status."))]
    )
    vulnerabilities = MultiCheckboxField(_l("Circumstances that make the person more vulnerable"))
    companions = FieldList(FormField(CompanionForm), min_entries=0, max_entries=MAX_COMPANIONS)

    def validate_age(self, field: Field) -> None:
        if field.data is None and not self.age_unknown.data:
            raise ValidationError(_l("Enter the age, or mark that it is not known."))

    def validate_other_languages(self, field: Field) -> None:
        for code in split_codes(field.data):
            if not LANGUAGE_CODE.match(code):
                # gettext, not lazy_gettext: a lazy string counts as safe markup in Jinja, and
                # this one carries what was typed (it must be escaped when shown).
                raise ValidationError(
                    gettext(
                        "“%(code)s” is not a language code: use 2 or 3 lowercase letters.",
                        code=code,
                    )
                )


class IndicatorsForm(FlaskForm):
    """One question per indicator (fields q_<code>, added below), each answered yes, no, not
    asked or prefers not to say; the seeds say which answer marks the indicator."""

    sector = SelectField(_l("Where was the person made to work? (optional)"))


for _code in INDICATORS:  # labels and choices come from the seeds (set_choices)
    setattr(IndicatorsForm, question_field(_code), RadioField(default=NOT_ASKED))


class NeedsForm(FlaskForm):
    needs = MultiCheckboxField(_l("What the person needs"))
    immediate_danger = BooleanField(_l("The person, or someone in their care, is in danger now"))
    cross_border = BooleanField(_l("Recruitment or exploitation crossed an international border"))
    organized_crime = BooleanField(_l("An organized criminal group is involved"))
    official_involvement = BooleanField(_l("A public official is allegedly involved"))


class LegalForm(FlaskForm):
    complaint_filed = BooleanField(_l("A complaint was filed with a public prosecutor"))
    victim_status = BooleanField(_l("The person has official victim status (registry)"))
    consent_referral = RadioField(
        _l("Does the person agree to be referred to services?"),
        choices=YES_NO,
        validators=[InputRequired(_l("Ask the person and record the answer."))],
    )
    consent_statistics = RadioField(
        _l("Does the person agree that their case is counted in anonymous statistics?"),
        choices=YES_NO,
        validators=[InputRequired(_l("Ask the person and record the answer."))],
    )
    notes = TextAreaField(
        _l("Notes (optional)"),
        description=_l(
            "Only for this case: never exported and never shown outside the case. "
            "Do not write the person's name or contact details."
        ),
        validators=[Length(max=4000)],
    )


class ReviewForm(FlaskForm):
    """Only the CSRF token: the review page submits the whole draft."""


SECTION_FORMS: dict[str, type[FlaskForm]] = {
    "encounter": EncounterForm,
    "person": PersonForm,
    "indicators": IndicatorsForm,
    "needs": NeedsForm,
    "legal": LegalForm,
    "review": ReviewForm,
}

SECTION_TITLES = {
    "encounter": _l("Encounter"),
    "person": _l("The person"),
    "indicators": _l("Screening questions"),
    "needs": _l("Needs"),
    "legal": _l("Legal status and consent"),
    "review": _l("Review and submit"),
}


def split_codes(text: str | None) -> list[str]:
    return [c.strip().lower() for c in (text or "").replace(";", ",").split(",") if c.strip()]


def _choices(catalogue: Catalogue, list_name: str, lang: str) -> list[tuple[str, str]]:
    return [(row["code"], row["label"]) for row in catalogue.code_lists(lang)[list_name]]


def set_choices(form: FlaskForm, catalogue: Catalogue, lang: str) -> None:
    """Fill every choice field from the seeds, labels in ``lang``."""
    lists = catalogue.code_lists(lang)

    def pairs(name: str) -> list[tuple[str, str]]:
        return [(row["code"], row["label"]) for row in lists[name]]

    if isinstance(form, EncounterForm):
        form.encounter.choices = [("", _l("Choose…")), *pairs("encounters")]
        states = pairs("states")  # the states by name, then "location not known"
        known = by_label([p for p in states if p[0] != "unknown"], lang, lambda p: p[1])
        form.state.choices = [
            ("", _l("Choose…")),
            *known,
            *(p for p in states if p[0] == "unknown"),
        ]
        form.setting.choices = pairs("settings")
    elif isinstance(form, PersonForm):
        form.sex.choices = pairs("sexes")
        collate = sort_key(lang)  # Mexico and "unknown" first, then in the reader's order
        nationalities = sorted(
            pairs("nationalities"), key=lambda p: (p[0] not in {"MX", "ZZ"}, collate(p[1]))
        )
        form.nationality.choices = [("", _l("Choose…")), *nationalities]
        form.languages.choices = [(c, label) for c, label in pairs("languages") if c != "spa"]
        form.migration_status.choices = [("", _l("Choose…")), *pairs("migration_statuses")]
        form.vulnerabilities.choices = pairs("vulnerabilities")
        for entry in form.companions:
            entry.form.sex.choices = [("", _l("Choose…")), *pairs("sexes")]
    elif isinstance(form, IndicatorsForm):
        for indicator in catalogue.indicators:
            question = form[question_field(indicator.code)]
            question.label.text = indicator.text("question", lang)
            question.choices = [(a, ANSWER_LABELS[a]) for a in indicator.answers]
        form.sector.choices = [("", _l("Not known or not applicable")), *pairs("sectors")]
    elif isinstance(form, NeedsForm):
        form.needs.choices = pairs("needs")


def section_values(form: FlaskForm, section: str) -> dict[str, Any]:
    """The section's values as stored in the draft (what the person typed, even if invalid)."""
    values: dict[str, Any] = {}
    answers: dict[str, str] = {}
    for name, field in form._fields.items():
        if name == "csrf_token":
            continue
        if name.startswith(QUESTION_PREFIX):
            # Only an answer the question offers is kept; anything else reads as not asked.
            offered = {choice[0] for choice in cast(RadioField, field).choices or []}
            if field.data in offered:
                answers[name.removeprefix(QUESTION_PREFIX)] = field.data
            continue
        if name == "companions":
            values[name] = [
                {"age": raw_value(entry.form.age), "sex": entry.form.sex.data or ""}
                for entry in cast(FieldList, field)
            ]
        elif isinstance(field, IntegerField):
            values[name] = raw_value(field)
        else:
            values[name] = field.data
    if isinstance(form, IndicatorsForm):
        values["answers"] = answers
    return values


def raw_value(field: Field) -> Any:
    """An integer field's value, or the text typed when it is not a number (kept, not lost)."""
    if field.data is not None:
        return field.data
    raw = field.raw_data[0] if field.raw_data else ""
    return raw or None


def draft_answers(data: dict[str, Any], indicators: Sequence[Indicator]) -> dict[str, str]:
    """Every question's answer in a draft (not asked unless answered).

    A draft saved before questions had answers holds the list of indicators the screener
    ticked (``indicators``); each ticked one reads as the answer that marks it, so such a
    draft loads and means what it meant.
    """
    stored = data.get("answers")
    if isinstance(stored, dict):
        given = stored
    else:
        ticked = set(data.get("indicators") or [])
        given = {i.code: i.marked_by for i in indicators if i.code in ticked}
    return {
        i.code: given[i.code] if given.get(i.code) in i.answers else NOT_ASKED for i in indicators
    }


def draft_to_form_data(
    data: dict[str, Any], section: str, indicators: Sequence[Indicator] = ()
) -> dict[str, Any]:
    """Draft values in the shape WTForms takes as ``data=`` for this section."""
    form_class = SECTION_FORMS[section]
    names = [n for n in form_class.__dict__ if not n.startswith("_")]
    out = {name: data[name] for name in names if name in data}
    if section == "indicators":
        for code, answer in draft_answers(data, indicators).items():
            out[question_field(code)] = answer
    for key in ("consent_referral", "consent_statistics"):
        if key in out and isinstance(out[key], bool):
            out[key] = "yes" if out[key] else "no"
    return out


def section_fingerprint(
    data: dict[str, Any], section: str, seeds_digest: str, indicators: Sequence[Indicator]
) -> str:
    """What a section's validity depends on: its values in the draft (the answers too) and
    the seeds that give its choices. Equal fingerprints, same validation result (so it is
    done once)."""
    values = draft_to_form_data(data, section, indicators)
    text = json.dumps([section, seeds_digest, values], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def record_from_draft(data: dict[str, Any], indicators: Sequence[Indicator]) -> dict[str, Any]:
    """The CONTRACT screening record built from a draft (validated by the rules core next).

    Its indicators are those the answers mark (the seeds say which answer marks each)."""

    def as_int(value: Any) -> Any:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        return value

    age = None if data.get("age_unknown") else as_int(data.get("age"))
    languages = list(data.get("languages") or [])
    for code in split_codes(data.get("other_languages")):
        if code not in languages:
            languages.append(code)
    return {
        "age": age,
        "clearly_adult": bool(data.get("clearly_adult")) if age is None else False,
        "sex": data.get("sex") or "",
        "nationality": data.get("nationality") or "",
        "state": data.get("state") or "",
        "setting": data.get("setting") or "",
        "languages": languages,
        "migration_status": data.get("migration_status") or "",
        "encounter": data.get("encounter") or "",
        "indicators": indicators_from_answers(draft_answers(data, indicators), indicators),
        "sector": data.get("sector") or None,
        "vulnerabilities": list(data.get("vulnerabilities") or []),
        "companions": [
            {"age": as_int(c.get("age")), "sex": c.get("sex") or ""}
            for c in data.get("companions") or []
        ],
        "needs": list(data.get("needs") or []),
        "immediate_danger": bool(data.get("immediate_danger")),
        "complaint_filed": bool(data.get("complaint_filed")),
        "victim_status": bool(data.get("victim_status")),
        "cross_border": bool(data.get("cross_border")),
        "organized_crime": bool(data.get("organized_crime")),
        "official_involvement": bool(data.get("official_involvement")),
    }


def draft_from_record(
    record: dict[str, Any],
    known_languages: set[str],
    indicators: Sequence[Indicator],
    answers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Draft values that reproduce a stored screening (to start a re-screening from it): its
    answers, or, for a record stored without them, the marking answer to each indicator."""
    data = dict(record)
    present = set(data.pop("indicators", None) or [])
    data["answers"] = (
        dict(answers)
        if answers is not None
        else {i.code: i.marked_by for i in indicators if i.code in present}
    )
    data["age_unknown"] = record.get("age") is None
    data["sector"] = record.get("sector") or ""
    languages = record.get("languages", [])
    data["languages"] = [c for c in languages if c in known_languages]
    data["other_languages"] = ", ".join(c for c in languages if c not in known_languages)
    return data


# Which section holds each record field, to show a core validation error where it belongs.
FIELD_SECTION = {
    "encounter": "encounter",
    "state": "encounter",
    "setting": "encounter",
    "age": "person",
    "clearly_adult": "person",
    "sex": "person",
    "nationality": "person",
    "languages": "person",
    "migration_status": "person",
    "vulnerabilities": "person",
    "companions": "person",
    "indicators": "indicators",
    "answers": "indicators",
    "sector": "indicators",
    "needs": "needs",
    "immediate_danger": "needs",
    "cross_border": "needs",
    "organized_crime": "needs",
    "official_involvement": "needs",
    "complaint_filed": "legal",
    "victim_status": "legal",
}


class ReferForm(FlaskForm):
    need = HiddenField(validators=[InputRequired()])
    service_id = HiddenField(validators=[InputRequired()])


class AdHocReferralForm(FlaskForm):
    need = SelectField(_l("Need"), validators=[InputRequired(_l("Choose the need."))])
    provider = StringField(
        _l("Provider outside the directory"),
        description=_l("The organization or office, not a person's name."),
        validators=[InputRequired(_l("Name the provider.")), Length(max=200)],
    )
    reason = TextAreaField(
        _l("Why outside the directory?"),
        validators=[InputRequired(_l("Say why.")), Length(max=500)],
    )

    def __init__(self, *args: Any, needs: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.need.choices = [("", _l("Choose…")), *((n["code"], n["label"]) for n in needs)]


NOTE_MAX = 2000


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[InputRequired(_l("Choose a status."))])
    reason_code = SelectField(_l("Reason"), choices=[], validate_choice=False)
    note = TextAreaField(
        _l("Note (optional; needed when the reason is “other”)"),
        description=_l(
            "Kept with the case like its notes, never exported. "
            "Do not write the person's name or contact details."
        ),
        validators=[Length(max=NOTE_MAX)],
    )
    version = IntegerField(validators=[InputRequired()])

    def validate_reason_code(self, field: Any) -> None:
        if self.status.data in REASON_REQUIRED_STATUSES and field.data not in REASONS:
            raise ValidationError(_l("This status needs a reason: choose one."))

    def validate_note(self, field: Any) -> None:
        reason_applies = self.status.data in REASON_REQUIRED_STATUSES
        if reason_applies and self.reason_code.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("The reason is “other”: say what happened in a note."))


def status_choices(referral: Referral, catalogue: Catalogue, lang: str) -> list[tuple[str, str]]:
    """The statuses this referral may move to, labelled in ``lang``."""
    return [
        (code, catalogue.label("referral_statuses", code, lang))
        for code in catalogue.seeds.codes("referral_statuses")
        if code in TRANSITIONS[referral.status]
    ]


def reason_choices(catalogue: Catalogue, lang: str) -> list[tuple[str, str]]:
    return [("", "—")] + [
        (code, catalogue.label("referral_reasons", code, lang)) for code in REASONS
    ]
