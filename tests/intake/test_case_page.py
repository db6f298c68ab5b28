"""The case page and the rights sheet of issue 13, as the screener reads them.

The urgent things first, each need's state at a glance, the first three options and the
rest behind "show all", services full today listed apart; the rights sheet in the
person's language with nothing about the case. (The browser walkthroughs, with page
heights and axe, are in tests/browser/test_case_page.py.)
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from referral.casework.models import Case, Screening
from referral.db import get_db
from tests.conftest import csrf_token
from tests.factories import fill_all, submit


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP", "MX-TLA", "MX-CMX"))


@pytest.fixture
def signed_in(client, screener, login):
    login(client, screener)
    return client


def new_case(client, overrides=None) -> str:
    response = submit(client, fill_all(client, overrides))
    return re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)


def stored_options(app, code: str) -> dict[str, list[dict]]:
    with get_db(app).session() as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        return session.get(Screening, case.latest_screening_id).result["options"]


def section(page: str, ident: str) -> str:
    """The HTML of the element with this id, up to the next element of the same tag level."""
    start = page.index(f'id="{ident}"')
    tag = page.rfind("<", 0, start)
    name = re.match(r"<(\w+)", page[tag:]).group(1)
    depth, position = 0, tag
    for match in re.finditer(rf"<(/?){name}\b", page[tag:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            position = tag + match.end()
            break
    return page[tag:position]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_what_to_do_now_comes_first(signed_in) -> None:
    # The default intake: a 15-year-old Honduran girl in danger, in migration detention.
    page = signed_in.get(f"/cases/{new_case(signed_in)}").get_data(as_text=True)
    assert page.index('id="act-now"') < page.index('id="needs"') < page.index('id="alerts"')
    act_now = section(page, "act-now")
    for code in ("immediate_danger", "child_protection_notice", "no_detention"):
        assert f'id="alert-{code}"' in act_now and "alert-urgent" in act_now
    assert "Peligro inmediato" in act_now
    # Rights and file alerts sit below the needs, closed.
    alerts = section(page, "alerts")
    assert 'id="alert-humanitarian_visa"' in alerts and "<details" in alerts
    assert "alert-urgent" not in alerts
    glance = section(page, "need-glance")
    assert glance.count("<li") == page.count('class="card need ')
    assert 'href="#need-shelter"' in glance and "badge-need-not_referred" in glance


def test_each_need_shows_its_state_at_a_glance(app, signed_in) -> None:
    code = new_case(signed_in)
    shelter = stored_options(app, code)["shelter"][0]["service"]
    token = csrf_token(signed_in, f"/cases/{code}")
    signed_in.post(
        f"/cases/{code}/referrals",
        data={"csrf_token": token, "need": "shelter", "service_id": shelter},
    )
    page = signed_in.get(f"/cases/{code}").get_data(as_text=True)
    glance = section(page, "need-glance")
    assert re.search(r'href="#need-shelter".*?badge-need-referred', glance)
    referral = re.search(r'id="referral-(\d+)"', page).group(1)
    signed_in.post(
        f"/referrals/{referral}/status",
        data={"csrf_token": token, "status": "accepted", "version": "1"},
    )
    page = signed_in.get(f"/cases/{code}").get_data(as_text=True)
    assert re.search(r'href="#need-shelter".*?badge-need-accepted', section(page, "need-glance"))


def test_a_gap_is_prominent_with_its_reasons(signed_in) -> None:
    # An adult man in Tlaxcala: no shelter there takes men.
    code = new_case(
        signed_in, {"encounter": {"state": "MX-TLA"}, "person": {"age": "40", "sex": "male"}}
    )
    page = signed_in.get(f"/cases/{code}").get_data(as_text=True)
    gaps = re.findall(r'class="card need need-gap" id="need-(\w+)"', page)
    assert gaps, "the case has no gap"
    card = section(page, f"need-{gaps[0]}")
    assert "gap-box" in card and "<li>" in card.split("gap-box")[1]
    assert re.search(rf'href="#need-{gaps[0]}".*?badge-need-gap', section(page, "need-glance"))


def test_the_first_three_options_then_show_all(app, signed_in) -> None:
    code = new_case(signed_in, {"encounter": {"state": "MX-CMX"}})  # four shelters for a girl
    page = signed_in.get(f"/cases/{code}").get_data(as_text=True)
    many = {need: o for need, o in stored_options(app, code).items() if len(o) > 3}
    assert many, "no need has more than three options"
    for need, options in many.items():
        card = section(page, f"need-{need}")
        first, _, rest = card.partition('<details class="more-options">')
        assert first.count('class="option"') == 3
        assert rest.count('class="option"') == len(options) - 3
        assert f"Mostrar las {len(options)}" in rest or f"Show all {len(options)}" in rest


def test_a_service_full_today_is_listed_apart(app, client, signed_in, make_user, login) -> None:
    code = new_case(signed_in)
    shelter = stored_options(app, code)["shelter"][0]["service"]
    admin = app.test_client()
    login(admin, make_user("admin", (), national=True))
    admin.post(
        f"/directory/{shelter}/capacity",
        data={
            "csrf_token": csrf_token(admin, f"/directory/{shelter}"),
            "capacity_available": "0",
        },
    )
    page = signed_in.get(f"/cases/{code}").get_data(as_text=True)
    card = section(page, "need-shelter")
    assert 'class="full-today"' in card
    full = card.split('class="full-today"')[1]
    assert f'value="{shelter}"' not in card  # not offered as an option
    with get_db(app).session() as session:
        from referral.directory.models import Service

        name = session.get(Service, shelter).entry["name"]["es"]
    assert name in full


def test_spanish_sources_quote_the_report_in_english_marked_as_such(signed_in) -> None:
    page = signed_in.get(f"/cases/{new_case(signed_in)}").get_data(as_text=True)
    assert '<q lang="en">a reflection period of 30 days</q>' in page
    assert "and 90 VI" not in page and "y 90 VI" in page


def test_the_rights_sheet_speaks_the_screening_language_and_names_no_case(
    app, signed_in, screener
) -> None:
    code = new_case(signed_in)
    signed_in.get("/language/en")
    sheet = signed_in.get(f"/cases/{code}/rights").get_data(as_text=True)
    assert '<html lang="es">' in sheet  # the screening's language, whatever the reader's
    visible = text_of(sheet)
    assert "Si no es de nacionalidad mexicana, puede pedir al INM" in visible
    assert "No pueden enviarle a un país" in visible
    assert code not in visible and "Albergue" not in visible
    english = text_of(signed_in.get(f"/cases/{code}/rights?lang=en").get_data(as_text=True))
    assert "If you are not Mexican, you can ask INM" in english
    assert "Si no es" not in english
    # Only the rights the alerts name: a Mexican adult gets no visa right.
    mexican = {"nationality": "MX", "age": "30", "migration_status": "national"}
    national = new_case(signed_in, {"person": mexican})
    plain = text_of(signed_in.get(f"/cases/{national}/rights?lang=en").get_data(as_text=True))
    assert "humanitarian visa" not in plain
    assert "whatever your nationality or migration status" in plain


def test_the_rights_sheet_is_out_of_reach_of_other_screeners(app, signed_in, make_user, login):
    code = new_case(signed_in)
    other = app.test_client()
    login(other, make_user("screener", ("MX-CHP",)))
    assert other.get(f"/cases/{code}/rights").status_code == 404


def test_report_citations_link_the_paragraph_and_name_the_section_in_the_reader_language(
    app,
) -> None:
    from flask_babel import force_locale

    from referral.site.routes import cite

    with app.test_request_context("/"), force_locale("en"):
        english = str(cite("the report, PROFILE ¶4"))
    assert english == 'the report, <a href="/sources/report#PROFILE-4">PROFILE ¶4</a>'
    with app.test_request_context("/"), force_locale("es"):
        spanish = str(cite('el informe (en inglés: "a reflection period", un periodo), PROFILE ¶4'))
    assert '<a href="/sources/report#PROFILE-4">' in spanish
    assert '<q lang="en">a reflection period</q>' in spanish
