"""The ISO 639 table the rules core compares languages with (CONTRACT 1, "same language").

Built here, outside the rules core, from pycountry's ISO 639-3 data and passed to the
catalogue as data: ISO 639-1 (``es``) and ISO 639-2/B (``fre``) codes map to their ISO
639-3 code; a code the table does not hold (``nah``) equals only itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import pycountry


@cache
def iso639_table() -> Mapping[str, str]:
    """Every ISO 639-1, 639-2/B and 639-3 code -> its ISO 639-3 code."""
    table: dict[str, str] = {}
    for language in pycountry.languages:
        alpha_3 = language.alpha_3
        table[alpha_3] = alpha_3
        for other in ("alpha_2", "bibliographic"):
            code = getattr(language, other, None)
            if code:
                table[code] = alpha_3
    return MappingProxyType(table)
