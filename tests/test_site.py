from __future__ import annotations

import re

from referral.security import CONTENT_SECURITY_POLICY


def test_home_says_what_the_app_is_in_both_languages(client) -> None:
    spanish = client.get("/").get_data(as_text=True)
    assert "Detección" in spanish or "detección" in spanish
    client.get("/language/en")
    english = client.get("/").get_data(as_text=True)
    assert "screening" in english.lower()


def test_layout_is_accessible(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in page
    assert '<main id="main"' in page
    assert "<header" in page and "<footer" in page and "<nav" in page
    assert 'name="viewport"' in page


def test_no_inline_script_and_no_external_asset(client) -> None:
    for path in ("/", "/sources/report"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert not re.search(r'(src|href)="(https?:)?//', page), path
        assert "style=" not in page


def test_security_headers_on_every_page(client) -> None:
    for path in ("/", "/sources/report", "/no-such-page"):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_static_assets_are_served(client) -> None:
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/static/js/app.js").status_code == 200
