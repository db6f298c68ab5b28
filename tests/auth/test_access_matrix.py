"""The access matrix: every route as anonymous, screener, supervisor of the object's state,
supervisor of another state and admin, with the answer each must get.

A route missing from MATRIX fails the test: whoever adds a route adds its row here.
Answers: 200, 404 (outside one's reach, existence not revealed), "login" (302 to sign-in),
"home" (302 to the home page), or any other status code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import csrf_token

PERSONAS = ("anonymous", "screener", "supervisor_same", "supervisor_other", "admin")
# Receiving services (issue 14): the referral's service, and another service.
PROVIDERS = ("provider", "provider_other")
STATE, OTHER_STATE = "MX-CHP", "MX-GRO"


def row(anonymous: Any, screener: Any, same: Any, other: Any, admin: Any) -> dict[str, Any]:
    return dict(zip(PERSONAS, (anonymous, screener, same, other, admin), strict=True))


# endpoint -> (method, path builder from the objects, expected answers)
MATRIX: dict[str, tuple[str, Callable[[dict[str, Any]], str], dict[str, Any]]] = {
    "static": ("GET", lambda o: "/static/css/app.css", row(200, 200, 200, 200, 200)),
    "site.home": ("GET", lambda o: "/", row(200, 200, 200, 200, 200)),
    "site.report": ("GET", lambda o: "/sources/report", row(200, 200, 200, 200, 200)),
    "site.choose_language": ("GET", lambda o: "/language/en", row(*["home"] * 5)),
    "auth.sign_in": ("GET", lambda o: "/sign-in", row(200, *["landing"] * 4)),
    "auth.sign_out": ("POST", lambda o: "/sign-out", row(*["home"] * 5)),
    "auth.setup": ("GET", lambda o: "/setup/not-a-token", row(*[404] * 5)),
    "auth.account": ("GET", lambda o: "/account", row("login", 200, 200, 200, 200)),
    "auth.account_language": (
        "POST",
        lambda o: "/account/language",
        row("login", 400, 400, 400, 400),
    ),
    "auth.account_password": (
        "POST",
        lambda o: "/account/password",
        row("login", 400, 400, 400, 400),
    ),
    # The second step of signing in: without a password just given here, back to sign in.
    "auth.sign_in_code": ("GET", lambda o: "/sign-in/code", row(*["login"] * 5)),
    "auth.sign_in_enrol": ("GET", lambda o: "/sign-in/enrol", row(*["login"] * 5)),
    "auth.account_second_factor": (
        "GET",
        lambda o: "/account/second-factor",
        row("login", 200, 200, 200, 200),
    ),
    # Without a code the form goes back to the second-factor page (302), changing nothing.
    "auth.account_recovery_codes": (
        "POST",
        lambda o: "/account/second-factor/recovery-codes",
        row("login", 302, 302, 302, 302),
    ),
    "auth.account_second_factor_off": (
        "POST",
        lambda o: "/account/second-factor/off",
        row("login", 302, 302, 302, 302),
    ),
    "auth.account_sessions": (
        "GET",
        lambda o: "/account/sessions",
        row("login", 200, 200, 200, 200),
    ),
    # One's own sessions only: another user's (the target user's) is out of everyone's reach.
    "auth.account_session_end": (
        "POST",
        lambda o: f"/account/sessions/{o['target_session']}/end",
        row("login", 404, 404, 404, 404),
    ),
    "auth.account_sessions_end_others": (
        "POST",
        lambda o: "/account/sessions/end-others",
        row("login", 302, 302, 302, 302),
    ),
    "auth.user_second_factor_reset": (
        "POST",
        lambda o: f"/admin/users/{o['target_user'].id}/second-factor/reset",
        row("login", 404, 404, 404, 302),
    ),
    "auth.user_reset_link": (
        "POST",
        lambda o: f"/admin/users/{o['target_user'].id}/reset-link",
        row("login", 404, 404, 404, 200),
    ),
    "auth.reset_password": ("GET", lambda o: "/reset/not-a-token", row(*[404] * 5)),
    "auth.users": ("GET", lambda o: "/admin/users", row("login", 404, 404, 404, 200)),
    "auth.user_new": ("GET", lambda o: "/admin/users/new", row("login", 404, 404, 404, 200)),
    "auth.user_edit": (
        "GET",
        lambda o: f"/admin/users/{o['target_user'].id}",
        row("login", 404, 404, 404, 200),
    ),
    "audit.events": ("GET", lambda o: "/audit", row("login", 404, 200, 200, 200)),
    # Statistics (issue 7): supervisors (their states, always public) and admins.
    "stats.index": ("GET", lambda o: "/stats", row("login", 404, 200, 200, 200)),
    "stats.summary_download": (
        "POST",
        lambda o: "/stats/summary.json",
        row("login", 404, 302, 302, 200),  # supervisors: to /stats until a release is made
    ),
    "stats.make_release": (
        "POST",
        lambda o: "/stats/releases",
        row("login", 404, 302, 302, 302),  # no year given: back to /stats with the error
    ),
    "stats.ledger": ("GET", lambda o: "/stats/ledger", row("login", 404, 404, 404, 200)),
    "stats.synthetic_download": (
        "POST",
        lambda o: "/stats/synthetic.csv",
        row("login", 404, 302, 302, 302),  # to /stats until the synthetic data are made
    ),
    "stats.microdata_download": (
        "POST",
        lambda o: "/stats/microdata.csv",
        row("login", 404, 302, 302, 302),  # one case, fewer than k: back to /stats, told why
    ),
    "stats.dictionary_download": (
        "POST",
        lambda o: "/stats/dictionary.csv",
        row("login", 404, 200, 200, 200),
    ),
    # The API ignores session cookies: without a bearer token everyone gets 401.
    "api.route": ("POST", lambda o: "/api/v1/route", row(*[401] * 5)),
    "api.codes": ("GET", lambda o: "/api/v1/codes", row(*[401] * 5)),
    "api.referrals": ("GET", lambda o: "/api/v1/referrals", row(*[401] * 5)),
    "api.referral_status": (
        "POST",
        lambda o: f"/api/v1/referrals/{o['referral'].id}/status",
        row(*[401] * 5),
    ),
    # Supervision (issue 6): supervisors of any state and admins; numbers are scoped inside.
    "supervision.dashboard": ("GET", lambda o: "/supervision", row("login", 404, 200, 200, 200)),
    "supervision.cases": (
        "GET",
        lambda o: "/supervision/cases?panel=need&key=shelter",
        row("login", 404, 200, 200, 200),
    ),
    "supervision.loop_cases": (
        "GET",
        lambda o: "/supervision/loop/cases?panel=unanswered&key=2",
        row("login", 404, 200, 200, 200),
    ),
    "supervision.whatif_page": (
        "GET",
        lambda o: "/supervision/what-if",
        row("login", 404, 200, 200, 200),
    ),
    "supervision.static": (
        "GET",
        lambda o: "/supervision/static/supervision.css",
        row(200, 200, 200, 200, 200),
    ),
    # Directory (issue 6): supervisors read, admins edit.
    "directory.index": ("GET", lambda o: "/directory", row("login", 404, 200, 200, 200)),
    "directory.show": (
        "GET",
        lambda o: "/directory/svc-hotline-legal",
        row("login", 404, 200, 200, 200),
    ),
    "directory.new": ("GET", lambda o: "/directory/new", row("login", 404, 404, 404, 200)),
    "directory.edit": (
        "GET",
        lambda o: "/directory/svc-hotline-legal/edit",
        row("login", 404, 404, 404, 200),
    ),
    # Posting an empty capacity sets it to "not known": the admin is sent back to the page.
    "directory.capacity": (
        "POST",
        lambda o: "/directory/svc-hotline-legal/capacity",
        row("login", 404, 404, 404, 302),
    ),
    # Without "confirmed" (yes or no) the admin's post is refused: nothing is stored.
    "directory.confirmation": (
        "POST",
        lambda o: "/directory/confirmation",
        row("login", 404, 404, 404, 400),
    ),
    "directory.retire": (
        "POST",
        lambda o: "/directory/svc-hotline-legal/retire",
        row("login", 404, 404, 404, 302),
    ),
    # Intake: anyone signed in may screen; a draft is only ever its author's.
    "intake.start": ("GET", lambda o: "/intake", row("login", 200, 200, 200, 200)),
    "intake.new_draft": ("POST", lambda o: "/intake", row("login", 302, 302, 302, 302)),
    "intake.section": (
        "GET",
        lambda o: f"/intake/{o['draft'].key}/encounter",
        row("login", 200, 404, 404, 404),
    ),
    "intake.autosave": (
        "POST",
        lambda o: f"/intake/{o['draft'].key}/autosave",
        row("login", 409, 404, 404, 404),
    ),
    "intake.submit": (
        "POST",
        lambda o: f"/intake/{o['draft'].key}/submit",
        row("login", 302, 404, 404, 404),
    ),
    "intake.confirm_discard": (
        "GET",
        lambda o: f"/intake/{o['spare_draft'].key}/discard",
        row("login", 200, 404, 404, 404),
    ),
    "intake.discard": (
        "POST",
        lambda o: f"/intake/{o['spare_draft'].key}/discard",
        row("login", 302, 404, 404, 404),
    ),
    # Cases: the screener's own, every case of a supervisor's states, all for admins.
    "intake.rescreen": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/rescreen",
        row("login", 302, 302, 404, 302),
    ),
    "cases.route_again": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/route-again",
        row("login", 302, 302, 404, 302),
    ),
    "cases.index": ("GET", lambda o: "/cases", row("login", 200, 200, 200, 200)),
    "cases.show": (
        "GET",
        lambda o: f"/cases/{o['case'].code}",
        row("login", 200, 200, 404, 200),
    ),
    "cases.refer": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/referrals",
        row("login", 400, 400, 404, 400),
    ),
    "cases.refer_ad_hoc": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/referrals/ad-hoc",
        row("login", 302, 302, 404, 302),
    ),
    # Posted without a status: the form comes back (400) with the problem at its field.
    "cases.referral_status": (
        "POST",
        lambda o: f"/referrals/{o['referral'].id}/status",
        row("login", 400, 400, 404, 400),
    ),
    "cases.rights": (
        "GET",
        lambda o: f"/cases/{o['case'].code}/rights",
        row("login", 200, 200, 404, 200),
    ),
    # The life of a case (issue 16): who may see the case manages it; handover is for
    # supervisors in reach and admins, erasure for admins. Empty forms come back at the field.
    "manage.page": (
        "GET",
        lambda o: f"/cases/{o['case'].code}/manage",
        row("login", 200, 200, 404, 200),
    ),
    "manage.close": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/close",
        row("login", 422, 422, 404, 422),
    ),
    "manage.reopen": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/reopen",
        row("login", 422, 422, 404, 422),
    ),
    "manage.consent": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/consent",
        row("login", 422, 422, 404, 422),
    ),
    "manage.handover": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/handover",
        row("login", 404, 422, 404, 422),
    ),
    "manage.erase": (
        "GET",
        lambda o: f"/cases/{o['case'].code}/erase",
        row("login", 404, 404, 404, 200),
    ),
    # The clocks (issue 14): an empty notice is refused at its fields (422), nothing stored.
    "clocks.child_notice": (
        "POST",
        lambda o: f"/cases/{o['case'].code}/child-notice",
        row("login", 422, 422, 404, 422),
    ),
    # The outbox's counts: admins only.
    "mail.outbox": ("GET", lambda o: "/admin/outbox", row("login", 404, 404, 404, 200)),
    "cases.referral_sheet": (
        "GET",
        lambda o: f"/referrals/{o['referral'].id}/sheet",
        row("login", 200, 200, 404, 200),
    ),
    # The receiving service (issue 14): providers only, and only their services' referrals.
    "provider.inbox": ("GET", lambda o: "/provider", row("login", 404, 404, 404, 404)),
    "provider.referral": (
        "GET",
        lambda o: f"/provider/referrals/{o['referral'].id}",
        row("login", 404, 404, 404, 404),
    ),
    "provider.status": (
        "POST",
        lambda o: f"/provider/referrals/{o['referral'].id}/status",
        row("login", 404, 404, 404, 404),
    ),
    "provider.capacity": (
        "POST",
        lambda o: f"/provider/services/{o['referral'].service_id}/capacity",
        row("login", 404, 404, 404, 404),
    ),
    "provider.entry": (
        "GET",
        lambda o: f"/provider/services/{o['referral'].service_id}",
        row("login", 404, 404, 404, 404),
    ),
    "provider.entry_save": (
        "POST",
        lambda o: f"/provider/services/{o['referral'].service_id}",
        row("login", 404, 404, 404, 404),
    ),
    # A service's own edits of its entry: admins see and undo them.
    "provider.entry_edits": (
        "GET",
        lambda o: f"/directory/{o['referral'].service_id}/service-edits",
        row("login", 404, 404, 404, 200),
    ),
    "provider.entry_undo": (
        "POST",
        lambda o: f"/directory/service-edits/{o['entry_edit']}/undo",
        row("login", 404, 404, 404, 302),
    ),
    # The answer link: whoever holds it sees the minimal view; an empty answer is refused.
    "answer.link": ("GET", lambda o: f"/r/{o['answer_token']}", row(*[200] * 5)),
    "answer.link_answer": ("POST", lambda o: f"/r/{o['answer_token']}", row(*[400] * 5)),
    "answer.service_copy": (
        "GET",
        lambda o: f"/referrals/{o['referral'].id}/service-copy",
        row("login", 200, 200, 404, 200),
    ),
    "answer.service_copy_new": (
        "POST",
        lambda o: f"/referrals/{o['referral'].id}/service-copy",
        row("login", 200, 200, 404, 200),
    ),
    "answer.service_copy_revoke": (
        "POST",
        lambda o: f"/referrals/{o['referral'].id}/service-copy/revoke",
        row("login", 302, 302, 404, 302),
    ),
}

# A provider's answers where they differ from the rule in ``provider_expected``.
PROVIDER_ANSWERS: dict[str, tuple[Any, Any]] = {
    "provider.inbox": (200, 200),
    "provider.referral": (200, 404),
    "provider.status": (400, 404),  # no version posted: the answer is refused, nothing changes
    "provider.capacity": (302, 404),
    "provider.entry": (200, 404),
    "provider.entry_save": (302, 404),  # an empty form empties the service's own texts
    "answer.link": (200, 200),
    "answer.link_answer": (400, 400),
    # Issue 14's other pages are the screeners', supervisors' and admins': a provider, even
    # the referral's own service, reaches none of them (the default, written out).
    "cases.referral_sheet": (404, 404),
    "answer.service_copy": (404, 404),
    "answer.service_copy_new": (404, 404),
    "answer.service_copy_revoke": (404, 404),
    "clocks.child_notice": (404, 404),
    "mail.outbox": (404, 404),
    "supervision.dashboard": (404, 404),
    "supervision.loop_cases": (404, 404),
    "provider.entry_edits": (404, 404),
    "provider.entry_undo": (404, 404),
}


def provider_expected(endpoint: str, persona: str) -> Any:
    """Account pages and public pages answer a provider as a screener; the API wants a token;
    every other page (cases, intake, supervision, directory...) answers 404."""
    if endpoint in PROVIDER_ANSWERS:
        return PROVIDER_ANSWERS[endpoint][PROVIDERS.index(persona)]
    if endpoint.startswith(("auth.", "site.")) or endpoint == "static":
        return MATRIX[endpoint][2]["screener"]
    if endpoint.startswith("api."):
        return 401
    return 404


def test_every_route_has_a_row(app) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - MATRIX.keys())
    assert not missing, f"add these routes to the access matrix: {missing}"


@pytest.fixture
def world(app, make_user) -> dict[str, Any]:
    people = {
        "screener": make_user("screener", (STATE,)),
        "supervisor_same": make_user("supervisor", (STATE,)),
        "supervisor_other": make_user("supervisor", (OTHER_STATE,)),
        "admin": make_user("admin", (), national=True),
        "target_user": make_user("screener", (STATE,)),
    }
    objects = case_objects(app, people["screener"])
    service = objects["referral"].service_id
    people["provider"] = make_user("provider", (), services=[service])
    people["provider_other"] = make_user("provider", (), services=["svc-hotline-legal"])
    return {
        **people,
        **objects,
        "target_session": session_of(app, people["target_user"]),
        "answer_token": answer_token(app, objects["referral"], people["screener"]),
        "entry_edit": entry_edit(app, service, people["provider"]),
    }


def entry_edit(app, service_id, provider) -> int:
    """A provider's edit of its entry that changed nothing (undoing it changes nothing)."""
    from referral.db import get_db
    from referral.directory.models import Service
    from referral.provider.models import ServiceEntryEdit

    with app.app_context(), get_db(app).transaction() as session:
        entry = session.get(Service, service_id).entry
        edit = ServiceEntryEdit(
            service_id=service_id, user_id=provider.id, before=entry, after=entry
        )
        session.add(edit)
        session.flush()
        return edit.id


