"""Attacks on published statistics (issue 15), written independently of referral.stats.

An attacker reads a published summary (JSON, as downloaded) and what any reader may know:
- the relations of the tables (a row sums to its total, a one-way table to its total);
- facts of the domain: an ad hoc gap has only the reason ``ad_hoc``, a declined gap exactly
  one reason (``no_capacity``, ``not_eligible`` or ``outside_service_area``), and, where it
  is true of the data, each victim has exactly one form of exploitation;
- for each published number the values the truth may take: the number itself when it is
  exact, the published 95 % interval when the release states one (``privacy.margins``),
  anything from 0 up when the cell is hidden.
Linear programming then gives each cell's least and greatest possible value. A cell is
**recovered** when those bounds are less than 1 apart and hold the true value: the attacker
knows it exactly. ``differenced`` does the same for two exports of overlapping scopes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scipy.optimize import linprog

DECLINED_REASONS = ("no_capacity", "not_eligible", "outside_service_area")
BIG = 10**7

Path = tuple[str, ...]


def cells(node: Any, prefix: Path = ()) -> Iterator[tuple[Path, int | None]]:
    """Every count of a summary (skipping its metadata), by its path."""
    for key, value in node.items():
        if prefix == () and key in ("year", "scope", "disclosure", "privacy"):
            continue
        if isinstance(value, dict):
            yield from cells(value, (*prefix, key))
        elif value is None or isinstance(value, int):
            yield (*prefix, key), value


def lookup(node: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def ranges(published: dict[str, Any]) -> dict[Path, tuple[float, float]]:
    """What the attacker knows of each cell: [low, high]."""
    margins = (published.get("privacy") or {}).get("margins")
    known: dict[Path, tuple[float, float]] = {}
    for path, value in cells(published):
        if value is None:
            known[path] = (0, BIG)
            continue
        margin = lookup(margins, path) if margins is not None else 0
        margin = 0 if margin is None else margin
        known[path] = (max(0, value - margin), value + margin)
    return known


def relations(published: dict[str, Any], one_form_each: bool) -> list[dict[Path, int]]:
    """Linear equalities sum(coefficient * cell) == 0 a reader can use."""
    found: list[dict[Path, int]] = []

    def total_of(total: Path, parts: list[Path]) -> None:
        if parts:
            relation = dict.fromkeys(parts, 1)
            relation[total] = relation.get(total, 0) - 1
            found.append(relation)

    victims = published["victims"]
    for form, row in victims["by_form"].items():
        base = ("victims", "by_form", form)
        total_of((*base, "total"), [(*base, c) for c in row if c != "total"])
    if "by_category" in victims:
        total_of(
            ("victims", "total"), [("victims", "by_category", c) for c in victims["by_category"]]
        )
    if one_form_each:
        total_of(
            ("victims", "total"), [("victims", "by_form", f, "total") for f in victims["by_form"]]
        )
    foreign = published["foreign_victims"]
    total_of(
        ("foreign_victims", "total"),
        [("foreign_victims", "by_nationality", n) for n in foreign["by_nationality"]],
    )
    for key in ("by_status", "by_need"):
        total_of(
            ("referrals", "total"), [("referrals", key, c) for c in published["referrals"][key]]
        )
    for form, entry in published["services_received_by_form"].items():
        base = ("services_received_by_form", form)
        total_of((*base, "total"), [(*base, "by_need", n) for n in entry["by_need"]])
    gaps = published["gaps"]
    total_of(("gaps", "total"), [("gaps", "by_kind", k) for k in gaps["by_kind"]])
    ad_hoc = [
        ("gaps", "by_need", need, "ad_hoc")
        for need, reasons in gaps["by_need"].items()
        if "ad_hoc" in reasons
    ]
    if "ad_hoc" in gaps["by_kind"]:
        total_of(("gaps", "by_kind", "ad_hoc"), ad_hoc)
    declined = [
        ("gaps", "by_need", need, reason)
        for need, reasons in gaps["by_need"].items()
        for reason in reasons
        if reason in DECLINED_REASONS
    ]
    if "declined" in gaps["by_kind"]:
        total_of(("gaps", "by_kind", "declined"), declined)
    screenings = published["screenings"]
    for key in ("by_status", "by_encounter"):
        total_of(("screenings", "total"), [("screenings", key, c) for c in screenings[key]])
    return found


@dataclass
class Attack:
    """What the attacker got: cells known exactly, and how many cells were attacked with a
    model the publication did not refute (a noisy release can make the facts and the 95 %
    intervals contradict each other: then that cell's attack learns nothing)."""

    recovered: dict[Path, int] = field(default_factory=dict)
    attacked: int = 0
    consistent: int = 0
    narrowest: float = float("inf")  # smallest (range width / published interval width)


def recovered_cells(
    published: dict[str, Any],
    truth: dict[str, Any],
    *,
    one_form_each: bool,
    targets: set[Path] | None = None,
) -> Attack:
    """Attack every cell not published exactly: linear programming over the relations that
    hold it and the relations those touch (two steps), with what is known of each cell."""
    known = ranges(published)
    found = [r for r in relations(published, one_form_each) if all(p in known for p in r)]
    touching: dict[Path, list[int]] = {}
    for i, relation in enumerate(found):
        for path in relation:
            touching.setdefault(path, []).append(i)
    uncertain = [p for p in sorted(known) if known[p][0] != known[p][1]]
    if targets is not None:
        uncertain = [p for p in uncertain if p in targets]
    attack = Attack(attacked=len(uncertain))
    for path in uncertain:
        chosen = set(touching.get(path, []))
        for i in list(chosen):
            for other in found[i]:
                chosen.update(touching.get(other, []))
        paths = sorted({p for i in chosen for p in found[i]} | {path})
        index = {p: j for j, p in enumerate(paths)}
        rows = []
        for i in sorted(chosen):
            row = [0.0] * len(paths)
            for p, coefficient in found[i].items():
                row[index[p]] += coefficient
            rows.append(row)
        bounds = [known[p] for p in paths]
        objective = [0.0] * len(paths)
        objective[index[path]] = 1.0
        least = linprog(objective, A_eq=rows or None, b_eq=[0.0] * len(rows) or None, bounds=bounds)
        if least.status != 0:
            continue  # the facts contradict the published intervals: nothing is pinned
        objective[index[path]] = -1.0
        most = linprog(objective, A_eq=rows or None, b_eq=[0.0] * len(rows) or None, bounds=bounds)
        attack.consistent += 1
        low, high = least.fun, -most.fun
        own = known[path][1] - known[path][0]
        if own < BIG:
            attack.narrowest = min(attack.narrowest, (high - low) / own if own else 1.0)
        true_value = lookup(truth, path)
        if (
            high - low < 1 - 1e-6
            and true_value is not None
            and low - 1e-6 <= true_value <= high + 1e-6
        ):
            attack.recovered[path] = int(true_value)
    return attack


def differenced(
    both: dict[str, Any], one: dict[str, Any], truth_other: dict[str, Any]
) -> dict[Path, int]:
    """Cells of the other state recovered exactly as (both states) minus (one state): the
    difference of the published ranges is less than 1 wide and holds the true value, and
    that value is small (from 1 to 4: what suppression was meant to hide)."""
    known_both, known_one = ranges(both), ranges(one)
    found: dict[Path, int] = {}
    for path, (low_both, high_both) in known_both.items():
        if path not in known_one:
            continue
        low_one, high_one = known_one[path]
        low, high = max(0, low_both - high_one), high_both - low_one
        true_value = lookup(truth_other, path)
        if (
            isinstance(true_value, int)
            and 0 < true_value < 5
            and high - low < 1
            and low <= true_value <= high
        ):
            found[path] = true_value
    return found
