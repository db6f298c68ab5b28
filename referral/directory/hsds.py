"""The directory as Open Referral HSDS 3.0 services, and back (docs/hsds.md).

HSDS carries what it has a field for (name, status, ages, languages, service areas,
application process, required documents, schedule, assured date); every eligibility
constraint of CONTRACT 2.3 and the rest of a CONTRACT 4 entry travel as HSDS
``attributes`` whose taxonomy terms are Ruta's, documented in docs/hsds.md. HSDS ids are
UUIDs derived from Ruta's ids (uuid5), so an export is stable and re-importable.

Import is all or nothing: every record is read and checked (HSDS shape, then the rules
core's ``parse_services``), every problem is reported, and nothing changes if any record
is bad.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from referral.audit.operations import record_audit
from referral.directory.models import Service as ServiceRow
from referral.directory.operations import (
    RETIRED_STATUS,
    check_entries,
    directory_confirmed,
    new_version,
    referenced_services,
    service_row,
    update_service_row,
)
from referral.rules import RuleSeeds, SeedError, SeedErrors

NAMESPACE = uuid.UUID("6f1c3a52-4e0b-5d2a-9b8e-2f7d0c1e9a44")
TAXONOMY = "Ruta service eligibility taxonomy (docs/hsds.md)"
TAXONOMY_ID = str(uuid.uuid5(NAMESPACE, "taxonomy"))

# term code -> (link_type, description). Repeated terms (sex, specialization, tag) carry one
# value each; integer terms are absent when the value is null (no limit, or not known).
TERMS: dict[str, tuple[str, str]] = {
    "ruta_id": ("identifier", "The service's id in Ruta (CONTRACT section 4)."),
    "need": ("eligibility", "The one need the service meets (CONTRACT 3.5 code)."),
    "operator": ("eligibility", "government, ngo or international."),
    "sex": ("eligibility", "A sex the service accepts: female, male or intersex (one each)."),
    "male_max_age": ("eligibility", "Males are accepted only up to this age."),
    "accepts_foreign": ("eligibility", "true or false: takes foreign nationals."),
    "capacity_available": ("eligibility", "Free places now; absent when not known."),
    "requires_complaint": ("eligibility", "true or false: a complaint must be filed first."),
    "requires_victim_status": ("eligibility", "true or false: official victim status first."),
    "accepts_companions": ("eligibility", "true or false: takes the children in one's care."),
    "companion_max_age_male": ("eligibility", "Boys in one's care accepted up to this age."),
    "specialization": ("eligibility", "A form of exploitation it specializes in (CONTRACT 3.6)."),
    "tag": ("detail", "A Ruta service tag (trafficking_specialized, migrant_shelter, ...)."),
    "confidential": ("detail", "true: the location is shown to administrators only."),
    "source": ("detail", "The report paragraph or law article the entry rests on."),
    "how_to_refer_en": ("detail", "How to refer, in English (Spanish: application_process)."),
    "contact_es": ("detail", "Contact, in Spanish: a line, office or web form of the service."),
    "contact_en": ("detail", "Contact, in English."),
    "hours_en": ("detail", "Hours, in English (Spanish: schedules[0].description)."),
    "text_en": ("detail", "The English text of a required document."),
    "nationality": (
        "eligibility",
        "A nationality the service serves, only (ISO 3166-1 alpha-2, one each); "
        "absent: every nationality.",
    ),
    "caveat_es": ("detail", "A caveat for the screener, in Spanish (one each, in order)."),
    "caveat_en": ("detail", "The English text of the caveat at the same position."),
    "caveat_source": ("detail", "The source of the caveat at the same position."),
}
CAVEAT_TERMS = ("caveat_es", "caveat_en", "caveat_source")
INT_TERMS = ("male_max_age", "capacity_available", "companion_max_age_male")
BOOL_TERMS = ("accepts_foreign", "requires_complaint", "requires_victim_status",
              "accepts_companions")  # fmt: skip
LIST_TERMS = {"sex": "sexes", "specialization": "specializations", "tag": "tags"}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _term(code: str) -> dict[str, Any]:
    return {
        "id": _uuid("term", code),
        "code": code,
        "name": code,
        "description": TERMS[code][1],
        "taxonomy": TAXONOMY,
        "taxonomy_id": TAXONOMY_ID,
    }


def _attribute(link_id: str, code: str, value: str, index: int = 0) -> dict[str, Any]:
    return {
        "id": _uuid(link_id, "attribute", code, str(index)),
        "link_id": link_id,
        "link_type": TERMS[code][0],
        "link_entity": "service",
        "taxonomy_term_id": _uuid("term", code),
        "value": value,
        "taxonomy_term": _term(code),
    }


PLACE_UNIT = {"id": str(uuid.uuid5(NAMESPACE, "unit/place")), "name": "place"}


def to_hsds(entry: dict[str, Any], capacity: dict[str, Any] | None = None) -> dict[str, Any]:
    """One CONTRACT 4 entry as an HSDS 3.0 service; with ``capacity`` (available, maximum,
    updated) also HSDS 3.1's ``capacities``, when free places are known."""
    sid = entry["id"]
    hid = _uuid("service", sid)
    attributes: list[tuple[str, str]] = [
        ("ruta_id", sid),
        ("need", entry["need"]),
        ("operator", entry["operator"]),
        *(("sex", s) for s in entry["sexes"]),
        *((name, str(entry[name])) for name in INT_TERMS if entry[name] is not None),
        *((name, "true" if entry[name] else "false") for name in BOOL_TERMS),
        *(("specialization", f) for f in entry["specializations"]),
        *(("tag", t) for t in entry["tags"]),
        ("source", entry["source"]),
    ]
    if entry.get("confidential") is not None:
        attributes.append(("confidential", "true" if entry["confidential"] else "false"))
    if entry.get("how_to_refer"):
        attributes.append(("how_to_refer_en", entry["how_to_refer"]["en"]))
    if entry.get("contact"):
        attributes += [
            ("contact_es", entry["contact"]["es"]),
            ("contact_en", entry["contact"]["en"]),
        ]
    if entry.get("hours"):
        attributes.append(("hours_en", entry["hours"]["en"]))
    attributes += [("nationality", code) for code in entry.get("nationalities") or ()]
    for caveat in entry.get("caveats") or ():
        attributes += [
            ("caveat_es", caveat["es"]),
            ("caveat_en", caveat["en"]),
            ("caveat_source", caveat["source"]),
        ]
    service: dict[str, Any] = {
        "id": hid,
        "name": entry["name"]["es"],
        "alternate_name": entry["name"]["en"],
        "status": entry["status"].replace("_", " "),
    }
    if entry["min_age"] is not None:
        service["minimum_age"] = entry["min_age"]
    if entry["max_age"] is not None:
        service["maximum_age"] = entry["max_age"]
    if entry.get("how_to_refer"):
        service["application_process"] = entry["how_to_refer"]["es"]
    if entry.get("last_verified"):
        service["assured_date"] = entry["last_verified"]
    service["languages"] = [
        {"id": _uuid(hid, "language", code), "service_id": hid, "code": code}
        for code in entry["languages"]
    ]
    service["service_areas"] = [
        {"id": _uuid(hid, "area", code), "service_id": hid, "name": code}
        for code in entry["coverage"]
    ]
    if entry.get("hours"):
        service["schedules"] = [
            {"id": _uuid(hid, "schedule"), "service_id": hid, "description": entry["hours"]["es"]}
        ]
    if entry.get("required_documents") is not None:
        service["required_documents"] = [
            {
                "id": _uuid(hid, "document", str(i)),
                "service_id": hid,
                "document": doc["es"],
                "attributes": [_attribute(_uuid(hid, "document", str(i)), "text_en", doc["en"])],
            }
            for i, doc in enumerate(entry["required_documents"])
        ]
    service["attributes"] = [
        _attribute(hid, code, value, i) for i, (code, value) in enumerate(attributes)
    ]
    if capacity is not None and capacity["available"] is not None:
        facts: dict[str, Any] = {
            "id": _uuid(hid, "capacity"),
            "service_id": hid,
            "unit": PLACE_UNIT,
            "available": capacity["available"],
            "updated": capacity["updated"].isoformat(timespec="milliseconds"),
        }
        if capacity["maximum"] is not None:
            facts["maximum"] = capacity["maximum"]
        service["capacities"] = [facts]
    return service


