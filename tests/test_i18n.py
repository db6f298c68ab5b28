"""Language choice and the translation gates: the POT is current, Spanish is complete."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from referral import ConfigurationError
from referral.i18n import TRANSLATIONS_DIR, check_catalogs
from tests.conftest import ROOT

TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w*)\}|%[sdif]")


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', page)
    assert match, "no <html lang>"
    return match.group(1)


def test_spanish_is_the_default(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert html_lang(page) == "es"
    assert "Ruta ayuda" in page


def test_accept_language_english(client) -> None:
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert html_lang(page) == "en"
    assert "Ruta helps" in page


def test_switch_changes_language_and_keeps_it(client) -> None:
    response = client.get("/language/en?next=/sources/report")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sources/report"
    page = client.get("/", headers={"Accept-Language": "es-MX"}).get_data(as_text=True)
    assert html_lang(page) == "en"
    client.get("/language/es")
    assert html_lang(client.get("/").get_data(as_text=True)) == "es"


def test_switch_never_redirects_off_site(client) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.get("/language/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_unknown_language_is_not_found(client) -> None:
    assert client.get("/language/fr").status_code == 404


def test_dates_follow_the_locale(client) -> None:
    spanish = client.get("/").get_data(as_text=True)
    client.get("/language/en")
    english = client.get("/").get_data(as_text=True)
    assert re.search(r"Hoy es \d+ de \w+ de \d{4}", spanish)
    assert re.search(r"Today is \w+ \d+, \d{4}", english)


def extract_pot(target: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "lazy_gettext",
            "-k",
            "_l",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(target),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def msgids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {
            str(m.id) if isinstance(m.id, str) else str(m.id[0]) for m in read_po(handle) if m.id
        }


def test_pot_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    extract_pot(fresh)
    assert msgids(fresh) == msgids(TRANSLATIONS / "messages.pot"), (
        "translations/messages.pot is out of date: run the extract and update commands in README"
    )


def catalog(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def test_catalogs_hold_every_message() -> None:
    pot = msgids(TRANSLATIONS / "messages.pot")
    for language in ("es", "en"):
        assert {
            str(m.id) if isinstance(m.id, str) else str(m.id[0]) for m in catalog(language) if m.id
        } >= pot, language


def test_spanish_is_complete_and_not_fuzzy() -> None:
    missing, fuzzy = [], []
    for message in catalog("es"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert not missing, f"untranslated: {missing[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


# Mexico's protocols name each thing one way: detección (screening), primer contacto
# (screener), supervisión (supervisor), canalización (referral). These words are the ones
# they replace.
OFF_PROTOCOL = re.compile(r"tamiz|entrevist|derivaci|remisi[oó]n", re.IGNORECASE)


def test_spanish_uses_the_words_of_mexicos_protocols() -> None:
    off = []
    for message in catalog("es"):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and any(OFF_PROTOCOL.search(s or "") for s in strings):
            off.append(message.id)
    seeds = ROOT / "referral" / "seeds" / "data"
    off += [p.name for p in sorted(seeds.glob("*.yaml")) if OFF_PROTOCOL.search(p.read_text())]
    assert not off, f"off the protocol vocabulary: {off[:10]}"


def test_placeholders_match() -> None:
    for language in ("es", "en"):
        for message in catalog(language):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            # A plural's first form answers the singular msgid, the others the plural one
            # (a singular may leave the number out: "the open referral").
            for index, string in enumerate(strings):
                expected = sorted(PLACEHOLDER.findall(ids[min(index, len(ids) - 1)]))
                if string:
                    assert sorted(PLACEHOLDER.findall(string)) == expected, (language, message.id)


def test_catalogs_live_in_the_package_and_translations_links_there() -> None:
    assert TRANSLATIONS_DIR == ROOT / "referral" / "translations"
    assert TRANSLATIONS.resolve() == TRANSLATIONS_DIR.resolve()
    check_catalogs()  # the editable install compiled them


def test_missing_catalogs_stop_the_app_with_the_command_that_builds_them(tmp_path: Path) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    with pytest.raises(ConfigurationError) as caught:
        check_catalogs(copy)
    message = str(caught.value)
    assert "messages.mo is missing" in message
    assert "pybabel compile -d translations" in message and "pip install -e ." in message


def test_a_catalog_edited_after_compiling_stops_the_app(tmp_path: Path) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, copy)
    check_catalogs(copy)
    po = copy / "es" / "LC_MESSAGES" / "messages.po"
    mo_time = po.with_suffix(".mo").stat().st_mtime
    os.utime(po, (mo_time + 5, mo_time + 5))
    with pytest.raises(ConfigurationError, match=r"messages\.po is newer than its messages\.mo"):
        check_catalogs(copy)


def test_an_installed_package_needs_only_the_compiled_catalogs(tmp_path: Path) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, copy, ignore=shutil.ignore_patterns("*.po*", "*.cfg"))
    check_catalogs(copy)
