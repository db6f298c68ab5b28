"""Regions of ``seeds/regions.yaml``: states to Mexican regions, nationalities to world regions.

The file is checked against the states and nationality codes the app knows: every one
must fall in exactly one region, so no record is ever left without a generalized value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

REGIONS_FILE = "regions.yaml"


class RegionsError(ValueError):
    """``seeds/regions.yaml`` breaks its rules; the message names the section and code."""


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


def _read(seeds_dir: Path, name: str) -> dict:
    with (seeds_dir / name).open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict):
        raise RegionsError(f"{name}: must be a mapping")
    return document


def _region_map(document: dict, section: str, expected: set[str]) -> RegionMap:
    part = document.get(section)
    if not isinstance(part, dict) or not isinstance(part.get("regions"), list):
        raise RegionsError(f"{REGIONS_FILE}: {section}: needs 'regions', a list")
    source = str(part.get("source") or "").strip()
    if not source:
        raise RegionsError(f"{REGIONS_FILE}: {section}: needs a 'source'")
    regions: list[Region] = []
    seen: dict[str, str] = {}
    for entry in part["regions"]:
        code = str(entry.get("code", ""))
        label = entry.get("label") or {}
        if not code or not label.get("es") or not label.get("en"):
            raise RegionsError(
                f"{REGIONS_FILE}: {section}: {code or '?'}: needs a code and es/en labels"
            )
        members = tuple(str(m) for m in entry.get("members") or ())
        for member in members:
            if member in seen:
                raise RegionsError(
                    f"{REGIONS_FILE}: {section}: {member} is in both {seen[member]} and {code}"
                )
            if member not in expected:
                raise RegionsError(f"{REGIONS_FILE}: {section}: {code}: unknown code {member}")
            seen[member] = code
        regions.append(Region(code=code, label=dict(label), members=members))
    missing = sorted(expected - set(seen))
    if missing:
        raise RegionsError(f"{REGIONS_FILE}: {section}: not in any region: {', '.join(missing)}")
    return RegionMap(source=source, regions=tuple(regions))


def load_regions(seeds_dir: Path) -> Regions:
    """Read and check the regions against the states and nationalities in the seeds."""
    states = {entry["code"] for entry in _read(seeds_dir, "states.yaml")["states"]}
    nationalities = {entry["code"] for entry in _read(seeds_dir, "codes.yaml")["nationalities"]}
    document = _read(seeds_dir, REGIONS_FILE)
    return Regions(
        states=_region_map(document, "states", states | {"unknown"}),
        nationalities=_region_map(document, "nationalities", nationalities),
    )


@cache
def regions_for(seeds_dir: str) -> Regions:
    return load_regions(Path(seeds_dir))
