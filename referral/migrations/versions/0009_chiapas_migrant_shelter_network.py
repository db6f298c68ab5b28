"""The 39 placeholder NGO migrant shelters in Chiapas become one network entry (CONTRACT v4).

The report counts 39 NGOs in Chiapas that run migrant shelters (PROTECTION ¶7) but names
none: the seeds had one placeholder per NGO. This migration points every stored referral
and every stored result (screening.result options and, where stored, excluded) at the one
network entry, then deletes the 39 rows. On a database that never had them (a new one,
or one where an admin already removed them) it changes nothing; the network entry itself
comes from the seeds, and is written here only when stored data must point at it first.

Downgrade leaves the data as it is: the 39 placeholders named no real shelter, and which
of them a referral named carried no information.

Revision ID: 0009
Revises: 0008 (rechained at merge)
Create Date: 2026-11-30
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NETWORK = "svc-chp-migrant-shelter-network"
OLD = tuple(f"svc-chp-migrant-shelter-{n:02d}" for n in range(1, 40))
_OLD_ID = re.compile(r"^svc-chp-migrant-shelter-(0[1-9]|[1-3][0-9])$")

# The seed entry as of this migration (seeds/services.yaml); `flask seed` refreshes it
# (seed_digest None, not edited).
NETWORK_ENTRY: dict[str, Any] = {
    "id": "svc-chp-migrant-shelter-network",
    "name": {
        "es": "Red de albergues de organizaciones civiles para personas migrantes en "
        "Chiapas (39 organizaciones, sin nombre en el informe)",
        "en": "Network of NGO migrant shelters in Chiapas (39 organizations, not named in "
        "the report)",
    },
    "need": "shelter",
    "status": "active",
    "operator": "ngo",
    "coverage": ["MX-CHP"],
    "min_age": None,
    "max_age": None,
    "sexes": ["female", "male", "intersex"],
    "male_max_age": None,
    "accepts_foreign": True,
    "languages": ["es"],
    "capacity_available": None,
    "requires_complaint": False,
    "requires_victim_status": False,
    "accepts_companions": True,
    "companion_max_age_male": None,
    "specializations": [],
    "tags": ["migrant_shelter", "illustrative"],
    "source": "PROTECTION ¶7 (an expert reported that 39 NGOs in Chiapas operate shelters for "
    "migrants that could also assist trafficking victims; the report gives a count, "
    "not names: one illustrative entry stands for the network until real shelters are "
    "added); LGDNNA Art. 94-95 (children alone are lodged by the DIF, apart from "
    "adults; children with their family may stay with them)",
    "how_to_refer": {
        "es": "El informe cuenta 39 organizaciones civiles que operan albergues "
        "para personas migrantes en Chiapas y pueden atender a víctimas de "
        "trata, pero no las nombra: ubique el albergue y confirme el cupo "
        "antes de canalizar. Para personas adultas y para niñas, niños y "
        "adolescentes con su familia; quienes viajan solos van al DIF "
        "(Procuraduría de Protección).",
        "en": "The report counts 39 NGOs that run shelters for migrants in Chiapas "
        "and can assist trafficking victims, but names none: find the shelter "
        "and confirm a place before referring. For adults and for children "
        "with their family; children travelling alone go to the DIF "
        "(child-protection office).",
    },
    "contact": {
        "es": "El albergue de la organización civil (el informe no nombra ninguno; por verificar).",
        "en": "The NGO that runs the shelter (the report names none; to be verified).",
    },
    "confidential": True,
    "caveats": [
        {
            "es": "Se han denunciado casos de autoridades que extorsionan a personas "
            "migrantes y les quitan sus documentos de identidad: antes de canalizar a "
            "policía o al INM, hable de ello con la persona.",
            "en": "Officials have been reported extorting migrants and taking their "
            "identity documents: talk it through with the person before a referral to "
            "the police or the INM.",
            "source": "PROFILE ¶4",
        }
    ],
}

service = sa.table(
    "service",
    sa.column("id", sa.String),
    sa.column("need", sa.String),
    sa.column("status", sa.String),
    sa.column("name_es", sa.String),
    sa.column("name_en", sa.String),
    sa.column("entry", sa.JSON),
    sa.column("seed_digest", sa.String),
    sa.column("edited", sa.Boolean),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
referral = sa.table("referral", sa.column("id", sa.Integer), sa.column("service_id", sa.String))
screening = sa.table("screening", sa.column("id", sa.Integer), sa.column("result", sa.JSON))
directory_version = sa.table(
    "directory_version",
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("reason", sa.String),
)


def merged_options(options: list[Any]) -> tuple[list[Any], bool]:
    """One need's options with the old ids replaced by the network, listed once, in place
    of the first of them."""
    out: list[Any] = []
    changed = seen = False
    for option in options:
        sid = option.get("service") if isinstance(option, dict) else None
        if isinstance(sid, str) and (_OLD_ID.match(sid) or sid == NETWORK):
            if _OLD_ID.match(sid):
                changed = True
            if seen:
                continue
            seen = True
            option = {**option, "service": NETWORK}
        out.append(option)
    return out, changed


def merged_excluded(services: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """One need's excluded services with the old ids' reasons under the network id."""
    out: dict[str, Any] = {}
    changed = False
    for sid, reasons in services.items():
        if _OLD_ID.match(sid) or sid == NETWORK:
            changed = changed or sid != NETWORK
            merged = out.setdefault(NETWORK, [])
            for reason in reasons if isinstance(reasons, list) else []:
                if reason not in merged:
                    merged.append(reason)
        else:
            out[sid] = reasons
    return out, changed


def rewritten_result(result: Any) -> dict[str, Any] | None:
    """The result pointing at the network entry, or None when it names no old id."""
    if not isinstance(result, dict):
        return None
    changed = False
    new = dict(result)
    options = result.get("options")
    if isinstance(options, dict):
        rewritten: dict[str, Any] = {}
        for need, listed in options.items():
            if isinstance(listed, list) and listed:
                listed, did = merged_options(listed)
                changed = changed or did
            rewritten[need] = listed
        new["options"] = rewritten
    excluded = result.get("excluded")
    if isinstance(excluded, dict):
        regrouped: dict[str, Any] = {}
        for need, services in excluded.items():
            if isinstance(services, dict) and services:
                services, did = merged_excluded(services)
                changed = changed or did
            regrouped[need] = services
        new["excluded"] = regrouped
    return new if changed else None


def upgrade() -> None:
    bind = op.get_bind()
    present = set(
        bind.execute(sa.select(service.c.id).where(service.c.id.in_(OLD))).scalars().all()
    )
    stored = bind.execute(
        sa.select(screening.c.id, screening.c.result).where(
            sa.cast(screening.c.result, sa.Text).like("%svc-chp-migrant-shelter-%")
        )
    ).all()
    rewrites = [(sid, new) for sid, res in stored if (new := rewritten_result(res)) is not None]
    if not present and not rewrites:
        return
    now = dt.datetime.now(dt.UTC)
    has_network = bind.execute(
        sa.select(sa.func.count()).select_from(service).where(service.c.id == NETWORK)
    ).scalar_one()
    if not has_network:
        bind.execute(
            service.insert().values(
                id=NETWORK,
                need=NETWORK_ENTRY["need"],
                status=NETWORK_ENTRY["status"],
                name_es=NETWORK_ENTRY["name"]["es"],
                name_en=NETWORK_ENTRY["name"]["en"],
                entry=NETWORK_ENTRY,
                seed_digest=None,
                edited=False,
                updated_at=now,
            )
        )
    if present:
        bind.execute(
            referral.update()
            .where(referral.c.service_id.in_(sorted(present)))
            .values(service_id=NETWORK)
        )
    for screening_id, new in rewrites:
        bind.execute(screening.update().where(screening.c.id == screening_id).values(result=new))
    if present:
        bind.execute(service.delete().where(service.c.id.in_(sorted(present))))
    # A new directory version, so that running apps reload the directory.
    bind.execute(directory_version.insert().values(created_at=now, reason="migration"))


def downgrade() -> None:
    """Nothing to undo: the 39 placeholders named no real shelter (see the docstring)."""
