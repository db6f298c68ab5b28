"""The API's referral list equals what ``load_referral`` reaches, after cases move (issue 14).

The list reads the referral's copies of its case's screener and state
(``case_screener_id``, ``case_state``); reach is decided on the case. Handovers and
re-screenings move cases between screeners and states: the copies follow in the same
transaction, so each persona's list is exactly the referrals it may open, and nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from werkzeug.exceptions import NotFound

from referral.access import Reach
from referral.auth.models import User
from referral.casework.lifecycle import hand_over
from referral.casework.models import Case, Referral, Screening
from referral.casework.queries import load_referral
from referral.casework.screening import CaseDetails, route_again, store_screening
from referral.casework.workflow import refer, refer_ad_hoc
from referral.db import get_db
from referral.directory.catalogue import current_catalogue
from referral.rules import validate_record
from tests.factories import GIRL_FROM_HONDURAS

NEEDS = ("shelter", "legal_aid", "medical")


def stored_case(session: Any, screener_id: int, state: str, needs: int) -> Case:
    catalogue = current_catalogue(session)
    record = validate_record({**GIRL_FROM_HONDURAS, "state": state}, catalogue.codes)
    case, _screening, _result = store_screening(
        session, record, catalogue, screener_id=screener_id, details=CaseDetails(True, True)
    )
    for need in NEEDS[:needs]:
        refer_ad_hoc(
            session, case, need=need, provider="Casa", reason="No option", user_id=screener_id
        )
    return case


def rescreen_in(session: Any, case: Case, state: str, screener_id: int) -> None:
    catalogue = current_catalogue(session)
    record = validate_record({**GIRL_FROM_HONDURAS, "state": state}, catalogue.codes)
    store_screening(
        session,
        record,
        catalogue,
        screener_id=screener_id,
        details=CaseDetails(True, True),
        case=case,
    )


def listed(client: Any, token: str, **query: Any) -> list[int]:
    response = client.get(
        "/api/v1/referrals", query_string=query, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["referrals"]]


def reachable(app: Any, user: Any) -> set[int]:
    """The referrals ``load_referral`` opens for this user (the rule every page applies)."""
    reach = Reach.of(user)
    found = set()
    with app.test_request_context():
        with get_db(app).session() as session:
            ids = session.execute(text("SELECT id FROM referral")).scalars().all()
        for referral_id in ids:
            try:
                load_referral(referral_id, reach)
            except NotFound:
                continue
            found.add(referral_id)
    return found


def newest_first(app: Any, ids: set[int]) -> list[int]:
    with get_db(app).session() as session:
        rows = session.execute(text("SELECT id, created_at FROM referral")).all()
    order = sorted(((r.created_at, r.id) for r in rows if r.id in ids), reverse=True)
    return [referral_id for _at, referral_id in order]


def copies_differ(app: Any, session: Any = None) -> int:
    """Referrals whose copies differ from their case's screener or state (should be none)."""
    if session is None:
        with get_db(app).session() as session:
            return copies_differ(app, session)
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM referral"
                " JOIN case_file ON case_file.id = referral.case_id"
                " WHERE referral.case_screener_id != case_file.screener_id"
                " OR referral.case_state != case_file.state"
            )
        ).scalar_one()
    )


@pytest.fixture
def moved(app, make_user) -> dict[str, Any]:
    """Cases in three states and of four owners, then moved by handovers and re-screenings."""
    people = {
        "ana": make_user("screener", ("MX-CHP",)),
        "beto": make_user("screener", ("MX-CHP", "MX-OAX")),
        "carla": make_user("screener", ("MX-BCN",)),
        "sup_chp": make_user("supervisor", ("MX-CHP",)),
        "sup_two": make_user("supervisor", ("MX-OAX", "MX-BCN")),
        "sup_national": make_user("supervisor", (), national=True),
        "admin": make_user("admin", ()),
    }
    ids = {name: user.id for name, user in people.items()}
    with app.app_context(), get_db(app).transaction() as session:
        handed = stored_case(session, ids["ana"], "MX-CHP", 3)
        moving = stored_case(session, ids["ana"], "MX-CHP", 2)
        both = stored_case(session, ids["beto"], "MX-OAX", 2)
        stored_case(session, ids["carla"], "MX-BCN", 3)
        # A supervisor's own case outside their state: reached as its screener.
        own = stored_case(session, ids["sup_chp"], "MX-OAX", 1)
        stored_case(session, ids["beto"], "MX-CHP", 1)
        session.flush()
        assert copies_differ(app, session) == 0
        hand_over(
            session,
            handed,
            session.get(User, ids["beto"]),
            from_user=session.get(User, ids["ana"]),
            by_user_id=ids["sup_chp"],
        )
        rescreen_in(session, moving, "MX-BCN", ids["ana"])  # Ana keeps it; its state moves
        rescreen_in(session, both, "MX-CHP", ids["beto"])
        hand_over(
            session,
            both,
            session.get(User, ids["ana"]),
            from_user=session.get(User, ids["beto"]),
            by_user_id=ids["sup_chp"],
        )
        rescreen_in(session, own, "MX-BCN", ids["sup_chp"])
        latest = session.get(Screening, handed.latest_screening_id)
        route_again(session, handed, latest, current_catalogue(session), screener_id=ids["beto"])
    return people


