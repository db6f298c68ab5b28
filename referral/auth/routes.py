"""Sign in and out, first-run setup, the account page and user management.

URL rules of this feature (the second factor, sessions and reset links: factor_routes.py):
    GET/POST /sign-in                     auth.sign_in
    POST     /sign-out                    auth.sign_out
    GET/POST /setup/<token>               auth.setup
    GET      /account                     auth.account
    POST     /account/language            auth.account_language
    POST     /account/password            auth.account_password
    GET      /admin/users                 auth.users          (admins)
    GET/POST /admin/users/new             auth.user_new       (admins)
    GET/POST /admin/users/<id>            auth.user_edit      (admins)
"""

from __future__ import annotations

import math
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlmodel import select
from werkzeug.wrappers import Response

from referral import db
from referral.access import current_reach, load_or_404, requires
from referral.auth import operations as ops
from referral.auth import second_factor
from referral.auth.forms import (
    ROLE_LABELS,
    ButtonForm,
    LanguageForm,
    PasswordForm,
    SetupForm,
    SignInForm,
    UserEditForm,
    UserForm,
)
from referral.auth.models import ROLES, User
from referral.directory.models import State
from referral.forms import SelectChoice
from referral.i18n import by_label, current_language
from referral.security import limit_guessing
from referral.urls import safe_next

blueprint = Blueprint("auth", __name__, template_folder="templates")
login_manager = LoginManager()
SESSION_KEY = "sid"  # the random id of the server-side session record
PENDING = "pending_sign_in"  # who gave the right password and owes the second step
# The forms of referral/auth/factor_routes.py that check a code or a link, rate-limited too.
GUESSED = (
    "auth.sign_in_code",
    "auth.sign_in_enrol",
    "auth.account_second_factor",
    "auth.account_recovery_codes",
    "auth.account_second_factor_off",
    "auth.reset_password",
)


def error_message(exc: ops.AccountError) -> str:
    """The reader's-language message for a typed account error."""
    if isinstance(exc, ops.AccountLocked):
        return _(
            "Too many failed attempts: this account is locked until %(time)s. "
            "Other accounts are not affected.",
            time=format_datetime(exc.until, "short"),
        )
    if isinstance(exc, ops.SignInDelayed):
        seconds = max(1, math.ceil((exc.until - ops.utcnow()).total_seconds()))
        return ngettext(
            "Too many failed attempts on this account: wait %(num)d second and try again.",
            "Too many failed attempts on this account: wait %(num)d seconds and try again.",
            seconds,
        )
    messages = {
        "invalid_credentials": _("The email or the password is not right."),
        "password_length": _(
            "The password must have between %(min)d and %(max)d characters.",
            min=ops.PASSWORD_MIN,
            max=ops.PASSWORD_MAX,
        ),
        "duplicate_email": _("A user with this email already exists."),
        "last_admin": _("This is the last active administrator: make another one first."),
        "unknown_user": _("There is no active user with this email."),
        "invalid_code": _(
            "That code is not right, or it was already used. Check that your phone's clock "
            "is right and type the newest code, or a recovery code."
        ),
        "not_enrolled": _("There is no second factor to check: set one up first."),
        "second_factor_required": _(
            "Your role signs in with a second factor: it cannot be turned off."
        ),
    }
    if exc.code in messages:
        return messages[exc.code]
    if exc.detail.startswith("states"):
        return _("Choose valid states, or national.")
    return _("Check the role, states and language.")


# --- Flask-Login wiring --------------------------------------------------------------------


def _forget_sign_in() -> None:
    """Drop the sign-in from the cookie but keep the CSRF token, so a typed form survives."""
    for key in (SESSION_KEY, "_user_id", "_fresh", "_id"):
        session.pop(key, None)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    token = session.get(SESSION_KEY)
    found = ops.live_session_user(db.session(), token)
    if found is None or str(found[0].user_id) != user_id:
        _forget_sign_in()
        if token:
            flash(_("Your session has ended. Please sign in again."), "info")
        return None
    record, user = found
    if not user.active:
        _forget_sign_in()
        return None
    _touch(record.id, record.last_seen_at)
    return user


def _touch(record_id: int | None, last_seen: Any) -> None:
    """Keep the idle timer running, at most once a minute, in its own short transaction."""
    now = ops.utcnow()
    if (now - last_seen).total_seconds() < 60:
        return
    from referral.auth.models import UserSession

    if db.request_writes():
        # The request's session already holds SQLite's write lock: a second transaction
        # would wait for it until the busy timeout ("database is locked"). Touch in it.
        record = db.session().get(UserSession, record_id)
        if record is not None:
            record.last_seen_at = now
        return
    with db.get_db().transaction() as tx:
        record = tx.get(UserSession, record_id)
        if record is not None:
            record.last_seen_at = now


def user_language() -> str | None:
    """The saved language preference for i18n: the API token's user, or the signed-in user."""
    if request.blueprint == "api":
        api_user = g.get("api_user")
        return api_user.language if api_user is not None else None
    if request.endpoint == "static":
        return None
    return current_user.language if current_user.is_authenticated else None


