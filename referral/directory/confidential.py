"""Who sees where a confidential service is (docs/security.md, "Who sees what").

A confidential service (a shelter) keeps its location and direct line in ``how_to_refer`` and
``contact``. Those two fields reach administrators only (and, once services have accounts,
the service itself). Everyone else (screeners, supervisors, the person's referral sheet, the
API, an export made for sharing) gets :data:`CONTACT_THROUGH` in their place: the way in
that does not reveal the place, through the administrators who pass the referral on.
Hours, documents to bring, name, need and eligibility are not the location and stay visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from referral.rules.errors import N_

WITHHELD_FIELDS = ("how_to_refer", "contact")
CONTACT_THROUGH = N_(
    "Confidential location: contact is made through Ruta's administrators, who pass the "
    "referral on to the service the way it chose."
)


def shows_location(entry: Any, *, is_admin: bool) -> bool:
    """Whether this reader may see the service's ``how_to_refer`` and ``contact``.

    ``entry`` is a directory entry (a dict) or a catalogue service (an object).
    """
    confidential = entry.get("confidential") if isinstance(entry, dict) else entry.confidential
    return is_admin or not confidential


def withhold_location(
    entry: dict[str, Any], gettext_for: Callable[[str], Callable[[str], str]]
) -> dict[str, Any]:
    """A copy of a confidential entry for a reader who is not an administrator.

    ``how_to_refer`` becomes the contact-through text in both languages; ``contact`` is
    left out. Other entries come back unchanged.
    """
    if not entry.get("confidential"):
        return entry
    shared = {key: value for key, value in entry.items() if key not in WITHHELD_FIELDS}
    shared["how_to_refer"] = {lang: gettext_for(lang)(CONTACT_THROUGH) for lang in ("es", "en")}
    return shared
