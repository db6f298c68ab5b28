"""The form that makes a differentially private release: a POST, with its CSRF token.

A release spends privacy budget, so it is never made by a GET (a link on another site
could trigger one). Supervisors choose only the year (their states are their scope); admins
also choose the scope and the privacy-loss parameter.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from referral.stats.releases import EPSILON_CHOICES


class ReleaseForm(FlaskForm):
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(_l("This field is required.")),
            NumberRange(1900, 2999, _l("Enter a year between 1900 and 2999.")),
        ],
    )
    state = SelectField(_l("State"), choices=[], validate_choice=False, validators=[Optional()])
    epsilon = SelectField(
        _l("Privacy-loss parameter (epsilon)"),
        choices=[(f"{e:g}", f"{e:g}") for e in EPSILON_CHOICES],
        validators=[Optional()],
    )
    update = BooleanField(_l("Include the cases that arrived after the last release"))
    table = SelectField(
        choices=[("summary", "summary"), ("synthetic", "synthetic")],
        default="summary",
        validators=[Optional()],
    )