def export_hsds(
    entries: list[dict[str, Any]], capacities: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    known = capacities or {}
    return [to_hsds(e, known.get(e["id"])) for e in sorted(entries, key=lambda e: e["id"])]


class _Reader:
    """Reads one HSDS service back into a CONTRACT 4 entry, collecting problems."""

    def __init__(self, item: Any, label: str, errors: list[SeedError]) -> None:
        self.item = item
        self.label = label
        self.errors = errors

    def fail(self, where: str, message: str) -> None:
        self.errors.append(SeedError("hsds", self.label, where, message))

    def attributes(self, holder: dict[str, Any], where: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        raw = holder.get("attributes") or []
        if not isinstance(raw, list):
            self.fail(where, "must be a list")
            return found
        for i, attribute in enumerate(raw):
            term = attribute.get("taxonomy_term") if isinstance(attribute, dict) else None
            code = term.get("code") if isinstance(term, dict) else None
            value = attribute.get("value") if isinstance(attribute, dict) else None
            if code not in TERMS:
                continue  # another taxonomy's attribute: not ours to read
            if not isinstance(value, str):
                self.fail(f"{where}[{i}].value", "must be a string")
                continue
            found.setdefault(code, []).append(value)
        return found

    def one(self, found: dict[str, list[str]], code: str, required: bool = True) -> str | None:
        values = found.get(code, [])
        if len(values) > 1:
            self.fail(f"attributes.{code}", "is given more than once")
        if not values:
            if required:
                self.fail(f"attributes.{code}", "missing attribute")
            return None
        return values[0]

    def integer(self, value: Any, where: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        elif isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
            return int(value)
        self.fail(where, "must be a whole number")
        return None

    def boolean(self, value: str | None, where: str) -> bool | None:
        if value in ("true", "false"):
            return value == "true"
        if value is not None:
            self.fail(where, "must be 'true' or 'false'")
        return None

    def entry(self) -> dict[str, Any] | None:
        item = self.item
        if not isinstance(item, dict):
            self.fail("", "must be an HSDS service object")
            return None
        before = len(self.errors)
        found = self.attributes(item, "attributes")
        sid = self.one(found, "ruta_id")
        if sid:
            self.label = sid
            for error in self.errors[before:]:
                error.entry = sid
        status = item.get("status")
        if not isinstance(status, str):
            self.fail("status", "missing status")
        entry: dict[str, Any] = {
            "id": sid,
            "name": {"es": item.get("name"), "en": item.get("alternate_name")},
            "need": self.one(found, "need"),
            "status": status.replace(" ", "_") if isinstance(status, str) else status,
            "operator": self.one(found, "operator"),
            "coverage": [a.get("name") for a in item.get("service_areas") or []
                         if isinstance(a, dict)],
            "min_age": self.integer(item.get("minimum_age"), "minimum_age"),
            "max_age": self.integer(item.get("maximum_age"), "maximum_age"),
            "sexes": found.get("sex", []),
            "accepts_foreign": None,
            "languages": [x.get("code") for x in item.get("languages") or []
                          if isinstance(x, dict)],
        }  # fmt: skip
        for code in INT_TERMS:
            entry[code] = self.integer(self.one(found, code, required=False), f"attributes.{code}")
        for code in BOOL_TERMS:
            entry[code] = self.boolean(self.one(found, code), f"attributes.{code}")
        entry["specializations"] = found.get("specialization", [])
        entry["tags"] = found.get("tag", [])
        entry["source"] = self.one(found, "source")
        if item.get("application_process") is not None or "how_to_refer_en" in found:
            entry["how_to_refer"] = {
                "es": item.get("application_process"),
                "en": self.one(found, "how_to_refer_en"),
            }
        if "contact_es" in found or "contact_en" in found:
            entry["contact"] = {"es": self.one(found, "contact_es"),
                                "en": self.one(found, "contact_en")}  # fmt: skip
        schedules = item.get("schedules") or []
        if schedules or "hours_en" in found:
            first = schedules[0] if schedules and isinstance(schedules[0], dict) else {}
            entry["hours"] = {"es": first.get("description"), "en": self.one(found, "hours_en")}
        if "required_documents" in item:
            documents = []
            for i, doc in enumerate(item.get("required_documents") or []):
                if not isinstance(doc, dict):
                    self.fail(f"required_documents[{i}]", "must be an object")
                    continue
                english = self.attributes(doc, f"required_documents[{i}].attributes")
                texts = english.get("text_en") or []
                documents.append({"es": doc.get("document"), "en": texts[0] if texts else None})
            entry["required_documents"] = documents
        if item.get("assured_date") is not None:
            entry["last_verified"] = item.get("assured_date")
        confidential = self.boolean(self.one(found, "confidential", required=False),
                                    "attributes.confidential")  # fmt: skip
        if confidential is not None:
            entry["confidential"] = confidential
        if "nationality" in found:
            entry["nationalities"] = found["nationality"]
        caveat_texts = [found.get(code, []) for code in CAVEAT_TERMS]
        if any(caveat_texts):
            if len({len(t) for t in caveat_texts}) != 1:
                self.fail(
                    "attributes.caveat", "each caveat needs caveat_es, caveat_en and caveat_source"
                )
            else:
                entry["caveats"] = [
                    {"es": es, "en": en, "source": source}
                    for es, en, source in zip(*caveat_texts, strict=True)
                ]
        return entry if len(self.errors) == before else None


def read_hsds(document: Any, rules: RuleSeeds, states: list[str]) -> list[dict[str, Any]]:
    """HSDS services -> checked CONTRACT 4 entries, or SeedErrors listing every bad record."""
    if isinstance(document, dict) and isinstance(document.get("services"), list):
        document = document["services"]
    if not isinstance(document, list):
        raise SeedErrors([SeedError("hsds", "", "", "must be a JSON array of HSDS services")])
    errors: list[SeedError] = []
    entries: list[dict[str, Any]] = []
    for index, item in enumerate(document):
        entry = _Reader(item, f"services[{index}]", errors).entry()
        if entry is not None:
            entries.append(entry)
    try:
        services = check_entries(entries, rules, states, file="hsds")
    except SeedErrors as exc:
        errors.extend(exc.errors)
        services = []
    if errors:
        raise SeedErrors(errors)
    return [s.to_contract_dict() for s in services]


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    directory_version: int | None = None


def import_entries(
    session: Session, entries: list[dict[str, Any]], *, replace: bool, actor_id: int | None
) -> ImportReport:
    """Write checked entries by id (flush only). With ``replace``, services not in the file
    are deleted, or retired when a referral names them."""
    report = ImportReport()
    rows = {row.id: row for row in session.exec(select(ServiceRow)).all()}
    for entry in entries:
        row = rows.get(entry["id"])
        if row is None:
            row = service_row(entry, seed_digest=None)
            row.edited = True
            session.add(row)
            report.added.append(entry["id"])
        elif row.entry != entry:
            update_service_row(row, entry, seed_digest=None)
            row.edited = True
            session.add(row)
            report.updated.append(entry["id"])
        else:
            report.unchanged += 1
    if replace:
        keep = {e["id"] for e in entries}
        gone = [sid for sid in rows if sid not in keep]
        referenced = referenced_services(session, gone)
        for sid in gone:
            row = rows[sid]
            if sid in referenced:
                if row.status != RETIRED_STATUS:
                    update_service_row(
                        row, {**row.entry, "status": RETIRED_STATUS}, seed_digest=None
                    )
                    row.edited = True
                    session.add(row)
                    report.retired.append(sid)
            else:
                session.delete(row)
                report.removed.append(sid)
    changed = report.added or report.updated or report.removed or report.retired
    # An admin's import is a real directory: it ends the demonstration banner, even when
    # the file holds what is already stored.
    if changed or (entries and not directory_confirmed(session)):
        session.flush()
        version = new_version(session, "import")
        report.directory_version = version.id
        record_audit(
            session,
            "directory_changed",
            actor_id=actor_id,
            object_kind="directory",
            object_id=version.id,
        )
    session.flush()
    return report
