"""What the CLI and the page share: build a summary export, lay it out as tables, audit it.

The internal summary (admins only) is exact. The public one is a differentially private
release from the privacy ledger (referral.stats.releases): its numbers carry noise, and
each states its 95 % interval."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from sqlmodel import Session

from referral.audit.operations import record_audit
from referral.casework.queries import v4_reasons_since
from referral.i18n import gettext_for
from referral.labels import reason_label
from referral.rules.errors import N_
from referral.stats import releases
from referral.stats.operations import (
    CATEGORIES,
    Progress,
    Scope,
    annual_summary,
    summary_codes,
)

CONSENT_NOTE = N_(
    "Aggregate counts include every case except those of people who withdrew their consent "
    "to the statistical use of their data; the microdata also leaves out everyone who did not "
    "agree. Releases published before a withdrawal are not changed."
)
CATEGORY_LABELS = {
    "men": N_("Men"),
    "women": N_("Women"),
    "boys": N_("Boys"),
    "girls": N_("Girls"),
    "unknown": N_("Unknown"),
}
V4_NOTE = N_(
    "Gap reasons follow the routing rules of contract v4 from %(when)s; gaps recorded "
    "before then kept their reasons."
)
PRIVACY_NOTE = N_(
    "Published with differential privacy: each number was computed from the records and "
    "then changed by a small random amount (OpenDP's discrete Laplace mechanism, privacy-loss "
    "parameter epsilon = %(epsilon)s), so that no table can reveal whether any one person is "
    "in it. The true number lies within the interval shown beside each count 95 times out "
    'of 100. Small numbers, and zeros, may not be exact: read them as "about".'
)
INTERVAL = N_("%(column)s: 95%% interval")
BUDGET_SPENT = N_(
    "Refused: the privacy budget of %(year)s is spent for %(states)s (this release needs "
    "epsilon %(epsilon)s; left: %(remaining)s). Every release lets a little more be learnt "
    "about the people counted, so the budget sets how many releases a year of data may "
    "have. The releases already made stay available."
)


def budget_message(error: releases.BudgetSpent, catalogue: Any, lang: str) -> str:
    """The refusal in the reader's language, naming the states and what is left."""
    names = ", ".join(
        str(catalogue.label("states", code, lang)) if code != "unknown" else code
        for code in sorted(error.remaining)
    )
    left = min(error.remaining.values()) if error.remaining else 0.0
    return gettext_for(lang)(BUDGET_SPENT) % {
        "year": error.year,
        "states": names,
        "epsilon": f"{error.epsilon:g}",
        "remaining": f"{left:g}",
    }


def privacy_settings(config: Any) -> tuple[float, float]:
    """(epsilon of a release, budget of each year and state), from the app's config."""
    epsilon = float(config.get("STATS_PRIVACY_EPSILON", releases.DEFAULT_EPSILON))
    budget = float(config.get("STATS_PRIVACY_BUDGET", releases.DEFAULT_BUDGET))
    return epsilon, budget


