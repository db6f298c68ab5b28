"""Account forms. Every label and message is marked for translation at module level."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from referral.auth.operations import PASSWORD_MAX, PASSWORD_MIN
from referral.forms import Form, SelectChoice
from referral.i18n import DEFAULT_LANGUAGE, LANGUAGES, language_name

REQUIRED = _l("This field is required.")
PASSWORD_LENGTH = _l(
    "The password must have between %(min)d and %(max)d characters.",
    min=PASSWORD_MIN,
    max=PASSWORD_MAX,
)
LANGUAGE_CHOICES = [SelectChoice(code, language_name(code)) for code in LANGUAGES]
ROLE_LABELS: dict[str, Any] = {
    "screener": _l("Screener"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
    "provider": _l("Receiving service"),
}


def _email_shape(_form: Any, field: Any) -> None:
    value = (field.data or "").strip()
    if "@" not in value or any(ch.isspace() for ch in value) or len(value) > 254:
        raise ValidationError(_l("Enter an email address such as name@example.org."))


def _new_password() -> PasswordField:
    return PasswordField(
        _l("New password"),
        validators=[
            DataRequired(message=REQUIRED),
            Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=PASSWORD_LENGTH),
        ],
        description=_l(
            "Between %(min)d and %(max)d characters.", min=PASSWORD_MIN, max=PASSWORD_MAX
        ),
    )


def _confirm() -> PasswordField:
    return PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(message=REQUIRED),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )


class SignInForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(message=REQUIRED), _email_shape])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(message=REQUIRED),
            Length(max=PASSWORD_MAX, message=PASSWORD_LENGTH),
        ],
    )
    next = HiddenField()


class SignOutForm(Form):
    """Signing out is a POST with a CSRF token, so another site cannot sign anyone out."""


class SetupForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(message=REQUIRED), _email_shape])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    language = SelectField(
        _l("Preferred language"), choices=LANGUAGE_CHOICES, default=DEFAULT_LANGUAGE
    )
    password = _new_password()
    confirm = _confirm()


class LanguageForm(Form):
    language = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES)


class PasswordForm(Form):
    current = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(message=REQUIRED),
            Length(max=PASSWORD_MAX, message=PASSWORD_LENGTH),
        ],
    )
    password = _new_password()
    confirm = _confirm()


class UserForm(Form):
    """An admin creates or edits a user; on edit the password fields are absent."""

    email = EmailField(_l("Email"), validators=[DataRequired(message=REQUIRED), _email_shape])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[], validators=[DataRequired(message=REQUIRED)])
    national = BooleanField(_l("Works nationally (every state)"))
    states = SelectMultipleField(_l("States"), choices=[], validate_choice=True)
    language = SelectField(
        _l("Preferred language"), choices=LANGUAGE_CHOICES, default=DEFAULT_LANGUAGE
    )
    active = BooleanField(_l("Active (may sign in)"), default=True)
    password = _new_password()
    confirm = _confirm()

    # A provider answers for directory services, not states (referral/provider).
    services = SelectMultipleField(
        _l("Services this account answers for (receiving services only)"),
        choices=[],
        validate_choice=True,
    )

    def validate_states(self, field: Any) -> None:
        if self.role.data in ("admin", "provider"):
            return
        if not self.national.data and not field.data:
            raise ValidationError(_l("Choose at least one state, or national."))

    def validate_services(self, field: Any) -> None:
        if self.role.data == "provider" and not field.data:
            raise ValidationError(_l("Choose at least one service for a receiving service."))


class UserEditForm(UserForm):
    # WTForms removes an inherited field that a subclass sets to None.
    email = None  # type: ignore[assignment]  # the sign-in name stays as created
    password = None  # type: ignore[assignment]
    confirm = None  # type: ignore[assignment]


class CodeForm(Form):
    """The second step of signing in, and every change to the second factor."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(message=REQUIRED),
            Length(max=32, message=_l("A code has 6 digits, or 10 letters and digits.")),
        ],
        description=_l(
            "The 6 digits your authenticator app shows now, or one of your recovery codes."
        ),
    )


class ResetPasswordForm(Form):
    """A new password set through an admin's one-time link."""

    password = _new_password()
    confirm = _confirm()


class ButtonForm(Form):
    """A button that changes something: only the CSRF token."""