# --- sign in, sign out -------------------------------------------------------------------


# Where each role's work is: screeners their cases, supervisors the dashboard, admins users.
LANDINGS = {
    "screener": "cases.index",
    "supervisor": "supervision.dashboard",
    "admin": "auth.users",
    "provider": "provider.inbox",
}


def landing(user: User) -> str:
    """The page a user lands on after signing in when no safe ``next`` was asked for."""
    return url_for(LANDINGS.get(user.role, "site.home"))


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response:
    # An empty target means "the user's own work", decided once we know who signs in.
    target = safe_next(request.args.get("next") or request.form.get("next"), "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or landing(current_user))
    form = SignInForm()
    if request.method == "GET":
        form.next.data = target
    problem = None
    if form.validate_on_submit():
        database = db.session()
        try:
            user = ops.authenticate(
                database, form.email.data or "", form.password.data or "", request.remote_addr
            )
        except ops.AccountError as exc:
            problem = error_message(exc)
        else:
            if second_factor.asked(user):
                return begin_second_step(user, target)
            complete_sign_in(user)
            return redirect(target or landing(user))
    no_admin = not ops.admin_exists(db.session())
    return render_template("auth/sign_in.html", form=form, problem=problem, no_admin=no_admin)


def complete_sign_in(user: User) -> None:
    """Every step passed: a fresh session (nothing from before survives), audited."""
    database = db.session()
    ops.record_audit(database, "sign_in", actor_id=user.id, object_kind="user", object_id=user.id)
    ops.end_session(database, session.get(SESSION_KEY))
    session.clear()
    session[SESSION_KEY] = ops.start_session(
        database, user, user_agent=request.user_agent.string, address=request.remote_addr
    )
    login_user(user)


def begin_second_step(user: User, target: str) -> Response:
    """The password was right: remember who, for a few minutes, and ask for the code (or for
    enrolment when this user has no second factor yet). Nobody is signed in meanwhile."""
    ops.end_session(db.session(), session.get(SESSION_KEY))
    session.clear()
    session[PENDING] = {"user": user.id, "at": int(ops.utcnow().timestamp()), "next": target}
    endpoint = "auth.sign_in_code" if second_factor.enrolled(user) else "auth.sign_in_enrol"
    return redirect(url_for(endpoint))


@blueprint.post("/sign-out")
def sign_out() -> Response:
    from referral.auth.forms import SignOutForm

    SignOutForm()  # CSRFProtect has checked the token before the view ran
    if current_user.is_authenticated:
        ops.record_audit(
            db.session(),
            "sign_out",
            actor_id=current_user.id,
            object_kind="user",
            object_id=current_user.id,
        )
    ops.end_session(db.session(), session.get(SESSION_KEY))
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("site.home"))


# --- first-run setup ------------------------------------------------------------------------


