"""The loop panel (issue 14): time to the service's first answer by service and state, who
gave the answers, what waits, and the legal clocks overdue; every number opens its cases."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from referral.casework.models import EventChannel, Referral
from referral.casework.workflow import Answer, change_status, refer
from referral.db import get_db, utcnow
from referral.directory.catalogue import current_catalogue
from referral.supervision.loop import percentile
from tests.clocks.test_clocks import FOREIGN_ADULT, store_case
from tests.factories import GIRL_FROM_HONDURAS, record_data


def referred(app: Any, screener: Any, state: str, hours_ago: float) -> tuple[Any, Any]:
    """A case of ``state`` referred for shelter ``hours_ago`` hours ago."""
    case = store_case(app, record_data(state=state), screener, utcnow() - timedelta(days=40))
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        service = min(
            (s for s in catalogue.services_by_id.values() if s.need == "shelter"),
            key=lambda s: s.id,
        )
        referral = refer(
            session,
            case,
            need="shelter",
            service_id=service.id,
            catalogue=catalogue,
            user_id=screener.id,
        )
        session.execute(
            update(Referral)
            .where(Referral.id == referral.id)  # type: ignore[arg-type]
            .values(created_at=utcnow() - timedelta(hours=hours_ago))
        )
        return case, referral


def answered(app: Any, referral: Any, channel: EventChannel, user_id: int | None) -> None:
    with app.app_context(), get_db(app).transaction() as session:
        change_status(
            session,
            session.get(Referral, referral.id),
            status="accepted",
            reason_code=None,
            expected_version=1,
            user_id=user_id,
            answer=Answer(channel=channel),
        )


@pytest.fixture
def loop_world(app, make_user) -> dict[str, Any]:
    screener = make_user("screener", ("MX-CHP", "MX-GRO"))
    by_provider, _r1 = referred(app, screener, "MX-CHP", 10)
    answered(app, _r1, EventChannel.provider, None)
    by_link, _r2 = referred(app, screener, "MX-CHP", 20)
    answered(app, _r2, EventChannel.link, None)
    by_screener, _r3 = referred(app, screener, "MX-CHP", 30)
    answered(app, _r3, EventChannel.screener, screener.id)
    waiting, _r4 = referred(app, screener, "MX-CHP", 72)
    elsewhere, _r5 = referred(app, screener, "MX-GRO", 5)
    answered(app, _r5, EventChannel.api, None)
    minor = store_case(app, GIRL_FROM_HONDURAS, screener, utcnow() - timedelta(hours=30))
    ending = store_case(app, FOREIGN_ADULT, screener, utcnow() - timedelta(days=27))
    ended = store_case(app, FOREIGN_ADULT, screener, utcnow() - timedelta(days=31))
    return {
        "service": {by_provider.code, by_link.code},
        "screener": {by_screener.code},
        "waiting": {waiting.code},
        "elsewhere": elsewhere.code,
        "minor": minor.code,
        "ending": ending.code,
        "ended": ended.code,
        "supervisor": make_user("supervisor", ("MX-CHP",), language="en"),
    }


def link(page: str, panel: str, key: str) -> tuple[int, str]:
    match = re.search(
        rf'<a href="(/supervision/loop/cases\?panel={panel}&amp;key={re.escape(key)}[^"]*)"'
        rf"[^>]*>(\d+)</a>",
        page,
    )
    assert match, (panel, key)
    return int(match.group(2)), match.group(1).replace("&amp;", "&")


def codes_behind(client: Any, href: str) -> set[str]:
    page = client.get(href).get_data(as_text=True)
    return set(re.findall(r">(RT-[A-Z0-9-]+)</a>", page))


def test_the_loop_panel_counts_and_opens_the_cases_behind(app, loop_world, login) -> None:
    client = app.test_client()
    login(client, loop_world["supervisor"])
    client.get("/language/en")
    page = client.get("/supervision").get_data(as_text=True)
    assert "Closing the loop" in page

    count, href = link(page, "answered_by", "service")
    assert count == 2 and codes_behind(client, href) == loop_world["service"]
    listed = client.get(href).get_data(as_text=True)
    assert "#loop" in listed and "Cases counted under:" in listed  # back to its panel
    count, href = link(page, "answered_by", "screener")
    assert count == 1 and codes_behind(client, href) == loop_world["screener"]
    assert "67%" in page  # two answers of three given by the service itself

    count, href = link(page, "unanswered", "2")
    assert count == 1 and codes_behind(client, href) == loop_world["waiting"]
    assert link(page, "unanswered", "7")[0] == 0

    count, href = link(page, "child_notice", "overdue")
    assert count == 1 and codes_behind(client, href) == {loop_world["minor"]}
    count, href = link(page, "reflection", "ending")
    assert count == 1 and codes_behind(client, href) == {loop_world["ending"]}
    count, href = link(page, "reflection", "ended")
    assert count == 1 and codes_behind(client, href) == {loop_world["ended"]}

    # One service in Chiapas answered three referrals: after 10, 20 and 30 hours.
    row = re.search(
        r"answer_time&amp;key=([^&\"]+)[^>]*>(\d+)</a></td>\s*<td[^>]*>([^<]+)</td>"
        r"\s*<td[^>]*>([^<]+)</td>",
        page,
    )
    assert row is not None
    assert row.group(1).endswith("%7CMX-CHP") and row.group(2) == "3"
    # From whole-hour bins (each value at its bin's centre), said under the table: the exact
    # median and 90th percentile are 20 and 28 hours.
    assert (row.group(3), row.group(4)) == ("20.5 hours", "28.5 hours")
    assert "within half an hour of the exact median and 90th percentile" in page
    # The Guerrero case is outside this supervisor's states, everywhere.
    assert loop_world["elsewhere"] not in page
    assert "MX-GRO" not in page.split('id="loop"')[1]


def test_the_numbers_follow_the_filters_and_the_reach(app, loop_world, login, make_user) -> None:
    client = app.test_client()
    login(client, make_user("supervisor", ("MX-GRO",)))
    page = client.get("/supervision").get_data(as_text=True)
    assert link(page, "answered_by", "service")[0] == 1  # the API's answer in Guerrero
    assert link(page, "child_notice", "overdue")[0] == 0
    out_of_reach = link(page, "unanswered", "2")[1]
    assert codes_behind(client, out_of_reach) == set()
    future = (utcnow() + timedelta(days=2)).date().isoformat()
    page = client.get(f"/supervision?since={future}").get_data(as_text=True)
    assert link(page, "answered_by", "service")[0] == 0


def test_an_unknown_loop_panel_is_not_found(app, make_user, login) -> None:
    client = app.test_client()
    login(client, make_user("supervisor", ("MX-CHP",)))
    assert client.get("/supervision/loop/cases?panel=nope&key=x").status_code == 404


def test_percentile_matches_postgresql_percentile_cont() -> None:
    assert percentile([10.0, 20.0, 30.0], 0.5) == 20.0
    assert percentile([10.0, 20.0, 30.0], 0.9) == pytest.approx(28.0)
    assert percentile([5.0], 0.9) == 5.0
