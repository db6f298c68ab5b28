"""Regions of ``seeds/regions.yaml``: states to Mexican regions, nationalities to world regions.

Read and checked by the SeedStore (``referral.seeds.regions``): every state and every
nationality falls in exactly one region, so no record is left without a generalized value.
"""

from __future__ import annotations

import os
from pathlib import Path

from referral.seeds.loader import SeedStore, seed_store
from referral.seeds.regions import Region, RegionMap, Regions, RegionsError

__all__ = ["Region", "RegionMap", "Regions", "RegionsError", "load_regions", "regions_for"]


def regions_for(seeds_dir: str | os.PathLike[str] | None) -> Regions:
    """The regions of the app's seeds directory (``SEEDS_DIR``; None: the packaged seeds)."""
    return seed_store(seeds_dir).regions


def load_regions(seeds_dir: Path) -> Regions:
    """Read a seeds directory's regions afresh (a check of edited files)."""
    return SeedStore(seeds_dir).regions