def test_the_copies_follow_each_handover_and_re_screening(app, moved) -> None:
    assert copies_differ(app) == 0
    with get_db(app).session() as session:
        states = session.execute(
            text("SELECT DISTINCT case_state FROM referral ORDER BY case_state")
        ).all()
        made_in = session.execute(text("SELECT DISTINCT state FROM referral ORDER BY state")).all()
    # The referral's own state stays where it was made: the dashboard counts by it.
    assert [s[0] for s in states] == ["MX-BCN", "MX-CHP"]
    assert [s[0] for s in made_in] == ["MX-BCN", "MX-CHP", "MX-OAX"]


def test_each_persona_lists_exactly_what_it_may_open(app, client, api_token, moved) -> None:
    seen_by_someone: set[int] = set()
    for name, user in moved.items():
        expected = reachable(app, user)
        token = api_token(user)
        assert listed(client, token, limit=500) == newest_first(app, expected), name
        # Page by page (the union of branches pages like one list): the same, in order.
        paged: list[int] = []
        for page in range(1, 20):
            chunk = listed(client, token, limit=2, page=page)
            if not chunk:
                break
            paged += chunk
        assert paged == newest_first(app, expected), name
        seen_by_someone |= expected
    assert reachable(app, moved["sup_national"]) == reachable(app, moved["admin"])
    assert len(reachable(app, moved["admin"])) == 12
    # The moves changed who reaches what: Ana lost a case and got one, Beto got Ana's.
    assert len(reachable(app, moved["ana"])) == 2 + 2
    assert len(reachable(app, moved["beto"])) == 3 + 1
    assert len(reachable(app, moved["carla"])) == 3
    # MX-CHP: the handed-over case, Beto's own, the re-screened one (now MX-CHP), sup_chp's own.
    assert len(reachable(app, moved["sup_chp"])) == 3 + 1 + 2 + 1
    assert len(reachable(app, moved["sup_two"])) == 3 + 2 + 1


def test_a_status_filter_keeps_to_the_reach(app, client, api_token, moved) -> None:
    with get_db(app).session() as session:
        first = session.execute(
            text("SELECT id FROM referral WHERE case_screener_id = :u ORDER BY id").bindparams(
                u=moved["carla"].id
            )
        ).first()
        referral = session.get(Referral, first[0])
        assert referral is not None
    token = api_token(moved["carla"])
    answer = client.post(
        f"/api/v1/referrals/{referral.id}/status",
        json={"status": "accepted", "version": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.get_json()
    assert listed(client, token, status="accepted") == [referral.id]
    # The supervisor of another state, and Ana, reach none of Carla's accepted referral.
    assert listed(client, api_token(moved["sup_chp"]), status="accepted") == []
    assert listed(client, api_token(moved["sup_two"]), status="accepted") == [referral.id]


def test_a_provider_of_several_services_lists_them_all_newest_first(
    app, client, make_user, api_token
) -> None:
    """One index branch per service, merged: the same as one sorted list of them all."""
    screener = make_user("screener", ("MX-CHP",))
    wanted = ["shelter", "legal_aid", "medical", "psychological"]
    made: dict[str, list[int]] = {}
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record({**GIRL_FROM_HONDURAS, "needs": wanted}, catalogue.codes)
        for _ in range(3):
            case, _screening, result = store_screening(
                session, record, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
            )
            for need, options in result.options.items():
                if options:
                    service = options[0].service
                    referral = refer(
                        session,
                        case,
                        need=need,
                        service_id=service,
                        catalogue=catalogue,
                        user_id=screener.id,
                    )
                    made.setdefault(service, []).append(referral.id or 0)
    services = sorted(made)
    assert len(services) >= 2
    provider = make_user("provider", (), services=services[:2])
    expected = newest_first(app, set(made[services[0]] + made[services[1]]))
    token = api_token(provider)
    assert listed(client, token) == expected
    paged = [i for page in range(1, 5) for i in listed(client, token, limit=4, page=page)]
    assert paged == expected
    only_one = make_user("provider", (), services=services[2:3] or services[:1])
    assert listed(client, api_token(only_one)) == newest_first(
        app, set(made[(services[2:3] or services[:1])[0]])
    )


def test_overdue_referrals_follow_the_case_to_its_new_screener(app, moved) -> None:
    """The daily digest's list (clocks): the case's screener now, not who made the referral."""
    from datetime import timedelta

    from referral.clocks.queries import overdue_referrals
    from referral.db import utcnow

    later = utcnow() + timedelta(days=10)
    with get_db(app).session() as session:
        for name in ("ana", "beto", "sup_chp"):
            user = moved[name]
            overdue = overdue_referrals(session, Reach.of(user), later, timedelta(hours=48))
            assert {r.id for r, _case in overdue} == reachable(app, user), name


def test_migration_0019_copies_each_case_s_screener_and_state(
    isolated_database, app, moved
) -> None:
    """Upgrading a database that holds moved cases fills the copies from the cases."""
    from referral import migrate

    engine = get_db(app).writer
    with get_db(app).session() as session:
        total = session.execute(text("SELECT count(*) FROM referral")).scalar_one()
    migrate.downgrade(engine, "0018")
    migrate.upgrade(engine, "0019_screener_list")
    assert copies_differ(app) == 0
    with get_db(app).session() as session:
        filled = session.execute(
            text("SELECT count(*) FROM referral WHERE case_screener_id > 0 AND case_state != ''")
        ).scalar_one()
    assert filled == total == 12
    migrate.upgrade(engine)
