"""The drafts a screener can resume: told apart without identifying anyone; discarding one
is asked first on its own page."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from referral.casework.models import Draft
from referral.db import get_db
from tests.conftest import csrf_token
from tests.factories import SECTIONS, post_section, start_draft


@pytest.fixture
def signed_in(client, make_user, login):
    login(client, make_user("screener", ("MX-CHP",)))
    return client


def drafts_of(app) -> list[Draft]:
    with get_db(app).session() as session:
        return list(session.exec(select(Draft)).all())


def test_each_draft_shows_a_summary_without_notes(app, signed_in) -> None:
    key = start_draft(signed_in)
    post_section(signed_in, key, "encounter", SECTIONS["encounter"])
    post_section(signed_in, key, "person", SECTIONS["person"])
    post_section(signed_in, key, "indicators", {}, save="1")
    post_section(signed_in, key, "legal", {"notes": "Se llama Rosa"}, save="1")
    empty = start_draft(signed_in)
    signed_in.get("/language/en")
    page = signed_in.get("/intake").get_data(as_text=True)
    cards = re.findall(r'<li class="card" id="draft-\d+">(.*?)</li>', page, re.S)
    assert len(cards) == 2
    newest, filled = cards  # most recently saved first
    assert empty in newest and key in filled
    assert "Immigration detention" in filled
    assert "Chiapas" in filled
    assert re.search(r"15 years\s*·\s*girl", filled)
    assert "5 of 6: Legal status and consent" in filled
    assert "Started" in filled and "Last saved" in filled
    assert "Not recorded yet" in newest and "1 of 6: Encounter" in newest
    assert "Rosa" not in page  # notes never shown in the list


def test_discarding_asks_on_its_own_page_first(app, signed_in) -> None:
    key = start_draft(signed_in)
    post_section(signed_in, key, "encounter", SECTIONS["encounter"], save="1")
    signed_in.get("/language/en")
    listing = signed_in.get("/intake").get_data(as_text=True)
    assert f'href="/intake/{key}/discard"' in listing
    assert f'action="/intake/{key}/discard"' not in listing  # no one-click discard
    page = signed_in.get(f"/intake/{key}/discard")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Discard this draft?" in text and "Chiapas" in text
    assert len(drafts_of(app)) == 1  # looking at the question deletes nothing
    token = csrf_token(signed_in, f"/intake/{key}/discard")
    done = signed_in.post(f"/intake/{key}/discard", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/intake")
    assert drafts_of(app) == []


def test_someone_elses_draft_cannot_be_asked_about(app, client, make_user, login) -> None:
    login(client, make_user("screener", ("MX-CHP",)))
    key = start_draft(client)
    other = app.test_client()
    login(other, make_user("screener", ("MX-CHP",)))
    assert other.get(f"/intake/{key}/discard").status_code == 404
