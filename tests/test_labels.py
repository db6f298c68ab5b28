"""What every template gets (referral.labels), the one language list and the one timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from referral.directory import catalogue as catalogue_module


@pytest.fixture
def catalogue_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the catalogue lookups of the requests made after it."""
    calls: list[int] = []
    real = catalogue_module.CatalogueCache.get

    def counted(self: Any, session: Any) -> Any:
        calls.append(1)
        return real(self, session)

    monkeypatch.setattr(catalogue_module.CatalogueCache, "get", counted)
    return calls


def test_a_page_that_shows_no_code_does_not_load_the_catalogue(
    client: Any, catalogue_loads: list[int]
) -> None:
    for path in ("/", "/sources/report", "/sign-in"):
        assert client.get(path).status_code == 200
    assert catalogue_loads == []


def test_a_page_that_labels_codes_loads_the_catalogue_once(
    app: Flask, client: Any, make_user: Any, login: Any, catalogue_loads: list[int]
) -> None:
    login(client, make_user("supervisor", language="en"))
    catalogue_loads.clear()
    page = client.get("/directory").get_data(as_text=True)
    assert catalogue_loads == [1]
    assert "Shelter" in page  # a need's label, in the reader's language


def test_reason_label_reads_whichever_reason_list_holds_the_code(app: Flask) -> None:
    from referral.db import get_db
    from referral.labels import REASON_LISTS, reason_label

    with app.app_context(), get_db(app).transaction(write=False) as session:
        catalogue = catalogue_module.current_catalogue(session)
        for list_name in REASON_LISTS:
            code = catalogue.seeds.codes(list_name)[-1]
            for lang in ("es", "en"):
                expected = catalogue.label(list_name, code, lang)
                assert expected != code
                assert reason_label(catalogue, code, lang) == expected
        assert reason_label(catalogue, "not_a_reason", "en") == "not_a_reason"


def test_the_languages_offered_come_from_config(app: Flask, client: Any) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'hreflang="en">English</a>' in page and ">Español</span>" in page
    app.config["LANGUAGES"] = ("es",)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es">' in page and "English" not in page
    assert client.get("/language/en").status_code == 404


def test_days_and_years_are_those_of_the_configured_timezone(app: Flask) -> None:
    from referral.stats.operations import year_bounds
    from referral.supervision.queries import day_start

    with app.app_context():
        assert year_bounds(2024)[0] == datetime(2024, 1, 1, 6, tzinfo=UTC)  # Mexico City
        assert day_start(datetime(2024, 5, 1).date()) == datetime(2024, 5, 1, 6, tzinfo=UTC)
        app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
        assert year_bounds(2024)[0] == datetime(2024, 1, 1, tzinfo=UTC)
        assert day_start(datetime(2024, 5, 1).date()) == datetime(2024, 5, 1, tzinfo=UTC)