def answer_token(app, referral, screener) -> str:
    from referral.db import get_db
    from referral.provider.operations import issue_answer_link

    with app.app_context(), get_db(app).transaction() as session:
        return issue_answer_link(session, referral, user_id=screener.id, days=14)[0]


def session_of(app, user) -> int:
    """The id of a signed-in session of ``user`` (as its sign-in makes it)."""
    from sqlmodel import select

    from referral.auth import operations as ops
    from referral.auth.models import UserSession
    from referral.db import get_db

    with app.app_context(), get_db(app).transaction() as session:
        token = ops.start_session(session, user)
        return session.exec(
            select(UserSession.id).where(UserSession.token_hash == ops.digest(token))
        ).one()


def case_objects(app, screener) -> dict[str, Any]:
    """A case of the screener's state with one referral, and two drafts of the screener."""
    from referral.casework.drafts import start_draft
    from referral.casework.screening import CaseDetails, store_screening
    from referral.casework.workflow import refer
    from referral.db import get_db
    from referral.directory.catalogue import current_catalogue
    from referral.rules import validate_record
    from tests.factories import GIRL_FROM_HONDURAS

    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record(GIRL_FROM_HONDURAS, catalogue.codes)
        case, _screening, result = store_screening(
            session, record, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
        )
        need = next(n for n, options in result.options.items() if options)
        referral = refer(
            session,
            case,
            need=need,
            service_id=result.options[need][0].service,
            catalogue=catalogue,
            user_id=screener.id,
        )
        return {
            "case": case,
            "referral": referral,
            "draft": start_draft(session, screener.id),
            "spare_draft": start_draft(session, screener.id),
        }


def answer(response: Any) -> Any:
    if response.status_code == 302:
        location = response.headers["Location"]
        if location.startswith("/sign-in"):
            return "login"
        if location == "/":
            return "home"
        if location in ("/cases", "/supervision", "/admin/users", "/provider"):
            return "landing"  # each role's own work (auth.routes.LANDINGS)
    return response.status_code


@pytest.mark.parametrize("persona", PERSONAS + PROVIDERS)
def test_access_matrix(app, world, login, persona) -> None:
    failures = []
    for endpoint, (method, path_of, answers) in sorted(MATRIX.items()):
        expected = (
            answers if persona in answers else {persona: provider_expected(endpoint, persona)}
        )
        client = app.test_client()
        if persona != "anonymous":
            login(client, world[persona])
        path = path_of(world)
        if method == "GET":
            response = client.get(path)
        else:
            token = csrf_token(client, "/" if persona != "anonymous" else "/sign-in")
            response = client.post(path, data={"csrf_token": token})
        got = answer(response)
        if got != expected[persona]:
            failures.append(
                f"{method} {path} ({endpoint}): expected {expected[persona]}, got {got}"
            )
    assert not failures, "\n".join(failures)
