"""CONTRACT v4 section 4 on the pages: a demonstration entry and an unverified one are
marked wherever a screener sees a service (options, sheet, directory), every page says the
directory is a demonstration until an admin confirms or imports one, and the entry's
load-time refusals (women's violence refuges, empty nationalities, caveats without source)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from sqlmodel import col, select

from referral.audit.models import AuditEvent
from referral.casework.models import Case, Referral
from referral.db import get_db
from referral.directory.models import DirectoryVersion
from referral.rules import SeedErrors, parse_services
from tests.conftest import csrf_token
from tests.factories import fill_all, submit

NETWORK = "svc-chp-migrant-shelter-network"
BANNER_EN = "This directory is a demonstration: load your own."
VENEZUELAN_WOMAN_IN_TAPACHULA = {
    "encounter": {"encounter": "migration_detention", "state": "MX-CHP", "setting": "urban"},
    "person": {
        "age": "27",
        "sex": "female",
        "nationality": "VE",
        "vulnerabilities": [],
        "migration_status": "irregular",
    },
    "needs": {"needs": ["shelter"], "immediate_danger": ""},
}


# --- load-time refusals ----------------------------------------------------------------------


@pytest.fixture
def entry(seed_set) -> dict[str, Any]:
    (network,) = [s for s in seed_set.services if s.id == NETWORK]
    return copy.deepcopy(network.to_contract_dict())


def problems(seed_set, entry: dict[str, Any]) -> dict[str, str]:
    states = {s.code for s in seed_set.states}
    with pytest.raises(SeedErrors) as caught:
        parse_services([entry], seed_set.rules, states)
    return {e.field: e.message for e in caught.value.errors}


def test_a_womens_violence_refuge_is_refused_with_the_law(seed_set, entry) -> None:
    entry["tags"] = [*entry["tags"], "womens_violence_refuge"]
    found = problems(seed_set, entry)
    assert list(found) == ["tags"]
    assert "LGPSEDMTP Art. 90 VI" in found["tags"]


def test_an_empty_nationalities_list_is_refused_and_null_means_every_one(seed_set, entry) -> None:
    assert problems(seed_set, {**entry, "nationalities": []}) == {
        "nationalities": "must not be empty: leave it out for every nationality"
    }
    assert "nationalities[0]" in problems(seed_set, {**entry, "nationalities": ["gt"]})
    states = {s.code for s in seed_set.states}
    (service,) = parse_services([{**entry, "nationalities": None}], seed_set.rules, states)
    assert service.nationalities is None
    assert "nationalities" not in service.to_contract_dict()


def test_a_caveat_needs_both_languages_and_a_source(seed_set, entry) -> None:
    caveat = {"es": "Texto.", "en": "Text.", "source": "PROTECTION ¶7"}
    states = {s.code for s in seed_set.states}
    (service,) = parse_services([{**entry, "caveats": [caveat]}], seed_set.rules, states)
    assert service.to_contract_dict()["caveats"] == [caveat]
    no_source = {k: v for k, v in caveat.items() if k != "source"}
    assert problems(seed_set, {**entry, "caveats": [no_source]}) == {
        "caveats[0].source": "missing source (report paragraph id or law article)"
    }
    assert "caveats[0].en" in problems(seed_set, {**entry, "caveats": [{**caveat, "en": " "}]})
    assert "caveats" in problems(seed_set, {**entry, "caveats": []})


# --- pages -----------------------------------------------------------------------------------


@pytest.fixture
def people(make_user) -> dict[str, Any]:
    return {
        "admin_en": make_user("admin", (), national=True, language="en"),
        "screener_es": make_user("screener", ("MX-CHP",), language="es"),
        "screener_en": make_user("screener", ("MX-CHP",), language="en"),
        "supervisor_en": make_user("supervisor", ("MX-CHP",), language="en"),
        "supervisor_es": make_user("supervisor", ("MX-CHP",), language="es"),
    }


def new_case(client) -> str:
    response = submit(client, fill_all(client, VENEZUELAN_WOMAN_IN_TAPACHULA))
    return re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)


def option_items(page: str) -> dict[str, str]:
    """Each option on the case page, keyed by the service id its refer form posts."""
    start = r'<li class="option">'
    items = re.findall(start + r"(.*?)</li>\s*(?=" + start + "|</ol>)", page, re.S)
    out = {}
    for item in items:
        found = re.search(r'name="service_id" value="([^"]+)"', item)
        if found:
            out[found.group(1)] = item
    return out


@pytest.mark.parametrize("who", ["screener_es", "screener_en"])
def test_case_options_mark_demonstration_and_unverified_entries(
    client, login, people, who, seed_set
):
    login(client, people[who])
    page = client.get(f"/cases/{new_case(client)}").get_data(as_text=True)
    assert 'class="flash flash-warning demo-banner"' in page
    options = option_items(page)
    assert NETWORK in options
    network = options[NETWORK]
    assert 'class="badge badge-demo"' in network and 'class="badge badge-unverified"' in network
    assert 'href="/sources/report#PROFILE-4"' in network  # the caveat, with its source
    if who == "screener_en":
        assert '<html lang="en">' in page and BANNER_EN in page
        assert ">demonstration</span>" in network and ">not verified</span>" in network
        assert "find the real service first" in network
    else:
        assert '<html lang="es">' in page
    # Exactly the illustrative services carry the demonstration badge.
    illustrative = {s.id for s in seed_set.services if "illustrative" in s.tags}
    assert len(options) > 1
    for sid, item in options.items():
        assert ("badge-demo" in item) == (sid in illustrative), sid


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_sheet_of_a_demonstration_entry_says_so(app, client, login, people, lang):
    login(client, people["screener_en"])
    code = new_case(client)
    token = csrf_token(client, f"/cases/{code}")
    response = client.post(
        f"/cases/{code}/referrals",
        data={"csrf_token": token, "need": "shelter", "service_id": NETWORK},
    )
    assert response.status_code == 302
    with get_db(app).session() as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        referral = session.exec(select(Referral).where(Referral.case_id == case.id)).one()
    sheet = client.get(f"/referrals/{referral.id}/sheet?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in sheet
    assert 'class="badge badge-demo"' in sheet and 'class="badge badge-unverified"' in sheet
    assert "flash flash-warning" in sheet
    if lang == "en":
        assert "not a real address" in sheet


@pytest.mark.parametrize("who", ["supervisor_es", "supervisor_en"])
def test_the_directory_marks_entries_and_shows_caveats(client, login, people, who):
    login(client, people[who])
    listing = client.get("/directory?state=MX-CHP").get_data(as_text=True)
    row = re.search(rf'<tr id="svc-{NETWORK}">(.*?)</tr>', listing, re.S).group(1)
    assert "badge-demo" in row and "badge-unverified" in row
    prosecutor = re.search(r'<tr id="svc-svc-chp-state-prosecutor">(.*?)</tr>', listing, re.S)
    assert "badge-demo" not in prosecutor.group(1)  # a kind of office every state has by law
    assert "badge-unverified" in prosecutor.group(1)
    page = client.get(f"/directory/{NETWORK}").get_data(as_text=True)
    assert "badge-demo" in page and "PROFILE ¶4" in page
    assert 'id="directory-confirmation"' not in listing  # only admins confirm
    if who.endswith("_en"):
        assert ">demonstration</span>" in page and "Know before referring:" in page
        assert BANNER_EN in listing


def banner_shown(client) -> bool:
    return "demo-banner" in client.get("/directory").get_data(as_text=True)


def test_an_admin_confirms_the_directory_audited_and_can_undo_it(app, client, login, people):
    login(client, people["admin_en"])
    assert banner_shown(client)
    token = csrf_token(client, "/directory")
    response = client.post(
        "/directory/confirmation", data={"csrf_token": token, "confirmed": "yes"}
    )
    assert response.status_code == 302
    assert not banner_shown(client)
    with get_db(app).session() as session:
        version = session.exec(
            select(DirectoryVersion).order_by(col(DirectoryVersion.id).desc())
        ).first()
        assert version.reason == "confirm"
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.object_kind == "directory", AuditEvent.object_id == str(version.id)
            )
        ).one()
        assert (event.action, event.object_kind, event.actor_id) == (
            "directory_changed",
            "directory",
            people["admin_en"].id,
        )
    token = csrf_token(client, "/directory")
    client.post("/directory/confirmation", data={"csrf_token": token, "confirmed": "no"})
    assert banner_shown(client)


def test_only_an_admin_confirms(client, login, people):
    login(client, people["supervisor_en"])
    token = csrf_token(client, "/directory")
    response = client.post(
        "/directory/confirmation", data={"csrf_token": token, "confirmed": "yes"}
    )
    assert response.status_code == 404  # admin pages answer 404 to everyone else
    assert banner_shown(client)


def test_an_hsds_import_ends_the_banner(app, client, login, people, runner, tmp_path):
    login(client, people["supervisor_en"])
    assert banner_shown(client)
    exported = runner.invoke(args=["directory", "export", "--format", "hsds"])
    path = tmp_path / "directory.hsds.json"
    path.write_text(exported.output, encoding="utf-8")
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output
    assert not banner_shown(client)
    assert len(json.loads(exported.output)) > 100
