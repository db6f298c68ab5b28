"""Regions of ``seeds/regions.yaml``: states to Mexican regions, nationalities to world regions.

The file is checked against the states and nationality codes the app knows: every one
must fall in exactly one region, so no record is ever left without a generalized value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from referral.rules import SeedError, SeedErrors

REGIONS_FILE = "regions.yaml"


class RegionsError(SeedErrors):
    """``seeds/regions.yaml`` breaks its rules; the message names the section and code."""

    def __init__(self, section: str, entry: str, message: str) -> None:
        super().__init__([SeedError(REGIONS_FILE, section, entry, message)])


@dataclass(frozen=True)
class Region:
    code: str
    label: dict[str, str]
    members: tuple[str, ...]


@dataclass(frozen=True)
class RegionMap:
    """One grouping (of states or of nationalities) with its source."""

    source: str
    regions: tuple[Region, ...]

    def region_of(self, code: str) -> str:
        for region in self.regions:
            if code in region.members:
                return region.code
        raise KeyError(code)

    def codes(self) -> tuple[str, ...]:
        return tuple(region.code for region in self.regions)

    def label(self, code: str, lang: str) -> str:
        for region in self.regions:
            if region.code == code:
                return region.label.get(lang) or region.label["es"]
        return code


@dataclass(frozen=True)
class Regions:
    states: RegionMap
    nationalities: RegionMap


def _region_map(document: dict[str, Any], section: str, expected: set[str]) -> RegionMap:
    part = document.get(section)
    if not isinstance(part, dict) or not isinstance(part.get("regions"), list):
        raise RegionsError(section, "regions", "needs 'regions', a list")
    source = str(part.get("source") or "").strip()
    if not source:
        raise RegionsError(section, "source", "needs a 'source'")
    regions: list[Region] = []
    seen: dict[str, str] = {}
    for entry in part["regions"]:
        code = str(entry.get("code", "")) if isinstance(entry, dict) else ""
        label = (entry.get("label") if isinstance(entry, dict) else None) or {}
        if not code or not label.get("es") or not label.get("en"):
            raise RegionsError(section, code or "?", "needs a code and es/en labels")
        members = tuple(str(m) for m in entry.get("members") or ())
        for member in members:
            if member in seen:
                raise RegionsError(section, member, f"is in both {seen[member]} and {code}")
            if member not in expected:
                raise RegionsError(section, code, f"unknown code {member}")
            seen[member] = code
        regions.append(Region(code=code, label=dict(label), members=members))
    missing = sorted(expected - set(seen))
    if missing:
        raise RegionsError(section, "", f"not in any region: {', '.join(missing)}")
    return RegionMap(source=source, regions=tuple(regions))


def parse_regions(document: Any, states: set[str], nationalities: set[str]) -> Regions:
    """Check the regions against the states and nationalities in the seeds."""
    if not isinstance(document, dict):
        raise RegionsError("", "", "must be a mapping")
    return Regions(
        states=_region_map(document, "states", states | {"unknown"}),
        nationalities=_region_map(document, "nationalities", nationalities),
    )
