"""Screening questions are answered yes, no, not asked or prefers not to say; only the answer
the seeds name marks an indicator, and the review lists every answer before submitting."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from referral.casework.models import Case, Draft, Screening
from referral.db import get_db
from tests.conftest import csrf_token
from tests.factories import SECTIONS, answers_marking, fill_all, post_section, start_draft, submit


@pytest.fixture
def signed_in(client, make_user, login):
    login(client, make_user("screener", ("MX-CHP",)))
    return client


def stored_screening(app, location: str) -> Screening:
    code = re.search(r"/cases/(RT-[A-Z0-9-]+)", location).group(1)
    with get_db(app).session() as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        return session.get(Screening, case.latest_screening_id)


@pytest.mark.parametrize(
    ("answer", "withheld"), [("yes", False), ("no", True), ("prefers_not_to_say", False)]
)
def test_has_documents_yes_records_no_documents_withheld(app, signed_in, answer, withheld):
    questions = {**SECTIONS["indicators"], "q_documents_withheld": answer}
    key = fill_all(signed_in, {"indicators": questions})
    screening = stored_screening(app, submit(signed_in, key).headers["Location"])
    assert ("documents_withheld" in screening.record["indicators"]) is withheld
    assert screening.answers["documents_withheld"] == answer


def test_could_leave_and_promise_kept_are_marked_by_no(app, signed_in) -> None:
    questions = {
        "q_commercial_sex": "yes",
        "q_movement_restricted": "no",  # could not go out when she wanted
        "q_deceived_conditions": "yes",  # what she was promised came true
        "q_isolation": "yes",  # could talk to her family
        "q_threats": "not_asked",
    }
    key = fill_all(signed_in, {"indicators": questions})
    screening = stored_screening(app, submit(signed_in, key).headers["Location"])
    assert screening.record["indicators"] == ["commercial_sex", "movement_restricted"]


def test_screening_keeps_every_answer_and_counts_questions_not_asked(app, signed_in) -> None:
    key = fill_all(
        signed_in, {"indicators": answers_marking("commercial_sex", threats="prefers_not_to_say")}
    )
    screening = stored_screening(app, submit(signed_in, key).headers["Location"])
    assert len(screening.answers) == 35
    assert screening.answers["commercial_sex"] == "yes"
    assert screening.answers["threats"] == "prefers_not_to_say"
    assert screening.answers["violence"] == "not_asked"
    assert screening.questions_not_asked == 33
    assert "answers" not in screening.record  # the CONTRACT record is unchanged


def test_a_question_shows_which_answer_records_the_indicator(signed_in) -> None:
    key = start_draft(signed_in)
    signed_in.get("/language/en")
    page = signed_in.get(f"/intake/{key}/indicators").get_data(as_text=True)
    assert "Do you have your documents, like your ID or passport?" in page
    assert "“No” records the indicator: Documents withheld." in page
    assert 'name="q_documents_withheld" value="not_asked" checked' in page
    # the screener's own observation is not declined by the person
    assert 'id="q_exploitation_undisclosed-prefers_not_to_say"' not in page
    assert 'id="q_documents_withheld-prefers_not_to_say"' in page


def test_an_answer_a_question_does_not_offer_is_refused_and_marks_nothing(app, signed_in):
    key = start_draft(signed_in)
    response = post_section(signed_in, key, "indicators", {"q_documents_withheld": "maybe"})
    assert response.status_code == 200
    assert 'id="q_documents_withheld-error"' in response.get_data(as_text=True)
    with get_db(app).session() as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
    assert "documents_withheld" not in draft.data["answers"]


def test_a_draft_saved_as_ticked_indicators_loads_as_answers(app, signed_in) -> None:
    """Drafts saved before the questions had answers hold a list of ticked indicators."""
    key = fill_all(signed_in)
    with get_db(app).transaction() as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
        data = dict(draft.data)
        data.pop("answers")
        data["indicators"] = ["commercial_sex", "documents_withheld"]
        draft.data = data
        session.add(draft)
    page = signed_in.get(f"/intake/{key}/indicators").get_data(as_text=True)
    assert 'name="q_documents_withheld" value="no" checked' in page
    assert 'name="q_commercial_sex" value="yes" checked' in page
    assert 'name="q_threats" value="not_asked" checked' in page
    screening = stored_screening(app, submit(signed_in, key).headers["Location"])
    assert screening.record["indicators"] == ["commercial_sex", "documents_withheld"]
    assert screening.answers["documents_withheld"] == "no"


def test_saving_the_questions_replaces_the_old_ticked_list(app, signed_in) -> None:
    key = start_draft(signed_in)
    with get_db(app).transaction() as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
        draft.data = {"indicators": ["documents_withheld"]}
        session.add(draft)
    post_section(signed_in, key, "indicators", {"q_documents_withheld": "yes"}, save="1")
    with get_db(app).session() as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
    assert "indicators" not in draft.data
    assert draft.data["answers"]["documents_withheld"] == "yes"


def test_review_lists_every_answer_consent_languages_migration_and_notes(signed_in) -> None:
    key = fill_all(
        signed_in,
        {
            "indicators": answers_marking(
                "commercial_sex", documents_withheld="yes", threats="prefers_not_to_say"
            ),
            "person": {"languages": ["mam"], "other_languages": "quc"},
            "legal": {"consent_statistics": "no", "notes": "Prefiere hablar por la tarde."},
        },
    )
    signed_in.get("/language/en")
    page = signed_in.get(f"/intake/{key}/review").get_data(as_text=True)
    row = re.search(r'<tr id="answer-documents_withheld">(.*?)</tr>', page, re.S).group(1)
    assert "Do you have your documents" in row and "<td>Yes</td>" in row and "<td>—</td>" in row
    row = re.search(r'<tr id="answer-commercial_sex">(.*?)</tr>', page, re.S).group(1)
    assert "<strong>Commercial sex</strong>" in row
    row = re.search(r'<tr id="answer-threats">(.*?)</tr>', page, re.S).group(1)
    assert "Prefers not to say" in row
    assert page.count('<tr id="answer-') == 35
    assert "3 of 35 questions asked." in page
    assert re.search(r'id="review-consent-referral">Yes<', page)
    assert re.search(r'id="review-consent-statistics">No<', page)
    assert "Prefiere hablar por la tarde." in page
    assert "Foreign national without regular status" in page  # migration status
    assert "Mam; K&#39;iche&#39;" in page  # languages


def test_a_rescreening_starts_from_the_stored_answers(app, signed_in) -> None:
    key = fill_all(signed_in, {"indicators": answers_marking("commercial_sex", isolation="yes")})
    code = re.search(r"/cases/(RT-[A-Z0-9-]+)", submit(signed_in, key).headers["Location"])[1]
    token = csrf_token(signed_in, f"/cases/{code}")
    started = signed_in.post(f"/cases/{code}/rescreen", data={"csrf_token": token})
    new_key = re.search(r"/intake/([^/]+)/encounter", started.headers["Location"]).group(1)
    page = signed_in.get(f"/intake/{new_key}/indicators").get_data(as_text=True)
    assert 'name="q_isolation" value="yes" checked' in page  # not "not asked"
    assert 'name="q_commercial_sex" value="yes" checked' in page
