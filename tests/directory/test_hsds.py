"""HSDS 3.0 exchange: the export validates against the published schema, and export then
import gives the same directory; an import with a bad record changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import delete, func, select

from referral.db import get_db
from referral.directory.models import DirectoryVersion
from referral.directory.models import Service as ServiceRow
from tests.conftest import ROOT

SCHEMA = ROOT / "tests" / "data" / "hsds-3.0" / "service.json"  # see tests/data/README.md


def export(runner, fmt: str) -> Any:
    result = runner.invoke(args=["directory", "export", "--format", fmt])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def import_file(runner, tmp_path: Path, document: Any, *args: str) -> Any:
    path = tmp_path / "directory.hsds.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return runner.invoke(args=["directory", "import", str(path), *args])


def count(app, model: Any) -> int:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_export_validates_against_the_hsds_schema(runner) -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    services = export(runner, "hsds")
    assert len(services) > 100
    for service in services:
        problems = [e.message for e in validator.iter_errors(service)]
        assert not problems, (service["name"], problems[:3])
    statuses = {s["status"] for s in services}
    assert statuses <= {"active", "inactive", "defunct", "temporarily closed"}


def test_eligibility_travels_as_attributes(runner) -> None:
    services = export(runner, "hsds")
    hotline = next(
        s
        for s in services
        if any(
            a["taxonomy_term"]["code"] == "ruta_id" and a["value"] == "svc-hotline-legal"
            for a in s["attributes"]
        )
    )
    terms = {(a["taxonomy_term"]["code"], a["value"]) for a in hotline["attributes"]}
    assert ("need", "legal_aid") in terms
    assert {("sex", "female"), ("sex", "male"), ("sex", "intersex")} <= terms
    assert ("accepts_foreign", "true") in terms
    assert [x["code"] for x in hotline["languages"]] == ["es", "en"]
    assert [a["name"] for a in hotline["service_areas"]] == ["national"]


def test_export_then_import_gives_the_same_directory(app, runner, tmp_path) -> None:
    original = export(runner, "json")
    hsds = export(runner, "hsds")
    with app.app_context(), get_db(app).transaction() as session:
        session.exec(delete(ServiceRow))  # type: ignore[call-overload]
    assert count(app, ServiceRow) == 0
    result = import_file(runner, tmp_path, hsds)
    assert result.exit_code == 0, result.output
    assert f"{len(original)} added" in result.output
    assert export(runner, "json") == original
    # Importing the same file again changes nothing and makes no new directory version.
    versions = count(app, DirectoryVersion)
    again = import_file(runner, tmp_path, hsds)
    assert f"0 added, 0 updated, {len(original)} unchanged" in again.output
    assert count(app, DirectoryVersion) == versions


def test_import_updates_by_id_and_leaves_the_rest_unless_replace(app, runner, tmp_path) -> None:
    hsds = export(runner, "hsds")
    total = len(hsds)
    first = hsds[0]
    for attribute in first["attributes"]:
        if attribute["taxonomy_term"]["code"] == "accepts_companions":
            attribute["value"] = "false" if attribute["value"] == "true" else "true"
    result = import_file(runner, tmp_path, [first])
    assert result.exit_code == 0, result.output
    assert "0 added, 1 updated, 0 unchanged, 0 removed" in result.output
    assert count(app, ServiceRow) == total
    replaced = import_file(runner, tmp_path, [first], "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert f"{total - 1} removed" in replaced.output
    assert count(app, ServiceRow) == 1


def test_an_import_with_bad_records_changes_nothing_and_reports_every_one(
    app, runner, tmp_path
) -> None:
    before = export(runner, "json")
    hsds = export(runner, "hsds")
    hsds[0]["status"] = "open"  # not an HSDS status
    hsds[1]["attributes"] = [
        a for a in hsds[1]["attributes"] if a["taxonomy_term"]["code"] != "need"
    ]
    hsds[2]["minimum_age"] = "twelve"
    hsds[3]["name"] = "   "
    template = hsds[4]["attributes"][0]
    hsds[4]["attributes"].append(
        {**template, "value": "-3",
         "taxonomy_term": {**template["taxonomy_term"], "code": "capacity_available"}}
    )  # fmt: skip
    hsds[5]["attributes"].append({**hsds[5]["attributes"][0]})  # ruta_id twice
    result = import_file(runner, tmp_path, [*hsds, "not a service"])
    assert result.exit_code == 2
    errors = json.loads(result.output)["errors"]
    ids = [before[i]["id"] for i in range(5)]
    assert set(ids) <= set(errors), errors
    assert "status" in errors[ids[0]]
    assert "attributes.need" in errors[ids[1]]
    assert "minimum_age" in errors[ids[2]]
    assert "name.es" in errors[ids[3]]
    assert "capacity_available" in errors[ids[4]]
    assert f"services[{len(hsds)}]" in errors
    assert export(runner, "json") == before


@pytest.mark.parametrize("text", ["{", '{"services": 3}'])
def test_a_broken_file_is_refused(runner, tmp_path, text) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 2
    assert "errors" in json.loads(result.output)


def attribute_values(service: dict[str, Any], code: str) -> list[str]:
    return [a["value"] for a in service["attributes"] if a["taxonomy_term"]["code"] == code]


def test_nationalities_and_caveats_travel_and_come_back(app, runner, tmp_path) -> None:
    original = {e["id"]: e for e in export(runner, "json")}
    hsds = {attribute_values(s, "ruta_id")[0]: s for s in export(runner, "hsds")}
    assert attribute_values(hsds["svc-sre-consular-protection"], "nationality") == ["MX"]
    assert attribute_values(hsds["svc-femdo"], "nationality") == []
    shelter = "svc-cmx-trafficking-shelter-federal"
    caveats = original[shelter]["caveats"]
    assert len(caveats) >= 2
    assert attribute_values(hsds[shelter], "caveat_source") == [c["source"] for c in caveats]
    assert attribute_values(hsds[shelter], "caveat_en") == [c["en"] for c in caveats]
    with app.app_context(), get_db(app).transaction() as session:
        session.exec(delete(ServiceRow))  # type: ignore[call-overload]
    result = import_file(runner, tmp_path, list(hsds.values()))
    assert result.exit_code == 0, result.output
    back = {e["id"]: e for e in export(runner, "json")}
    assert back[shelter]["caveats"] == caveats
    assert back["svc-sre-consular-protection"]["nationalities"] == ["MX"]
    assert "nationalities" not in back["svc-femdo"]


def test_a_caveat_without_its_source_is_refused_on_import(runner, tmp_path) -> None:
    shelter = next(
        s
        for s in export(runner, "hsds")
        if attribute_values(s, "ruta_id") == ["svc-cmx-trafficking-shelter-federal"]
    )
    first = next(a for a in shelter["attributes"] if a["taxonomy_term"]["code"] == "caveat_source")
    shelter["attributes"].remove(first)
    result = import_file(runner, tmp_path, [shelter])
    assert result.exit_code == 2
    assert "caveat_es, caveat_en and caveat_source" in result.output
