"""Forms of the receiving service: its answer (signed in or through the link), its places."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from referral.casework.models import Referral
from referral.casework.workflow import REASONS, TRANSITIONS
from referral.forms import Form
from referral.rules import Catalogue
from referral.rules.contract import REASON_REQUIRED_STATUSES, ReferralStatus

# What a service may say of a referral made to it (cancelling or failing it is the screener's).
PROVIDER_STATUSES = (
    ReferralStatus.accepted,
    ReferralStatus.rejected,
    ReferralStatus.in_progress,
    ReferralStatus.on_hold,
    ReferralStatus.completed,
)
# Through the answer link the service only accepts or declines (it has no later visit).
LINK_STATUSES = (ReferralStatus.accepted, ReferralStatus.rejected)
NOTE_MAX = 1000


def provider_choices(
    referral: Referral, catalogue: Catalogue, lang: str, allowed: tuple[str, ...]
) -> list[tuple[str, str]]:
    """The statuses this service may give the referral now, labelled in ``lang``."""
    return [
        (code, catalogue.label("referral_statuses", code, lang))
        for code in allowed
        if code in TRANSITIONS[referral.status]
    ]


def reason_choices(catalogue: Catalogue, lang: str) -> list[tuple[str, str]]:
    return [("", "—")] + [
        (code, catalogue.label("referral_reasons", code, lang)) for code in REASONS
    ]


class AnswerForm(Form):
    """The service's answer: a status, a reason when it needs one, an optional note."""

    status = SelectField(_l("Your answer"), validators=[InputRequired(_l("Choose an answer."))])
    reason_code = SelectField(_l("Reason"), choices=[], validate_choice=False)
    note = TextAreaField(
        _l("Note for the person who referred (optional)"),
        validators=[Optional(), Length(max=NOTE_MAX)],
        description=_l("Do not write the person's name or anything that identifies them."),
    )
    version = HiddenField(validators=[InputRequired()])

    def validate_reason_code(self, field: Any) -> None:
        if self.status.data in REASON_REQUIRED_STATUSES and field.data not in REASONS:
            raise ValidationError(_l("This answer needs a reason: choose one."))

    def version_number(self) -> int | None:
        try:
            return int(self.version.data or "")
        except (TypeError, ValueError):
            return None


class LinkAnswerForm(AnswerForm):
    """Through the link there is no account: the person answering says who they are."""

    responder_name = StringField(
        _l("Your name"),
        validators=[InputRequired(_l("Write your name.")), Length(max=200)],
    )
    responder_role = StringField(
        _l("Your role at the service"),
        validators=[InputRequired(_l("Write your role at the service.")), Length(max=200)],
    )


class CapacityForm(Form):
    """Free places now and in all (HSDS 3.1 service_capacity: available and maximum)."""

    capacity_available = IntegerField(
        _l("Free places now"), validators=[Optional(), NumberRange(min=0, max=100_000)]
    )
    capacity_maximum = IntegerField(
        _l("Places in all"), validators=[Optional(), NumberRange(min=0, max=100_000)]
    )

    def validate_capacity_available(self, field: Any) -> None:
        maximum = self.capacity_maximum.data
        if field.data is not None and maximum is not None and field.data > maximum:
            raise ValidationError(_l("There cannot be more free places than places in all."))


def _text(label: Any) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=1000)])


class EntryForm(Form):
    """The parts of its directory entry a service keeps true itself, in both languages."""

    how_to_refer_es = _text(_l("How to refer, in Spanish"))
    how_to_refer_en = _text(_l("How to refer, in English"))
    contact_es = _text(_l("Contact, in Spanish"))
    contact_en = _text(_l("Contact, in English"))
    hours_es = _text(_l("Hours, in Spanish"))
    hours_en = _text(_l("Hours, in English"))
    documents_es = TextAreaField(
        _l("Documents to bring, in Spanish (one a line)"),
        validators=[Optional(), Length(max=4000)],
    )
    documents_en = TextAreaField(
        _l("Documents to bring, in English (one a line, in the same order)"),
        validators=[Optional(), Length(max=4000)],
    )

    def validate_documents_en(self, field: Any) -> None:
        if len(_lines(field.data)) != len(_lines(self.documents_es.data)):
            raise ValidationError(_l("Write each document in both languages, one a line."))

    def pair_errors(self) -> None:
        """Each text in both languages or in neither."""
        for name in ("how_to_refer", "contact", "hours"):
            es, en = getattr(self, f"{name}_es"), getattr(self, f"{name}_en")
            if bool((es.data or "").strip()) != bool((en.data or "").strip()):
                target = en if (es.data or "").strip() else es
                target.errors = [*target.errors, str(_l("Write it in both languages."))]

    def changes(self) -> dict[str, Any]:
        def pair(name: str) -> dict[str, str] | None:
            es = (getattr(self, f"{name}_es").data or "").strip()
            en = (getattr(self, f"{name}_en").data or "").strip()
            return {"es": es, "en": en} if es and en else None

        docs_es, docs_en = _lines(self.documents_es.data), _lines(self.documents_en.data)
        return {
            "how_to_refer": pair("how_to_refer"),
            "contact": pair("contact"),
            "hours": pair("hours"),
            "required_documents": [
                {"es": es, "en": en} for es, en in zip(docs_es, docs_en, strict=True)
            ],
        }

    @classmethod
    def of_entry(cls, entry: dict[str, Any]) -> EntryForm:
        data: dict[str, Any] = {}
        for name in ("how_to_refer", "contact", "hours"):
            value = entry.get(name) or {}
            data[f"{name}_es"], data[f"{name}_en"] = value.get("es", ""), value.get("en", "")
        documents = entry.get("required_documents") or []
        data["documents_es"] = "\n".join(d["es"] for d in documents)
        data["documents_en"] = "\n".join(d["en"] for d in documents)
        return cls(formdata=None, data=data)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
