"""The service directory as stored: export in the shape of CONTRACT section 4."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from referral.models import Service as ServiceRow


def export_entries(session: Session) -> list[dict[str, Any]]:
    """Every directory entry, sorted by id (CONTRACT section 4)."""
    rows = session.exec(select(ServiceRow).order_by(ServiceRow.id)).all()
    return [row.entry for row in rows]
