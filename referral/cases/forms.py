"""Forms for referrals: refer to a directory service, refer outside it, change a status."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from referral.referrals.models import Referral
from referral.referrals.operations import NEEDS_REASON, REASONS, TRANSITIONS
from referral.rules import Catalogue


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


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[InputRequired(_l("Choose a status."))])
    reason_code = SelectField(_l("Reason"), choices=[], validate_choice=False)
    version = IntegerField(validators=[InputRequired()])

    def validate_reason_code(self, field: Any) -> None:
        if self.status.data in NEEDS_REASON and field.data not in REASONS:
            raise ValidationError(_l("This status needs a reason: choose one."))


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
