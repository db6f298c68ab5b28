"""The dashboard's lists: open and closed gaps apart, labels never cut, one reason per label,
what-if results first, and an empty microdata download that says why."""

from __future__ import annotations

import re
from datetime import timedelta

from referral.casework.screening import CaseDetails, store_screening
from referral.casework.workflow import close_gaps, open_gap
from referral.db import get_db, utcnow
from referral.directory.catalogue import current_catalogue
from referral.rules import validate_record
from tests.factories import GIRL_FROM_HONDURAS, download


def ad_hoc_gaps(app, screener) -> str:
    """A case with ad hoc gaps opened 3, 45 and 200 days ago, and one closed; its code."""
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record(GIRL_FROM_HONDURAS, catalogue.codes)
        case, _screening, _result = store_screening(
            session, record, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
        )
        now = utcnow()
        for need, days in (
            ("medical", 3),
            ("legal_aid", 45),
            ("psychological", 200),
            ("protection", 1),
        ):
            open_gap(
                session,
                case,
                need=need,
                kind="ad_hoc",
                reasons=["ad_hoc"],
                when=now - timedelta(days=days),
            )
        close_gaps(session, case.id, "protection")
        return case.code


def table_of(html: str, section_id: str) -> dict[str, str]:
    section = html.split(f'id="{section_id}-heading"')[1].split("</section>")[0]
    table = section.split("<tbody>")[1]
    return dict(
        re.findall(r'<th scope="row">([^<]+)</th>\s*<td class="num"><a[^>]*>(\d+)</a>', table)
    )


def test_open_and_closed_gaps_apart_with_how_long_open(app, client, make_user, login) -> None:
    screener = make_user("screener", ("MX-CHP",))
    code = ad_hoc_gaps(app, screener)
    login(client, make_user("admin", (), national=True))
    client.get("/language/en")
    html = client.get("/supervision?kind=ad_hoc").get_data(as_text=True)
    assert table_of(html, "by-open-for") == {
        "Open less than 7 days": "1",
        "Open 7 to 30 days": "0",
        "Open 31 to 90 days": "1",
        "Open more than 90 days": "1",
        "Closed": "1",
    }
    assert "3 gap records are still open." in html
    assert "The oldest has been open for 200 days." in html
    behind = client.get("/supervision/cases?panel=open_for&key=open_over_90&kind=ad_hoc")
    assert code in behind.get_data(as_text=True)
    closed = client.get("/supervision/cases?panel=open_for&key=closed&kind=ad_hoc&need=protection")
    assert code in closed.get_data(as_text=True)
    recent = client.get("/supervision/cases?panel=open_for&key=open_under_7&need=legal_aid")
    assert code not in recent.get_data(as_text=True)  # its legal aid gap is 45 days old


def test_chart_labels_wrap_and_are_never_cut(app, client, make_user, login) -> None:
    screener = make_user("screener", ("MX-CHP",))
    ad_hoc_gaps(app, screener)
    login(client, make_user("admin", (), national=True))
    html = client.get("/supervision").get_data(as_text=True)
    assert "…</text>" not in html
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", html)
    assert lines and all(len(line) <= 26 or " " not in line for line in lines)
    # A long reason's label is whole, across lines, in its chart.
    reason = html.split('id="by-reason-heading"')[1].split("</section>")[0]
    spoken = " ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", reason))
    assert "Canalización fuera del directorio" in spoken


def test_a_reason_that_reads_the_same_is_listed_once(app, client, make_user, login) -> None:
    login(client, make_user("admin", (), national=True))
    html = client.get("/supervision").get_data(as_text=True)
    select = html.split('id="reason"')[1].split("</select>")[0]
    assert select.count(">Sin lugares disponibles<") == 1
    assert 'value="capacity,no_capacity"' in select
    assert client.get("/supervision?reason=capacity,no_capacity").status_code == 200


def test_whatif_results_come_before_the_draft(app, client, make_user, login) -> None:
    login(client, make_user("admin", (), national=True))
    page = client.get(
        "/supervision/what-if?run=1&add_need=shelter&add_state=MX-GRO&add_sexes=male"
    ).get_data(as_text=True)
    assert page.index('id="result"') < page.index('<form method="get"')
    assert 'href="#draft"' in page and 'id="draft"' in page


def test_an_empty_microdata_download_says_why(app, client, make_user, login) -> None:
    screener = make_user("screener", ("MX-CHP",))
    ad_hoc_gaps(app, screener)  # one consenting case: fewer than k = 11 in every class
    login(client, make_user("supervisor", ("MX-CHP",)))
    response = download(client, "/stats/microdata.csv")
    assert response.status_code == 302 and response.headers["Location"].startswith("/stats")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "fewer than 11 records" in page or "menos de 11 registros" in page
    assert "the only record was left out" in page or "el único registro" in page
    nobody = make_user("supervisor", ("MX-YUC",))
    other = app.test_client()
    login(other, nobody)
    empty = download(other, "/stats/microdata.csv")
    assert empty.status_code == 302
    said = other.get("/stats").get_data(as_text=True)  # the message is shown once
    assert "no case with consent" in said or "ningún caso" in said


def test_a_reason_that_reads_the_same_is_one_bar_summed(app, client, make_user, login) -> None:
    screener = make_user("screener", ("MX-CHP",))
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record(GIRL_FROM_HONDURAS, catalogue.codes)
        case, _screening, _result = store_screening(
            session, record, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
        )
        for need, reason in (("medical", "capacity"), ("legal_aid", "no_capacity")):
            open_gap(session, case, need=need, kind="ad_hoc", reasons=[reason], when=utcnow())
        code = case.code
    login(client, make_user("admin", (), national=True))
    for lang, label in (("es", "Sin lugares disponibles"), ("en", "No free places")):
        client.get(f"/language/{lang}")
        html = client.get("/supervision?kind=ad_hoc").get_data(as_text=True)
        reasons = table_of(html, "by-reason")
        assert reasons[label] == "2", (lang, reasons)
        chart = html.split('id="by-reason-heading"')[1].split("</section>")[0]
        assert chart.count(f">{label}</th>") == 1
        assert "key=capacity%2Cno_capacity" in chart or "key=capacity,no_capacity" in chart
    behind = client.get("/supervision/cases?panel=reason&key=capacity,no_capacity&kind=ad_hoc")
    assert code in behind.get_data(as_text=True)


def test_recommendation_reasons_name_report_sections_in_the_readers_language(
    app, client, make_user, login
) -> None:
    screener = make_user("screener", ("MX-CHP",))
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record(GIRL_FROM_HONDURAS, catalogue.codes)
        case, _screening, _result = store_screening(
            session, record, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
        )
        open_gap(session, case, need="shelter", kind="ad_hoc", reasons=["sex"], when=utcnow())
    login(client, make_user("admin", (), national=True))
    for lang, section, other in (
        ("es", "PROTECCIÓN ¶7", "PROTECTION ¶7"),
        ("en", "PROTECTION ¶7", "PROTECCIÓN"),
    ):
        client.get(f"/language/{lang}")
        html = client.get("/supervision?kind=ad_hoc").get_data(as_text=True)
        reasons = html.split('id="by-reason-heading"')[1].split("</section>")[0]
        assert f'#PROTECTION-7">{section}</a>' in reasons, lang
        assert other not in reasons.replace("#PROTECTION-7", ""), lang
