"""The ISO 639 table the rules core compares languages with (CONTRACT 1, "same language").

Built here, outside the rules core, from pycountry's ISO 639-3 data and passed to the
catalogue as data: ISO 639-1 (``es``) and ISO 639-2/B (``fre``) codes map to their ISO
639-3 code; a code the table does not hold (``nah``) equals only itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from types import MappingProxyType


def iso639_entries() -> list[dict[str, str]]:
    """pycountry's ISO 639-3 records, read from its data file: the same entries, in the same
    order, as ``pycountry.languages``, without importing pycountry and building an object for
    each of its 7,900 languages (a tenth of the CLI's start-up)."""
    spec = find_spec("pycountry")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pycountry")
    folder = Path(next(iter(spec.submodule_search_locations)))
    with (folder / "databases" / "iso639-3.json").open(encoding="utf-8") as data:
        entries: list[dict[str, str]] = json.load(data)["639-3"]
    return entries


@cache
def iso639_table() -> Mapping[str, str]:
    """Every ISO 639-1, 639-2/B and 639-3 code -> its ISO 639-3 code."""
    table: dict[str, str] = {}
    for language in iso639_entries():
        alpha_3 = language["alpha_3"]
        table[alpha_3] = alpha_3
        for other in ("alpha_2", "bibliographic"):
            code = language.get(other)
            if code:
                table[code] = alpha_3
    return MappingProxyType(table)
