"""What the CLI and the page share: build a summary export, lay it out as tables, audit it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from referral.audit.operations import record_audit
from referral.i18n import gettext_for
from referral.labels import reason_label
from referral.rules.errors import N_
from referral.stats.disclosure import public_summary
from referral.stats.operations import (
    CATEGORIES,
    Progress,
    Scope,
    annual_summary,
    summary_codes,
)

DEFAULT_THRESHOLD = 5
CONSENT_NOTE = N_(
    "Aggregate counts include every case, whether or not the person agreed to the "
    "statistical use of their data; only the microdata leaves out those who did not."
)
CATEGORY_LABELS = {
    "men": N_("Men"),
    "women": N_("Women"),
    "boys": N_("Boys"),
    "girls": N_("Girls"),
    "unknown": N_("Unknown"),
}
BELOW = N_("fewer than %(threshold)s")


def summary_export(
    session: Session,
    catalogue: Any,
    year: int,
    scope: Scope,
    *,
    public: bool,
    threshold: int,
    lang: str,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The annual summary with its ``disclosure`` block; suppressed when ``public``."""
    summary = annual_summary(session, year, scope, summary_codes(catalogue), progress)
    suppressed = 0
    if public:
        summary, suppressed = public_summary(summary, threshold)
    summary["disclosure"] = {
        "public": public,
        "threshold": threshold if public else None,
        "suppressed_cells": suppressed,
        "consent": gettext_for(lang)(CONSENT_NOTE),
    }
    return summary


def audit_export(session: Session, actor_id: int | None, what: str, scope: Scope) -> None:
    """One ``export_made`` event per state in scope (so each state's supervisors see it),
    or one national event. ``what`` is a code: kind, year, format and disclosure settings."""
    object_id = f"{what}:{scope.code()}"[:64]
    for state in scope.states if scope.states is not None else (None,):
        record_audit(
            session,
            "export_made",
            actor_id=actor_id,
            object_kind="export",
            object_id=object_id,
            state=state,
        )


def summary_code(year: int, fmt: str, public: bool, threshold: int) -> str:
    return f"summary:{year}:{fmt}:" + (f"public:t{threshold}" if public else "internal")


def microdata_code(fmt: str, k: int) -> str:
    return f"microdata:{fmt}:k{k}"


# --- tables in the reader's language ------------------------------------------------------


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[tuple[str, list[int | None]]]


def summary_tables(summary: dict[str, Any], catalogue: Any, lang: str) -> list[Table]:
    _ = gettext_for(lang)

    def label(list_name: str, code: str) -> str:
        return str(catalogue.label(list_name, code, lang))

    total = _("Total")
    victims = summary["victims"]
    tables = [
        Table(_("Victims"), [total], [(_("All victims"), [victims["total"]])]),
        Table(
            _("Victims by form of exploitation"),
            [total] + [_(CATEGORY_LABELS[c]) for c in CATEGORIES],
            [
                (label("forms", form), [row["total"]] + [row[c] for c in CATEGORIES])
                for form, row in victims["by_form"].items()
            ],
        ),
    ]
    foreign = summary["foreign_victims"]
    tables.append(
        Table(
            _("Foreign victims by nationality"),
            [_("Victims")],
            [(_("All foreign victims"), [foreign["total"]])]
            + [(label("nationalities", c), [n]) for c, n in foreign["by_nationality"].items()],
        )
    )
    referrals = summary["referrals"]
    tables.append(
        Table(
            _("Referrals by status"),
            [_("Referrals")],
            [(_("All referrals"), [referrals["total"]])]
            + [(label("referral_statuses", c), [n]) for c, n in referrals["by_status"].items()],
        )
    )
    tables.append(
        Table(
            _("Referrals by need"),
            [_("Referrals")],
            [(_("All referrals"), [referrals["total"]])]
            + [(label("needs", c), [n]) for c, n in referrals["by_need"].items()],
        )
    )
    services = summary["services_received_by_form"]
    needs = list(next(iter(services.values()))["by_need"]) if services else []
    tables.append(
        Table(
            _("Services received by form of exploitation"),
            [total] + [label("needs", n) for n in needs],
            [
                (label("forms", form), [entry["total"]] + [entry["by_need"].get(n) for n in needs])
                for form, entry in services.items()
            ],
        )
    )
    gaps = summary["gaps"]
    tables.append(
        Table(
            _("Referral gaps by kind"),
            [_("Gaps")],
            [(_("All gaps"), [gaps["total"]])]
            + [(label("gap_kinds", c), [n]) for c, n in gaps["by_kind"].items()],
        )
    )
    tables.append(
        Table(
            _("Referral gaps by need and reason"),
            [_("Gaps")],
            [
                (f"{label('needs', need)}: {reason_label(catalogue, reason, lang)}", [n])
                for need, reasons in gaps["by_need"].items()
                for reason, n in reasons.items()
            ],
        )
    )
    screenings = summary["screenings"]
    tables.append(
        Table(
            _("Screenings by status"),
            [_("Screenings")],
            [(_("All screenings"), [screenings["total"]])]
            + [(label("statuses", c), [n]) for c, n in screenings["by_status"].items()],
        )
    )
    tables.append(
        Table(
            _("Screenings by where they happened"),
            [_("Screenings")],
            [(_("All screenings"), [screenings["total"]])]
            + [(label("encounters", c), [n]) for c, n in screenings["by_encounter"].items()],
        )
    )
    return tables


def cell_text(value: int | None, summary: dict[str, Any], lang: str) -> str:
    if value is None:
        return gettext_for(lang)(BELOW) % {"threshold": summary["disclosure"]["threshold"]}
    return str(value)


def summary_csv(summary: dict[str, Any], catalogue: Any, lang: str) -> str:
    """Each table as a block: title, header, rows, a blank line; hidden cells in words."""
    _ = gettext_for(lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_("Annual summary"), summary["year"]])
    writer.writerow([_("Suppressed cells"), summary["disclosure"]["suppressed_cells"]])
    writer.writerow([summary["disclosure"]["consent"]])
    writer.writerow([])
    for table in summary_tables(summary, catalogue, lang):
        writer.writerow([table.title])
        writer.writerow(["", *table.columns])
        for name, values in table.rows:
            writer.writerow([name, *(cell_text(v, summary, lang) for v in values)])
        writer.writerow([])
    return out.getvalue()


def summary_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=2) + "\n"


def render_summary(
    summary: dict[str, Any],
    fmt: str,
    catalogue: Any,
    lang: str,
    render_html: Callable[[dict[str, Any], list[Table]], str],
) -> str:
    if fmt == "json":
        return summary_json(summary)
    if fmt == "csv":
        return summary_csv(summary, catalogue, lang)
    return render_html(summary, summary_tables(summary, catalogue, lang))
