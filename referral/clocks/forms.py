"""The child-protection notice form: to whom, and the day and hour it was given."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from referral.clocks.models import Authority
from referral.forms import Form, date_in_range

AUTHORITY_LABELS = {
    Authority.procuraduria: _l("The state's Procuraduría de Protección (DIF)"),
    Authority.other: _l("Another authority"),
}
NOTICE_ERRORS = {
    "name_the_authority": _l("Name the authority the notice was given to."),
    "in_the_future": _l("The notice cannot have been given later than now."),
    "unknown_authority": _l("Choose who was notified."),
}


class ChildNoticeForm(Form):
    authority = RadioField(
        _l("Notified"),
        choices=[(code.value, label) for code, label in AUTHORITY_LABELS.items()],
        validators=[InputRequired(message=_l("Choose who was notified."))],
    )
    authority_other = StringField(_l("Which authority"), validators=[Optional(), Length(max=200)])
    notified_on = DateField(
        _l("Day of the notice"),
        validators=[DataRequired(message=_l("Enter the day of the notice.")), date_in_range],
    )
    notified_time = TimeField(
        _l("Hour of the notice"),
        validators=[DataRequired(message=_l("Enter the hour of the notice."))],
    )
