"""The CLI, the API and the rules core give the same answer for the same record."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from referral.db import get_db
from referral.directory.catalogue import current_catalogue
from referral.rules import route_case, validate_record
from tests.factories import GIRL_FROM_HONDURAS, MAN_IN_GUERRERO

RESULT_KEYS = {"screening", "needs", "options", "excluded", "gaps", "alerts", "rules_version"}


def core_result(app, record: dict, lang: str = "es") -> dict:
    with app.app_context(), Session(get_db(app).reader) as session:
        catalogue = current_catalogue(session)
        return route_case(validate_record(record, catalogue.codes), catalogue).to_json(lang)


@pytest.mark.parametrize("record", [MAN_IN_GUERRERO, GIRL_FROM_HONDURAS])
def test_cli_api_and_core_agree(app, client, runner, record, api_headers) -> None:
    core = core_result(app, record)
    cli = runner.invoke(args=["route", "-"], input=json.dumps(record))
    assert cli.exit_code == 0, cli.output
    api = client.post("/api/v1/route?lang=es", json=record, headers=api_headers)
    assert api.status_code == 200, api.get_data(as_text=True)
    assert json.loads(cli.output) == core == api.get_json()
    assert set(core) == RESULT_KEYS


def test_man_in_guerrero_has_a_shelter_gap_for_sex_and_coverage(app) -> None:
    result = core_result(app, MAN_IN_GUERRERO)
    assert result["screening"]["status"] == "likely"
    assert "forced_labor" in result["screening"]["forms"]
    shelter_gap = next(g for g in result["gaps"] if g["need"] == "shelter")
    # v4: the reasons of the shelters in reach (national or in Guerrero); "coverage" only
    # when none is in reach, never beside another reason
    in_reach = [r for r in result["excluded"]["shelter"].values() if "coverage" not in r]
    expected = sorted({x for r in in_reach for x in r}) if in_reach else ["coverage"]
    assert shelter_gap["reasons"] == expected
    assert result["options"]["shelter"] == []
    assert {n["need"] for n in result["needs"] if n["auto"]} >= {
        "victim_registration",
        "labor_rights",
    }


def test_presumed_minor_gets_child_protection_and_alerts(app) -> None:
    result = core_result(app, GIRL_FROM_HONDURAS, lang="en")
    assert result["screening"]["minor"] is True
    assert result["screening"]["status"] == "likely"
    assert {"need": "child_protection", "auto": True} in result["needs"]
    codes = [a["code"] for a in result["alerts"]]
    for expected in (
        "presumed_minor",
        "child_protection_notice",
        "no_detention",
        "humanitarian_visa",
        "non_refoulement",
        "federal_jurisdiction",
    ):
        assert expected in codes
    assert all(a["text"] and a["source"] for a in result["alerts"])


def test_cli_json_lines_gives_one_compact_result_a_line_in_order(app, runner) -> None:
    lines = "\n".join(json.dumps(r) for r in (MAN_IN_GUERRERO, GIRL_FROM_HONDURAS, MAN_IN_GUERRERO))
    result = runner.invoke(args=["route", "-", "--lang", "en"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    outputs = result.output.strip().split("\n")
    assert len(outputs) == 3
    assert json.loads(outputs[0]) == core_result(app, MAN_IN_GUERRERO, "en")
    assert json.loads(outputs[1]) == core_result(app, GIRL_FROM_HONDURAS, "en")
    assert ": " not in outputs[0]


def test_cli_bad_record_exits_2_with_every_error(runner) -> None:
    broken = dict(MAN_IN_GUERRERO, age="34", sex="man", surprise=1)
    result = runner.invoke(args=["route", "-", "--lang", "en"], input=json.dumps(broken))
    assert result.exit_code == 2
    errors = json.loads(result.output)["errors"]
    assert {"age", "sex", "surprise"} <= set(errors)
    assert "Traceback" not in result.output


def test_cli_json_lines_names_the_broken_lines_and_writes_no_result(runner) -> None:
    good = json.dumps(MAN_IN_GUERRERO)
    bad = json.dumps(dict(MAN_IN_GUERRERO, companions=[{"age": 19, "sex": "male"}]))
    result = runner.invoke(args=["route", "-"], input=f"{good}\n{bad}\nnot json\n")
    assert result.exit_code == 2
    errors = json.loads(result.output)["errors"]
    assert set(errors) == {"line 2", "line 3"} or set(errors) == {"line 3"}
    assert result.output.count("\n") == 1


def test_cli_empty_and_non_object_input(runner) -> None:
    for text in ("", "   \n", "[1, 2]", "42"):
        result = runner.invoke(args=["route", "-"], input=text)
        assert result.exit_code == 2, text
        assert "" in json.loads(result.output)["errors"]


def test_api_errors_are_422_in_the_request_language(client, api_headers) -> None:
    broken = dict(MAN_IN_GUERRERO, age=3.5)
    english = client.post("/api/v1/route?lang=en", json=broken, headers=api_headers)
    spanish = client.post(
        "/api/v1/route", json=broken, headers={**api_headers, "Accept-Language": "es-MX"}
    )
    assert english.status_code == spanish.status_code == 422
    assert english.get_json()["errors"]["age"] != spanish.get_json()["errors"]["age"]
    garbage = client.post(
        "/api/v1/route", data="{", content_type="application/json", headers=api_headers
    )
    assert garbage.status_code == 422 and "" in garbage.get_json()["errors"]


def test_api_codes_in_both_languages(client, api_headers) -> None:
    spanish = client.get("/api/v1/codes?lang=es", headers=api_headers).get_json()
    english = client.get("/api/v1/codes?lang=en", headers=api_headers).get_json()
    assert set(spanish) == set(english)
    needs_es = {c["code"]: c["label"] for c in spanish["needs"]}
    needs_en = {c["code"]: c["label"] for c in english["needs"]}
    assert set(needs_es) >= {"shelter", "child_protection", "interpretation"}
    assert needs_es["shelter"] != needs_en["shelter"]


def test_directory_export_is_the_contract_shape_sorted_by_id(runner, seed_set) -> None:
    result = runner.invoke(args=["directory", "export", "--format", "json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert [e["id"] for e in entries] == sorted(s.id for s in seed_set.services)
    assert entries == [s.to_contract_dict() for s in sorted(seed_set.services, key=lambda s: s.id)]
    required = {
        "id",
        "name",
        "need",
        "status",
        "operator",
        "coverage",
        "min_age",
        "max_age",
        "sexes",
        "male_max_age",
        "accepts_foreign",
        "languages",
        "capacity_available",
        "requires_complaint",
        "requires_victim_status",
        "accepts_companions",
        "companion_max_age_male",
        "specializations",
        "tags",
        "source",
    }
    assert all(required <= set(e) for e in entries)
