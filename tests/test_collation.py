"""Nationalities, states and services sort as each language's readers sort (ICU collation)."""

from __future__ import annotations

import re

from referral.i18n import sort_key
from tests.factories import start_draft


def options(page: str, select_id: str) -> list[str]:
    """The labels of a <select>'s options, in the page's order."""
    block = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert block, select_id
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", block[1])]


def checkbox_labels(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="[^"]*"[^>]*> <span>([^<]*)</span>', page)


def test_spanish_sorts_accents_and_enye_as_spanish_readers_do() -> None:
    words = ["Bután", "Zacatecas", "Ñuñoa", "Nicaragua", "Bélgica", "Oaxaca", "árbol"]
    assert sorted(words, key=sort_key("es")) == [
        "árbol",
        "Bélgica",
        "Bután",
        "Nicaragua",
        "Ñuñoa",
        "Oaxaca",
        "Zacatecas",
    ]
    assert sorted(words) != sorted(words, key=sort_key("es"))  # byte order gets it wrong


def test_intake_nationalities_and_states_in_the_readers_order(app, make_user, login) -> None:
    client = app.test_client()
    login(client, make_user("screener"))
    key = start_draft(client)
    person = client.get(f"/intake/{key}/person").get_data(as_text=True)
    nationalities = options(person, "nationality")
    assert nationalities.index("Bélgica") < nationalities.index("Bután")
    rest = nationalities[3:]  # after "Choose", Mexico and "not known"
    assert rest == sorted(rest, key=sort_key("es"))
    encounter = client.get(f"/intake/{key}/encounter").get_data(as_text=True)
    states = options(encounter, "state")
    assert states.index("Estado de México") < states.index("Guanajuato")
    client.get("/language/en")
    states = options(client.get(f"/intake/{key}/encounter").get_data(as_text=True), "state")
    assert states.index("Jalisco") < states.index("Mexico City") < states.index("Michoacán")
    assert states[-1] == "Location not known"


def test_admin_user_form_states_are_a_checkbox_grid_by_name(app, make_user, login) -> None:
    client = app.test_client()
    login(client, make_user("admin", (), national=True))
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert '<select id="states"' not in page and 'name="national"' in page
    names = checkbox_labels(page, "states")
    assert len(names) == 32 and names == sorted(names, key=sort_key("es"))
    assert names.index("Estado de México") < names.index("Guanajuato")
    client.get("/language/en")
    names = checkbox_labels(client.get("/admin/users/new").get_data(as_text=True), "states")
    assert names.index("Jalisco") < names.index("Mexico City") < names.index("Michoacán")


def test_directory_and_dashboard_filters_sort_by_name(app, make_user, login) -> None:
    client = app.test_client()
    login(client, make_user("admin", (), national=True))
    client.get("/language/en")
    directory = client.get("/directory").get_data(as_text=True)
    states = options(directory, "state")[1:]
    assert states == sorted(states, key=sort_key("en"))
    services = re.findall(r'<td><a href="/directory/[^"]+">([^<]+)</a>', directory)
    assert len(services) > 3 and services == sorted(services, key=sort_key("en"))
    dashboard = client.get("/supervision").get_data(as_text=True)
    states = options(dashboard, "state")[1:-1]  # "Any" first, "Location not known" last
    assert states == sorted(states, key=sort_key("en"))