def summary_export(
    session: Session,
    catalogue: Any,
    year: int,
    scope: Scope,
    *,
    lang: str,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The exact annual summary (internal: for admins only), with its ``disclosure`` block."""
    summary = annual_summary(session, year, scope, summary_codes(catalogue), progress)
    summary["disclosure"] = {"public": False, "consent": gettext_for(lang)(CONSENT_NOTE)}
    summary["disclosure"]["gap_reasons"] = v4_note(session, lang)
    return summary


def v4_note(session: Session, lang: str) -> str | None:
    """From when gap reasons follow contract v4 (docs/supervision.md); None before any."""
    since = v4_reasons_since(session)
    if since is None:
        return None
    return gettext_for(lang)(V4_NOTE) % {"when": format_date(since, "long", locale=lang)}


def public_document(
    summary: dict[str, Any], outcome: releases.Outcome, lang: str
) -> dict[str, Any]:
    """A released summary with its ``disclosure`` block in the reader's language."""
    _ = gettext_for(lang)
    summary["disclosure"] = {
        "public": True,
        "consent": _(CONSENT_NOTE),
        "privacy_note": _(PRIVACY_NOTE) % {"epsilon": f"{summary['privacy']['epsilon']:g}"},
        "newer_cases": bool(outcome.newer),
    }
    return summary


def public_summary(
    database: Any,
    writer: Session | None,
    catalogue: Any,
    request: releases.Request,
    *,
    all_states: Any,
    budget: float,
    actor_id: int | None,
    lang: str,
    progress: Progress | None = None,
) -> tuple[dict[str, Any] | None, releases.Outcome]:
    """The public summary of ``request``: with a ``writer``, missing releases are made (and
    spend budget; BudgetSpent when it does not allow); without one, only stored releases
    are read, and the summary is None unless every unit of the scope has one."""
    if writer is None:
        outcome = releases.find(database, request)
        if len(outcome.releases) < len(request.units):
            return None, outcome
    else:
        compute = releases.summary_compute(releases.public_codes(catalogue), progress)
        outcome = releases.obtain(database, writer, request, all_states, budget, compute, actor_id)
        for release in outcome.releases:
            if release.scope in outcome.created:
                audit_release(writer, actor_id, release)
    summary = releases.summary_for(outcome.releases, catalogue, request.year, request.units)
    document = public_document(summary, outcome, lang)
    with database.transaction(write=False) as reader:
        document["disclosure"]["gap_reasons"] = v4_note(reader, lang)
    return document, outcome


def audit_release(session: Session, actor_id: int | None, release: Any) -> None:
    """A new release is an export of its numbers: one event for its state, or one national."""
    code = (
        f"release:{release.table_name}:{release.year}:e{release.epsilon:g}:"
        f"{release.scope}:ed{release.edition}"
    )
    record_audit(
        session,
        "export_made",
        actor_id=actor_id,
        object_kind="export",
        object_id=code[:64],
        state=None if release.scope == releases.NATIONAL else release.scope,
    )


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


def summary_code(year: int, fmt: str, epsilon: float | None) -> str:
    """``epsilon`` None: the exact internal summary."""
    return f"summary:{year}:{fmt}:" + ("internal" if epsilon is None else f"public:e{epsilon:g}")


def microdata_code(fmt: str, k: int, l: int) -> str:  # noqa: E741
    return f"microdata:{fmt}:k{k}:l{l}"


# --- tables in the reader's language ------------------------------------------------------


@dataclass
class Table:
    title: str
    columns: list[str]
    # (row name, values, 95 % intervals of those values or None when exact)
    rows: list[tuple[str, list[int | None], list[tuple[int, int]] | None]]


def summary_tables(summary: dict[str, Any], catalogue: Any, lang: str) -> list[Table]:
    """The summary as tables in the reader's language. In a public release each value has
    its 95 % interval; rows of nationalities and of gap reasons whose released count is 0
    are left out (the release lists every code; a page of zeros helps nobody)."""
    _ = gettext_for(lang)
    intervals = (summary.get("privacy") or {}).get("intervals")
    public = intervals is not None

    def label(list_name: str, code: str) -> str:
        return str(catalogue.label(list_name, code, lang))

    def at(*path: str) -> tuple[int, int] | None:
        node = intervals
        for key in path:
            if node is None:
                return None
            node = node.get(key)
        return None if node is None else (int(node[0]), int(node[1]))

    def ranges(*paths: tuple[str, ...]) -> list[tuple[int, int]] | None:
        if not public:
            return None
        return [at(*path) or (0, 0) for path in paths]

    total = _("Total")
    victims = summary["victims"]
    tables = [
        Table(
            _("Victims"),
            [total],
            [(_("All victims"), [victims["total"]], ranges(("victims", "total")))],
        ),
        Table(
            _("Victims by form of exploitation"),
            [total] + [_(CATEGORY_LABELS[c]) for c in CATEGORIES],
            [
                (
                    label("forms", form),
                    [row["total"]] + [row[c] for c in CATEGORIES],
                    ranges(*(("victims", "by_form", form, key) for key in ("total", *CATEGORIES))),
                )
                for form, row in victims["by_form"].items()
            ],
        ),
    ]

    def one_way(
        title: str,
        column: str,
        everything: str,
        section: str,
        key: str,
        list_name: str,
        skip_zeros: bool = False,
    ) -> Table:
        entry = summary[section]
        rows: list[tuple[str, list[int | None], list[tuple[int, int]] | None]] = [
            (everything, [entry["total"]], ranges((section, "total")))
        ]
        for code, value in entry[key].items():
            if skip_zeros and public and value == 0:
                continue
            rows.append((label(list_name, code), [value], ranges((section, key, code))))
        return Table(title, [column], rows)

    tables.append(
        one_way(
            _("Foreign victims by nationality"),
            _("Victims"),
            _("All foreign victims"),
            "foreign_victims",
            "by_nationality",
            "nationalities",
            skip_zeros=True,
        )
    )
    tables.append(
        one_way(
            _("Referrals by status"),
            _("Referrals"),
            _("All referrals"),
            "referrals",
            "by_status",
            "referral_statuses",
        )
    )
    tables.append(
        one_way(
            _("Referrals by need"),
            _("Referrals"),
            _("All referrals"),
            "referrals",
            "by_need",
            "needs",
        )
    )
    services = summary["services_received_by_form"]
    needs = list(next(iter(services.values()))["by_need"]) if services else []
    tables.append(
        Table(
            _("Services received by form of exploitation"),
            [total] + [label("needs", n) for n in needs],
            [
                (
                    label("forms", form),
                    [entry["total"]] + [entry["by_need"].get(n) for n in needs],
                    ranges(
                        ("services_received_by_form", form, "total"),
                        *(("services_received_by_form", form, "by_need", n) for n in needs),
                    ),
                )
                for form, entry in services.items()
            ],
        )
    )
    tables.append(
        one_way(
            _("Referral gaps by kind"), _("Gaps"), _("All gaps"), "gaps", "by_kind", "gap_kinds"
        )
    )
    tables.append(
        Table(
            _("Referral gaps by need and reason"),
            [_("Gaps")],
            [
                (
                    f"{label('needs', need)}: {reason_label(catalogue, reason, lang)}",
                    [n],
                    ranges(("gaps", "by_need", need, reason)),
                )
                for need, reasons in summary["gaps"]["by_need"].items()
                for reason, n in reasons.items()
                if not (public and n == 0)
            ],
        )
    )
    if public:
        status_title = _("People screened, by the status of their latest screening")
        where_title = _("People screened, by where their latest screening happened")
        column, everything = _("People"), _("All people screened")
    else:
        status_title = _("Screenings by status")
        where_title = _("Screenings by where they happened")
        column, everything = _("Screenings"), _("All screenings")
    tables.append(one_way(status_title, column, everything, "screenings", "by_status", "statuses"))
    tables.append(
        one_way(where_title, column, everything, "screenings", "by_encounter", "encounters")
    )
    return tables


def interval_text(interval: tuple[int, int]) -> str:
    return f"{interval[0]}–{interval[1]}"


def summary_csv(summary: dict[str, Any], catalogue: Any, lang: str) -> str:
    """Each table as a block: title, header, rows, a blank line. In a public release each
    value column is followed by its 95 % interval, and the release's terms come first."""
    _ = gettext_for(lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_("Annual summary"), summary["year"]])
    disclosure = summary["disclosure"]
    privacy = summary.get("privacy")
    if privacy:
        writer.writerow([disclosure["privacy_note"]])
        writer.writerow([_("Mechanism"), f"{privacy['mechanism']} ({privacy['library']})"])
        writer.writerow([_("Privacy-loss parameter (epsilon)"), f"{privacy['epsilon']:g}"])
    writer.writerow([disclosure["consent"]])
    if disclosure.get("gap_reasons"):
        writer.writerow([disclosure["gap_reasons"]])
    writer.writerow([])
    for table in summary_tables(summary, catalogue, lang):
        writer.writerow([table.title])
        if privacy:
            header = [part for c in table.columns for part in (c, _(INTERVAL) % {"column": c})]
            writer.writerow(["", *header])
        else:
            writer.writerow(["", *table.columns])
        for name, values, intervals in table.rows:
            if intervals is None:
                writer.writerow([name, *("" if v is None else v for v in values)])
            else:
                cells = [
                    part
                    for value, interval in zip(values, intervals, strict=True)
                    for part in (value, interval_text(interval))
                ]
                writer.writerow([name, *cells])
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