@blueprint.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> str | Response | tuple[str, int]:
    database = db.session()
    row = ops.valid_setup_token(database, token)
    if row is None:
        return render_template("auth/setup_unavailable.html"), 404
    form = SetupForm()
    problem = None
    if form.validate_on_submit():
        data = ops.AccountData(
            email=form.email.data or "",
            role="admin",
            states=[],
            national=True,
            display_name=form.display_name.data or "",
            language=form.language.data or "es",
        )
        try:
            user = ops.complete_setup(database, row, data, form.password.data or "")
        except ops.AccountError as exc:
            problem = error_message(exc)
        else:
            current_app.extensions["referral_admin_exists"] = True
            if second_factor.asked(user):
                flash(
                    _("The first administrator is ready. Now set up the second factor."), "success"
                )
                return begin_second_step(user, url_for("auth.users"))
            complete_sign_in(user)
            flash(_("The first administrator is ready. You are signed in."), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/setup.html", form=form, problem=problem)


# --- own account --------------------------------------------------------------------------


@blueprint.get("/account")
@login_required
def account() -> str:
    return _account_page(LanguageForm(language=current_user.language), PasswordForm(formdata=None))


def _account_page(
    language_form: LanguageForm, password_form: PasswordForm, problem: str | None = None
) -> str:
    return render_template(
        "auth/account.html",
        language_form=language_form,
        password_form=password_form,
        second_factor_on=second_factor.enrolled(current_user),
        second_factor_required=second_factor.required(current_user),
        problem=problem,
        role_label=ROLE_LABELS.get(current_user.role, current_user.role),
        state_names=_state_names(current_user),
    )


@blueprint.post("/account/language")
@login_required
def account_language() -> Response | tuple[str, int]:
    form = LanguageForm()
    if form.validate_on_submit():
        ops.set_language(db.session(), current_user, form.language.data or "es")
        response = redirect(url_for("auth.account"))
        # The switch's cookie outranks the saved preference; make them agree.
        from referral.i18n import LANGUAGE_COOKIE

        response.delete_cookie(LANGUAGE_COOKIE)
        flash(_("Your language preference is saved."), "success")
        return response
    return _account_page(form, PasswordForm(formdata=None)), 400


@blueprint.post("/account/password")
@login_required
def account_password() -> str | Response | tuple[str, int]:
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            ops.change_password(
                db.session(),
                current_user,
                form.current.data or "",
                form.password.data or "",
                keep_session=session.get(SESSION_KEY),
                address=request.remote_addr,
            )
        except ops.InvalidCredentials:
            form.current.errors = [_("This is not your current password.")]
            return _account_page(LanguageForm(language=current_user.language), form), 400
        except ops.AccountError as exc:
            return _account_page(
                LanguageForm(language=current_user.language), form, error_message(exc)
            ), 400
        flash(_("Your password has been changed. Your other sessions have ended."), "success")
        return redirect(url_for("auth.account"))
    return _account_page(LanguageForm(language=current_user.language), form), 400


# --- user management (admins) ---------------------------------------------------------------


def _state_labels() -> dict[str, str]:
    rows = db.session().exec(select(State)).all()
    lang = current_language()
    names = {row.code: row.name_en if lang == "en" else row.name_es for row in rows}
    return {code: names[code] for code in by_label(names, lang, names.__getitem__)}


def _state_names(user: Any) -> list[str]:
    if user.national:
        return [_("National (every state)")]
    names = _state_labels()
    return [names.get(code, code) for code in user.states]


def _prepare(form: UserForm) -> UserForm:
    form.role.choices = [SelectChoice(role, str(ROLE_LABELS[role])) for role in ROLES]
    form.states.choices = [SelectChoice(code, name) for code, name in _state_labels().items()]
    from referral.directory.models import Service  # a provider's services (referral/provider)

    english = current_language() == "en"
    form.services.choices = [
        SelectChoice(row.id, f"{row.name_en if english else row.name_es} ({row.id})")
        for row in db.session().exec(select(Service).order_by(Service.id)).all()
    ]
    return form


def _account_data(form: UserForm) -> ops.AccountData:
    return ops.AccountData(
        email=(form.email.data or "") if form.email else "",
        role=form.role.data or "",
        states=list(form.states.data or []),
        national=bool(form.national.data),
        display_name=form.display_name.data or "",
        language=form.language.data or "es",
        active=bool(form.active.data),
        services=list(form.services.data or []),
    )


@blueprint.get("/admin/users")
@requires("admin")
def users() -> str:
    rows = ops.users_in_order(db.session())
    return render_template(
        "auth/users.html", users=rows, role_labels=ROLE_LABELS, state_names=_state_names
    )


@blueprint.route("/admin/users/new", methods=["GET", "POST"])
@requires("admin")
def user_new() -> str | Response | tuple[str, int]:
    form = _prepare(UserForm())
    problem = None
    if form.validate_on_submit():
        try:
            user = ops.create_user(
                db.session(),
                _account_data(form),
                form.password.data or "",
                actor_id=current_user.id,
            )
        except ops.AccountError as exc:
            problem = error_message(exc)
        else:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("auth.users"))
    status = 200 if request.method == "GET" else 400
    return render_template("auth/user_form.html", form=form, problem=problem, user=None), status


@blueprint.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires("admin")
def user_edit(user_id: int) -> str | Response | tuple[str, int]:
    user = load_or_404(
        db.session(), User, user_id, current_reach(), state_attr=None, owner_attr="id"
    )
    if request.method == "GET":
        form = _prepare(UserEditForm(obj=user))
        form.states.data = list(user.states)
        form.services.data = ops.account_services(db.session(), user.id)
    else:
        form = _prepare(UserEditForm())
    problem = None
    if form.validate_on_submit():
        data = _account_data(form)
        data.email = user.email  # the email is the sign-in name: kept as created
        try:
            ops.update_user(db.session(), user, data, actor_id=current_user.id)
        except ops.AccountError as exc:
            problem = error_message(exc)
        else:
            flash(_("User %(email)s saved.", email=user.email), "success")
            return redirect(url_for("auth.users"))
    status = 200 if request.method == "GET" else 400
    return render_template(
        "auth/user_form.html",
        form=form,
        problem=problem,
        user=user,
        button_form=ButtonForm(formdata=None),
        second_factor_on=second_factor.enrolled(user),
    ), status


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session record does this job
    app.extensions["referral_user_language"] = user_language
    from referral.auth import factor_routes  # noqa: F401  (its views join this blueprint)

    app.register_blueprint(blueprint)
    limit_guessing(app, "auth.sign_in", "auth.account_password", "auth.setup", *GUESSED)

    @app.context_processor
    def _account_context() -> dict[str, Any]:
        from referral.auth.forms import SignOutForm

        if request.blueprint == "api":
            return {}
        signed_in = current_user.is_authenticated
        return {
            # formdata=None: only a button to render; reading this request's body here would
            # raise again on the 413 page (a body over MAX_CONTENT_LENGTH) and lose the layout.
            "sign_out_form": SignOutForm(formdata=None) if signed_in else None,
            "reach": current_reach() if signed_in else None,
        }
