"""The screener's intake: drafts, validation that keeps every value, submission, routing."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import Session, func, select

from referral.casework.models import Case, Draft, Gap, Screening
from referral.db import get_db
from tests.conftest import csrf_token
from tests.factories import (
    SECTIONS,
    answers_marking,
    fill_all,
    post_section,
    start_draft,
    submit,
)


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",))


@pytest.fixture
def signed_in(client, screener, login):
    login(client, screener)
    return client


def db(app) -> Session:
    return get_db(app).session()


def count(app, model) -> int:
    with db(app) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_intake_needs_sign_in(client) -> None:
    response = client.get("/intake")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_full_intake_makes_one_routed_case(app, signed_in) -> None:
    key = fill_all(signed_in)
    response = submit(signed_in, key)
    assert response.status_code == 302
    location = response.headers["Location"]
    code = re.search(r"/cases/(RT-[A-Z0-9-]+)", location).group(1)
    page = signed_in.get(location).get_data(as_text=True)
    assert code in page
    assert "Probable" in page or "probable" in page
    with db(app) as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        screening = session.exec(select(Screening).where(Screening.case_id == case.id)).one()
    assert screening.status == "likely"
    assert screening.minor is True
    assert screening.rules_version and "/" in screening.rules_version
    assert "excluded" not in screening.result
    assert case.consent_referral and case.consent_statistics
    assert case.notes == "Habla poco."
    assert screening.record["indicators"] == ["commercial_sex", "threats"]
    assert screening.record["age"] == 15


def test_case_codes_are_not_guessable(app, signed_in) -> None:
    codes = set()
    for _ in range(3):
        response = submit(signed_in, fill_all(signed_in))
        codes.add(re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1))
    assert len(codes) == 3
    for code in codes:
        assert re.fullmatch(r"RT-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", code)


def test_pressing_submit_twice_stores_one_case(app, signed_in) -> None:
    key = fill_all(signed_in)
    token = csrf_token(signed_in, f"/intake/{key}/review")
    first = signed_in.post(f"/intake/{key}/submit", data={"csrf_token": token})
    second = signed_in.post(f"/intake/{key}/submit", data={"csrf_token": token})
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, Case) == 1
    assert count(app, Screening) == 1


def test_validation_error_keeps_every_value_and_speaks_spanish(app, signed_in) -> None:
    key = start_draft(signed_in)
    values = dict(SECTIONS["person"], age="quince", other_languages="mam, x1")
    response = post_section(signed_in, key, "person", values)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="quince"' in page
    assert "x1" in page
    assert "no es un código de idioma" in page
    assert 'aria-invalid="true"' in page
    with db(app) as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
    assert draft.data["age"] == "quince"
    assert draft.data["nationality"] == "HN"


def test_validation_error_in_english(app, signed_in) -> None:
    signed_in.get("/language/en")
    key = start_draft(signed_in)
    response = post_section(signed_in, key, "encounter", {"encounter": "", "state": "MX-CHP"})
    page = response.get_data(as_text=True)
    assert "Choose where you met the person." in page
    assert "Everything you typed has been kept." in page


def test_moving_between_sections_saves_the_draft(app, signed_in) -> None:
    key = start_draft(signed_in)
    post_section(signed_in, key, "encounter", SECTIONS["encounter"], goto="needs")
    response = signed_in.get(f"/intake/{key}/encounter")
    page = response.get_data(as_text=True)
    selected = r'<option selected value="migration_detention">'
    assert re.search(selected + r'|<option value="migration_detention" selected', page)


def test_autosave_keeps_partial_and_invalid_input(app, signed_in) -> None:
    key = start_draft(signed_in)
    token = csrf_token(signed_in, f"/intake/{key}/person")
    response = signed_in.post(
        f"/intake/{key}/autosave",
        data={"_section": "person", "age": "abc", "sex": "male"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert response.get_json()["saved"] is True
    with db(app) as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
    assert draft.data["age"] == "abc"
    assert draft.data["sex"] == "male"


def test_a_draft_is_only_its_owners(app, client, signed_in, make_user, login) -> None:
    key = start_draft(signed_in)
    other = app.test_client()
    login(other, make_user("screener", ("MX-CHP",)))
    assert other.get(f"/intake/{key}/encounter").status_code == 404
    supervisor = app.test_client()
    login(supervisor, make_user("supervisor", ("MX-CHP",)))
    assert supervisor.get(f"/intake/{key}/encounter").status_code == 404


def test_review_lists_missing_answers_and_submit_goes_back(app, signed_in) -> None:
    key = start_draft(signed_in)
    post_section(signed_in, key, "encounter", SECTIONS["encounter"])
    review = signed_in.get(f"/intake/{key}/review").get_data(as_text=True)
    assert "La persona" in review
    response = submit(signed_in, key)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/intake/{key}/person")
    assert count(app, Case) == 0


def test_each_section_is_validated_when_saved_not_again_at_submission(
    app, signed_in, monkeypatch
) -> None:
    key = fill_all(signed_in)
    with db(app) as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
    assert set(draft.checked or {}) == set(SECTIONS)
    validated: list[str] = []
    from referral.casework import forms

    original = forms.FlaskForm.validate

    def counting(form, *args, **kwargs):
        validated.append(type(form).__name__)
        return original(form, *args, **kwargs)

    monkeypatch.setattr(forms.FlaskForm, "validate", counting)
    response = submit(signed_in, key)
    assert response.status_code == 302
    assert "/cases/RT-" in response.headers["Location"]
    assert validated == ["ReviewForm"]  # only the submit button's own CSRF check


def test_a_section_changed_after_it_was_checked_is_validated_again(app, signed_in) -> None:
    """The stored fingerprint no longer matches: submission refuses the invalid answers."""
    key = fill_all(signed_in)
    with get_db(app).transaction() as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
        draft.data = {**draft.data, "sex": "", "age": None, "age_unknown": False}
        session.add(draft)
    response = submit(signed_in, key)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/intake/{key}/person")
    assert count(app, Case) == 0


def test_an_invalid_save_forgets_that_the_section_was_valid(app, signed_in) -> None:
    key = fill_all(signed_in)
    post_section(signed_in, key, "encounter", {**SECTIONS["encounter"], "state": ""}, save="1")
    with db(app) as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
    assert "encounter" not in (draft.checked or {})
    response = submit(signed_in, key)
    assert response.headers["Location"].endswith(f"/intake/{key}/encounter")
    assert count(app, Case) == 0


def test_children_can_be_added_and_removed(app, signed_in) -> None:
    key = start_draft(signed_in)
    post_section(signed_in, key, "person", SECTIONS["person"], add_child="1")
    values = dict(SECTIONS["person"], **{"companions-0-age": "14", "companions-0-sex": "male"})
    response = post_section(signed_in, key, "person", values)
    assert response.status_code == 302
    with db(app) as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
    assert draft.data["companions"] == [{"age": 14, "sex": "male"}]
    post_section(signed_in, key, "person", values, remove_child="0")
    with db(app) as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
    assert draft.data["companions"] == []


def test_unknown_age_is_presumed_minor_unless_clearly_adult(app, signed_in) -> None:
    person = {"age": "", "age_unknown": "y"}
    response = submit(signed_in, fill_all(signed_in, {"person": person}))
    code = re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)
    with db(app) as session:
        screening = session.exec(select(Screening).join(Case).where(Case.code == code)).one()
    assert screening.record["age"] is None and screening.minor is True
    assert "presumed_minor" in [a["code"] for a in screening.result["alerts"]]

    adult = {"age": "", "age_unknown": "y", "clearly_adult": "y"}
    response = submit(signed_in, fill_all(signed_in, {"person": adult}))
    code = re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)
    with db(app) as session:
        screening = session.exec(select(Screening).join(Case).where(Case.code == code)).one()
    assert screening.minor is False


def test_routing_gaps_are_recorded_once(app, signed_in) -> None:
    man = {
        "person": dict(
            SECTIONS["person"],
            age="30",
            sex="male",
            nationality="MX",
            migration_status="national",
            vulnerabilities=[],
        ),
        "encounter": {"encounter": "labor_inspection", "state": "MX-GRO", "setting": "rural"},
    }
    response = submit(signed_in, fill_all(signed_in, man))
    assert response.status_code == 302
    with db(app) as session:
        gaps = session.exec(select(Gap)).all()
        screening = session.exec(select(Screening)).one()
    shelter = [g for g in gaps if g.need == "shelter"]
    assert len(shelter) == 1 and shelter[0].kind == "routing"
    stored = next(g for g in screening.result["gaps"] if g["need"] == "shelter")
    assert shelter[0].reasons == stored["reasons"]
    # v4: "coverage" only when no shelter is in reach, never beside another reason
    assert shelter[0].reasons == ["coverage"] or "coverage" not in shelter[0].reasons


def test_case_page_shows_alerts_with_sources_and_options_with_why(app, signed_in) -> None:
    response = submit(signed_in, fill_all(signed_in))
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "LGPSEDMTP Art. 3" in page or "LGDNNA" in page or "Art. 12" in page
    assert 'class="why"' in page
    assert "Habla poco." in page  # notes are shown in the case


def test_stored_result_is_shown_in_the_other_language(app, signed_in) -> None:
    response = submit(signed_in, fill_all(signed_in))
    location = response.headers["Location"]
    spanish = signed_in.get(location).get_data(as_text=True)
    signed_in.get("/language/en")
    english = signed_in.get(location).get_data(as_text=True)
    assert "A dónde canalizar" in spanish and "Where to refer" in english
    # The alerts are rendered from their codes in the reader's language, not the stored one.
    assert "Peligro inmediato" in spanish and "Immediate danger" not in spanish
    assert "Immediate danger" in english and "Peligro inmediato" not in english
    assert "call 911 first" in english and "llame primero al 911" not in english
    assert 'id="earlier-rules"' not in english  # a language is not an earlier version


def test_rescreening_keeps_the_earlier_screening(app, signed_in) -> None:
    response = submit(signed_in, fill_all(signed_in))
    code = re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)
    token = csrf_token(signed_in, f"/cases/{code}")
    started = signed_in.post(f"/cases/{code}/rescreen", data={"csrf_token": token})
    key = re.search(r"/intake/([^/]+)/encounter", started.headers["Location"]).group(1)
    page = signed_in.get(f"/intake/{key}/person").get_data(as_text=True)
    assert 'value="15"' in page
    post_section(
        signed_in, key, "indicators", answers_marking("commercial_sex", "threats", "violence")
    )
    done = submit(signed_in, key)
    assert code in done.headers["Location"]
    with db(app) as session:
        screenings = session.exec(select(Screening).join(Case).where(Case.code == code)).all()
    assert len(screenings) == 2
    assert count(app, Case) == 1


def test_import_then_export_round_trip(app, runner, make_user) -> None:
    make_user("screener", ("MX-CHP",), email="ana@example.org")
    base = {
        "age": 22,
        "sex": "female",
        "nationality": "VE",
        "state": "MX-CHP",
        "setting": "urban",
        "languages": ["es"],
        "migration_status": "irregular",
        "encounter": "ngo_outreach",
        "indicators": ["commercial_sex"],
        "needs": ["shelter"],
        "complaint_filed": False,
        "victim_status": False,
        "cross_border": True,
        "organized_crime": False,
        "official_involvement": False,
        "screener": "ana@example.org",
        "consent_referral": True,
        "consent_statistics": False,
    }
    lines = [
        dict(base, screened_at="2024-03-01T10:00:00+00:00", case_code="PAPER-001"),
        dict(
            base,
            screened_at="2024-03-05T10:00:00+00:00",
            case_code="PAPER-001",
            indicators=["commercial_sex", "threats", "violence"],
        ),
        dict(base, screened_at="2024-04-01T09:30:00+00:00", case_code="PAPER-002", age=None),
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    result = runner.invoke(args=["cases", "import", "-"], input=text)
    assert result.exit_code == 0, result.output
    assert count(app, Case) == 2 and count(app, Screening) == 3
    exported = runner.invoke(args=["cases", "export-jsonl"])
    assert exported.exit_code == 0
    rows = [json.loads(line) for line in exported.output.strip().splitlines()]
    assert [r["case_code"] for r in rows] == ["PAPER-001", "PAPER-001", "PAPER-002"]
    for original, row in zip(lines, rows, strict=True):
        for key, value in original.items():
            if key == "screened_at":
                assert row[key].startswith(value[:19])
            else:
                assert row[key] == value, key
        assert "notes" not in row


def stored_line(**changes: object) -> dict:
    """One line of `cases import`: a hotline screening by ana@example.org."""
    line = {
        "age": 22,
        "sex": "female",
        "nationality": "MX",
        "state": "MX-CHP",
        "setting": "urban",
        "languages": [],
        "migration_status": "national",
        "encounter": "hotline",
        "indicators": [],
        "needs": [],
        "complaint_filed": False,
        "victim_status": False,
        "cross_border": False,
        "organized_crime": False,
        "official_involvement": False,
        "screener": "ana@example.org",
        "consent_referral": True,
        "consent_statistics": True,
        "screened_at": "2024-01-01T00:00:00",
    }
    line.update(changes)
    return line


def test_import_is_all_or_nothing_with_a_report_per_line(app, runner, make_user) -> None:
    make_user("screener", ("MX-CHP",), email="ana@example.org")
    good = stored_line()
    bad = stored_line(sex="woman", screener="nobody@example.org")
    text = "\n".join([json.dumps(good), json.dumps(bad), "{oops"])
    result = runner.invoke(args=["cases", "import", "-", "--lang", "en"], input=text)
    assert result.exit_code == 2
    errors = json.loads(result.output.strip().splitlines()[-1])["errors"]
    assert set(errors) == {"line 2", "line 3"}
    assert {"sex", "screener"} <= set(errors["line 2"])
    assert count(app, Case) == 0


def test_import_keeps_the_instant_of_an_offset_time(app, runner, make_user) -> None:
    make_user("screener", ("MX-CHP",), email="ana@example.org")
    line = stored_line(screened_at="2024-12-31T23:30:00-06:00")
    assert runner.invoke(args=["cases", "import", "-"], input=json.dumps(line)).exit_code == 0
    exported = json.loads(runner.invoke(args=["cases", "export-jsonl"]).output)
    assert exported["screened_at"].startswith("2025-01-01T05:30:00")


def test_indicator_sources_are_in_the_readers_language_and_linked(signed_in) -> None:
    key = start_draft(signed_in)
    for lang, shown, other in (
        ("es", "OIT/CE, Indicadores operativos", ("ILO/EC", ">PROFILE ¶1<")),
        ("en", "ILO/EC Operational indicators", ("OIT/CE", ">PERFIL ¶1<")),
    ):
        signed_in.get(f"/language/{lang}")
        html = signed_in.get(f"/intake/{key}/indicators").get_data(as_text=True)
        assert shown in html, lang
        assert ">PERFIL ¶1</a>" in html if lang == "es" else ">PROFILE ¶1</a>" in html
        for words in other:
            assert words not in html, (lang, words)
