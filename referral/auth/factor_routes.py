"""The second step of signing in, the second factor on one's account, one's sessions, and the
password-reset links admins issue. Views of the ``auth`` blueprint (referral/auth/routes.py).

URL rules:
    GET/POST /sign-in/code                          auth.sign_in_code
    GET/POST /sign-in/enrol                         auth.sign_in_enrol
    GET/POST /account/second-factor                 auth.account_second_factor
    POST     /account/second-factor/recovery-codes  auth.account_recovery_codes
    POST     /account/second-factor/off             auth.account_second_factor_off
    GET      /account/sessions                      auth.account_sessions
    POST     /account/sessions/<id>/end             auth.account_session_end
    POST     /account/sessions/end-others           auth.account_sessions_end_others
    POST     /admin/users/<id>/second-factor/reset  auth.user_second_factor_reset (admins)
    POST     /admin/users/<id>/reset-link           auth.user_reset_link          (admins)
    GET/POST /reset/<token>                         auth.reset_password
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from referral import db
from referral.access import current_reach, load_or_404, requires
from referral.auth import operations as ops
from referral.auth import second_factor
from referral.auth.forms import ButtonForm, CodeForm, ResetPasswordForm
from referral.auth.models import User
from referral.auth.routes import (
    PENDING,
    SESSION_KEY,
    blueprint,
    complete_sign_in,
    error_message,
    landing,
)
from referral.urls import safe_next

NEW_SECRET = "new_totp_secret"  # noqa: S105 (a session key: the secret shown, until confirmed)
PENDING_SECONDS = 300  # the second step waits this long after the password


def pending_user() -> tuple[User, str] | None:
    """Who gave the right password in this browser a moment ago, and where they were going."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or not isinstance(data.get("at"), int):
        return None
    if ops.utcnow().timestamp() - data["at"] > PENDING_SECONDS:
        return None
    user = db.session().get(User, data.get("user"))
    if user is None or not user.active:
        return None
    return user, safe_next(data.get("next"), "") or landing(user)


def start_again() -> Response:
    session.pop(PENDING, None)
    flash(_("Please sign in again: the code is asked for within 5 minutes of the password."))
    return redirect(url_for("auth.sign_in"))


