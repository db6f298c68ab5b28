from __future__ import annotations

from referral.seeds.report import is_paragraph_id, load_report
from tests.conftest import SEEDS


def test_paragraph_ids_are_stable() -> None:
    report = load_report(SEEDS / "report.txt")
    assert report["RECOMMENDATIONS ¶3"].text == "Increase availability of protection services."
    assert report["PROTECTION ¶7"].text.startswith(
        "An international organization reported there were 15 specialized shelters"
    )
    assert report["PREVENTION ¶3"].text.startswith("The government operated a national")
    assert report["PROTECTION ¶2"].text.startswith("The government reported identifying 860")


def test_a_paragraph_broken_across_a_page_is_joined() -> None:
    report = load_report(SEEDS / "report.txt")
    assert "government-supported services." in report["PROTECTION ¶5"].text
    assert not any(p.text.startswith("government-supported") for p in report.values())


def test_every_section_is_numbered_from_one() -> None:
    report = load_report(SEEDS / "report.txt")
    sections = {p.section for p in report.values()}
    assert sections == {
        "SUMMARY",
        "RECOMMENDATIONS",
        "PROSECUTION",
        "PROTECTION",
        "PREVENTION",
        "PROFILE",
    }
    for section in sections:
        numbers = sorted(p.number for p in report.values() if p.section == section)
        assert numbers == list(range(1, len(numbers) + 1))


def test_paragraph_id_syntax() -> None:
    assert is_paragraph_id("PROTECTION ¶7")
    assert not is_paragraph_id("PROTECTION 7")


def test_the_report_page_anchors_each_paragraph(client) -> None:
    page = client.get("/sources/report").get_data(as_text=True)
    assert 'id="PROTECTION-7"' in page
    assert "PROTECTION ¶7" in page


def test_cited_paragraphs_link_to_the_report_and_text_is_escaped(app) -> None:
    from referral.site.routes import cite

    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = str(cite("PROTECTION ¶7 and <b>LGPSEDMTP Art. 37</b>"))
    assert '<a href="/sources/report#PROTECTION-7">PROTECTION ¶7</a>' in html
    assert "&lt;b&gt;LGPSEDMTP Art. 37&lt;/b&gt;" in html
    with app.test_request_context():  # Spanish: the section's name in Spanish, same anchor
        spanish = str(cite("PROTECTION ¶7"))
    assert '<a href="/sources/report#PROTECTION-7">PROTECCIÓN ¶7</a>' in spanish
