"""Directory entries (CONTRACT section 4): parsing and checking a list of services."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .errors import SeedError, SeedErrors
from .seeds import LANGS, RuleSeeds, Texts

_LANGUAGE = re.compile(r"[a-z]{2,3}")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")

REQUIRED = (
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
)
OPTIONAL = (
    "how_to_refer",
    "contact",
    "hours",
    "required_documents",
    "last_verified",
    "confidential",
)


@dataclass(frozen=True)
class Service:
    id: str
    name: Texts
    need: str
    status: str
    operator: str
    coverage: tuple[str, ...]
    min_age: int | None
    max_age: int | None
    sexes: tuple[str, ...]
    male_max_age: int | None
    accepts_foreign: bool
    languages: tuple[str, ...]
    capacity_available: int | None
    requires_complaint: bool
    requires_victim_status: bool
    accepts_companions: bool
    companion_max_age_male: int | None
    specializations: tuple[str, ...]
    tags: tuple[str, ...]
    source: str
    how_to_refer: Texts | None = None
    contact: Texts | None = None
    hours: Texts | None = None
    required_documents: tuple[Texts, ...] | None = None
    last_verified: dt.date | None = None
    confidential: bool | None = None

    def to_contract_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name in REQUIRED:
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            result[name] = value
        for name in OPTIONAL:
            value = getattr(self, name)
            if value is None:
                continue
            if name == "required_documents":
                value = [dict(d) for d in value]
            elif name == "last_verified":
                value = value.isoformat()
            elif isinstance(value, dict):
                value = dict(value)
            result[name] = value
        return result


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_services(
    entries: object, seeds: RuleSeeds, states: set[str], file: str = "services.yaml"
) -> list[Service]:
    """Check directory entries against the contract; raise SeedErrors naming id and field."""
    errors: list[SeedError] = []
    if isinstance(entries, dict) and set(entries) == {"services"}:
        entries = entries["services"]
    if not isinstance(entries, list):
        raise SeedErrors([SeedError(file, "services", "", "must be a list of services")])
    codes = {
        "need": set(seeds.codes("needs")),
        "status": set(seeds.codes("service_statuses")),
        "operator": set(seeds.codes("operators")),
        "sexes": set(seeds.codes("sexes")) - {"unknown"},
        "tags": set(seeds.codes("service_tags")),
        "specializations": set(seeds.codes("forms")),
        "coverage": set(states) | {"national"},
    }
    services: list[Service] = []
    seen: set[str] = set()
    for index, item in enumerate(entries):
        sid = item.get("id") if isinstance(item, dict) else None
        entry = sid if isinstance(sid, str) and sid else f"services[{index}]"

        def fail(field: str, message: str, entry: str = entry) -> None:
            errors.append(SeedError(file, entry, field, message))

        if not isinstance(item, dict):
            fail("", "must be a mapping")
            continue
        before = len(errors)
        for key in item:
            if key not in REQUIRED and key not in OPTIONAL:
                fail(str(key), "unknown field")
        for key in REQUIRED:
            if key not in item:
                fail(key, "missing field")
        if not isinstance(sid, str) or not _ID.fullmatch(sid):
            fail("id", "must be lowercase letters, digits, '.', '_' or '-'")
        elif sid in seen:
            fail("id", "duplicate id")
        else:
            seen.add(sid)
        _texts(item.get("name"), "name", fail, required="name" in item)
        for key in ("need", "status", "operator"):
            if key in item and item[key] not in codes[key]:
                fail(key, f"unknown code {item[key]!r}")
        for key in ("coverage", "sexes", "tags", "specializations"):
            if key not in item:
                continue
            value = item[key]
            if not isinstance(value, list):
                fail(key, "must be a list")
                continue
            for code in value:
                if code not in codes[key]:
                    fail(key, f"unknown code {code!r}")
            if len(set(map(str, value))) != len(value):
                fail(key, "repeated code")
            if key in ("coverage", "sexes") and not value:
                fail(key, "must not be empty")
        if "languages" in item:
            langs = item["languages"]
            if not isinstance(langs, list) or any(
                not isinstance(x, str) or not _LANGUAGE.fullmatch(x) for x in langs
            ):
                fail("languages", "must be a list of 2 or 3 letter lowercase language codes")
        for key, low, high in (
            ("min_age", 0, 120),
            ("max_age", 0, 120),
            ("male_max_age", 0, 120),
            ("companion_max_age_male", 0, 17),
            ("capacity_available", 0, None),
        ):
            value = item.get(key)
            if value is not None and not (
                _is_int(value) and value >= low and (high is None or value <= high)
            ):
                bound = f"{low} to {high}" if high is not None else f"{low} or more"
                fail(key, f"must be a whole number {bound}, or null")
        lo, hi = item.get("min_age"), item.get("max_age")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            fail("max_age", "is below min_age")
        for key in ("accepts_foreign", "requires_complaint", "requires_victim_status"):
            if key in item and not isinstance(item[key], bool):
                fail(key, "must be true or false")
        if "accepts_companions" in item and not isinstance(item["accepts_companions"], bool):
            fail("accepts_companions", "must be true or false")
        if item.get("operator") == "government" and item.get("accepts_foreign") is False:
            fail(
                "accepts_foreign",
                "a government service must accept foreign victims: by law they get the same "
                "services (report PROTECTION ¶8)",
            )
        source = item.get("source")
        if "source" in item and (not isinstance(source, str) or not source.strip()):
            fail("source", "missing source (report paragraph id or law article)")
        for key in ("how_to_refer", "contact", "hours"):
            if key in item:
                _texts(item[key], key, fail, required=True)
        docs = item.get("required_documents")
        if "required_documents" in item:
            if not isinstance(docs, list):
                fail("required_documents", "must be a list of {es, en} texts")
            else:
                for j, doc in enumerate(docs):
                    _texts(doc, f"required_documents[{j}]", fail, required=True)
        verified = item.get("last_verified")
        if "last_verified" in item:
            if isinstance(verified, str):
                try:
                    verified = dt.date.fromisoformat(verified)
                except ValueError:
                    fail("last_verified", "must be a date (YYYY-MM-DD)")
            elif isinstance(verified, dt.datetime) or not isinstance(verified, dt.date):
                fail("last_verified", "must be a date (YYYY-MM-DD)")
        if "confidential" in item and not isinstance(item["confidential"], bool):
            fail("confidential", "must be true or false")
        if len(errors) != before:
            continue
        services.append(
            Service(
                id=sid,  # type: ignore[arg-type]
                name={lang: item["name"][lang] for lang in LANGS},
                need=item["need"],
                status=item["status"],
                operator=item["operator"],
                coverage=tuple(item["coverage"]),
                min_age=item["min_age"],
                max_age=item["max_age"],
                sexes=tuple(item["sexes"]),
                male_max_age=item["male_max_age"],
                accepts_foreign=item["accepts_foreign"],
                languages=tuple(item["languages"]),
                capacity_available=item["capacity_available"],
                requires_complaint=item["requires_complaint"],
                requires_victim_status=item["requires_victim_status"],
                accepts_companions=item["accepts_companions"],
                companion_max_age_male=item["companion_max_age_male"],
                specializations=tuple(item["specializations"]),
                tags=tuple(item["tags"]),
                source=item["source"],
                how_to_refer=_pair(item.get("how_to_refer")),
                contact=_pair(item.get("contact")),
                hours=_pair(item.get("hours")),
                required_documents=(
                    tuple({lang: d[lang] for lang in LANGS} for d in docs)
                    if isinstance(docs, list)
                    else None
                ),
                last_verified=verified if isinstance(verified, dt.date) else None,
                confidential=item.get("confidential"),
            )
        )
    if errors:
        raise SeedErrors(errors)
    return services


def _pair(value: object) -> Texts | None:
    return {lang: value[lang] for lang in LANGS} if isinstance(value, dict) else None


def _texts(value: object, field: str, fail: Any, *, required: bool) -> None:
    if not required:
        return
    if not isinstance(value, dict):
        fail(field, "must be a mapping with 'es' and 'en' texts")
        return
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            fail(f"{field}.{lang}", "missing text")
    for key in value:
        if key not in LANGS:
            fail(f"{field}.{key}", "unknown language (only 'es' and 'en')")