def enrolment_page(
    template: str, form: CodeForm, user: User, problem: str | None, **extra: Any
) -> str:
    """The QR code (drawn here, as SVG) and the same secret as text, for a new second factor."""
    secret = session.get(NEW_SECRET)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[NEW_SECRET] = second_factor.new_secret()
    uri = second_factor.provisioning_uri(secret, user.email)
    return render_template(
        template,
        form=form,
        problem=problem,
        qr=second_factor.qr_code(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        **extra,
    )


def recovery_codes_page(codes: list[str], target: str) -> str:
    return render_template("auth/recovery_codes.html", codes=codes, target=target)


# --- the second step of signing in -------------------------------------------------------------


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code() -> str | Response:
    found = pending_user()
    if found is None:
        return start_again()
    user, target = found
    if not second_factor.enrolled(user):
        return redirect(url_for("auth.sign_in_enrol"))
    form = CodeForm()
    problem = None
    if form.validate_on_submit():
        try:
            how = second_factor.verify(
                db.session(), user, form.code.data or "", request.remote_addr
            )
        except ops.AccountError as exc:
            problem = error_message(exc)
        else:
            complete_sign_in(user)
            if how == "recovery":
                left = second_factor.recovery_codes_left(db.session(), user)
                flash(
                    ngettext(
                        "You signed in with a recovery code: %(num)d is left. Make new ones "
                        "on your account page.",
                        "You signed in with a recovery code: %(num)d are left. Make new ones "
                        "on your account page when few are left.",
                        left,
                    ),
                    "warning",
                )
            return redirect(target)
    return render_template("auth/second_factor.html", form=form, problem=problem)


@blueprint.route("/sign-in/enrol", methods=["GET", "POST"])
def sign_in_enrol() -> str | Response:
    found = pending_user()
    if found is None:
        return start_again()
    user, target = found
    if second_factor.enrolled(user):
        return redirect(url_for("auth.sign_in_code"))
    form = CodeForm()
    problem = None
    secret = session.get(NEW_SECRET)
    if form.validate_on_submit() and isinstance(secret, str):
        try:
            codes = second_factor.enrol(db.session(), user, secret, form.code.data or "")
        except ops.AccountError as exc:
            problem = error_message(exc)
        else:
            complete_sign_in(user)  # a fresh session: the secret leaves the cookie with it
            return recovery_codes_page(codes, target)
    return enrolment_page("auth/enrol.html", form, user, problem, during_sign_in=True)


# --- the second factor on one's account ----------------------------------------------------------


@blueprint.route("/account/second-factor", methods=["GET", "POST"])
@login_required
def account_second_factor() -> str | Response:
    user = current_user._get_current_object()
    if second_factor.enrolled(user):
        if request.method == "POST":  # set up already (in another tab, say): show it
            return redirect(url_for("auth.account_second_factor"))
        return render_template(
            "auth/second_factor_status.html",
            renew_form=CodeForm(formdata=None, prefix="renew"),
            off_form=CodeForm(formdata=None, prefix="off"),
            left=second_factor.recovery_codes_left(db.session(), user),
            required=second_factor.required(user),
        )
    form = CodeForm()
    problem = None
    secret = session.get(NEW_SECRET)
    if form.validate_on_submit() and isinstance(secret, str):
        try:
            codes = second_factor.enrol(db.session(), user, secret, form.code.data or "")
        except ops.AccountError as exc:
            problem = error_message(exc)
        else:
            session.pop(NEW_SECRET, None)
            return recovery_codes_page(codes, url_for("auth.account"))
    return enrolment_page("auth/enrol.html", form, user, problem, during_sign_in=False)


@blueprint.post("/account/second-factor/recovery-codes")
@login_required
def account_recovery_codes() -> str | Response:
    user = current_user._get_current_object()
    form = CodeForm(prefix="renew")
    if form.validate_on_submit():
        try:
            codes = second_factor.renew_recovery_codes(
                db.session(), user, form.code.data or "", request.remote_addr
            )
        except ops.AccountError as exc:
            flash(error_message(exc), "error")
        else:
            return recovery_codes_page(codes, url_for("auth.account"))
    else:
        flash(_("Type the code your authenticator app shows now."), "error")
    return redirect(url_for("auth.account_second_factor"))


@blueprint.post("/account/second-factor/off")
@login_required
def account_second_factor_off() -> Response:
    user = current_user._get_current_object()
    form = CodeForm(prefix="off")
    if form.validate_on_submit():
        try:
            second_factor.turn_off(db.session(), user, form.code.data or "", request.remote_addr)
        except ops.AccountError as exc:
            flash(error_message(exc), "error")
        else:
            flash(_("The second factor is off. You sign in with your password alone."), "success")
            return redirect(url_for("auth.account"))
    else:
        flash(_("Type the code your authenticator app shows now."), "error")
    return redirect(url_for("auth.account_second_factor"))


# --- one's sessions ------------------------------------------------------------------------------


@blueprint.get("/account/sessions")
@login_required
def account_sessions() -> str:
    user = current_user._get_current_object()
    this = ops.digest(session.get(SESSION_KEY) or "")
    return render_template(
        "auth/sessions.html",
        rows=ops.live_sessions(db.session(), user),
        this=this,
        form=ButtonForm(formdata=None),
    )


@blueprint.post("/account/sessions/<int:session_id>/end")
@login_required
def account_session_end(session_id: int) -> Response:
    user = current_user._get_current_object()
    database = db.session()
    row = database.get(ops.UserSession, session_id)
    ending_this = row is not None and row.token_hash == ops.digest(session.get(SESSION_KEY) or "")
    if not ops.end_own_session(database, user, session_id):
        abort(404)  # another user's session, or one already ended: nothing to reveal
    if ending_this:
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
        return redirect(url_for("site.home"))
    flash(_("That session has ended."), "success")
    return redirect(url_for("auth.account_sessions"))


@blueprint.post("/account/sessions/end-others")
@login_required
def account_sessions_end_others() -> Response:
    user = current_user._get_current_object()
    ops.end_other_sessions(db.session(), user, keep=session.get(SESSION_KEY))
    flash(_("Every other session has ended."), "success")
    return redirect(url_for("auth.account_sessions"))


# --- what admins do for someone who cannot get in ------------------------------------------------


def _target_user(user_id: int) -> User:
    return load_or_404(
        db.session(), User, user_id, current_reach(), state_attr=None, owner_attr="id"
    )


@blueprint.post("/admin/users/<int:user_id>/second-factor/reset")
@requires("admin")
def user_second_factor_reset(user_id: int) -> Response:
    user = _target_user(user_id)
    second_factor.reset(db.session(), user, actor_id=current_user.id)
    flash(
        _(
            "The second factor of %(email)s is removed and their sessions have ended. "
            "They set up a new one at their next sign-in.",
            email=user.email,
        ),
        "success",
    )
    return redirect(url_for("auth.user_edit", user_id=user.id))


@blueprint.post("/admin/users/<int:user_id>/reset-link")
@requires("admin")
def user_reset_link(user_id: int) -> str | Response:
    user = _target_user(user_id)
    minutes = int(current_app.config["RESET_LINK_MINUTES"])
    try:
        token = ops.issue_reset_link(db.session(), user, actor_id=current_user.id, minutes=minutes)
    except ops.AccountError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for("auth.user_edit", user_id=user.id))
    link = url_for("auth.reset_password", token=token, _external=True)
    return render_template("auth/reset_link.html", user=user, link=link, hours=minutes / 60)


@blueprint.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    database = db.session()
    found = ops.valid_reset_token(database, token)
    if found is None:
        return render_template("auth/reset_unavailable.html"), 404
    row, user = found
    form = ResetPasswordForm()
    problem = None
    if form.validate_on_submit():
        try:
            ops.reset_password(database, row, user, form.password.data or "")
        except ops.AccountError as exc:
            problem = error_message(exc)
        else:
            if current_user.is_authenticated:  # whoever was signed in here: not any more
                logout_user()
            session.clear()
            flash(
                _(
                    "Your new password is set, and every session and API token of your "
                    "account has ended. Sign in with the new password."
                ),
                "success",
            )
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form, problem=problem, user=user)
