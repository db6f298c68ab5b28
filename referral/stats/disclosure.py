"""Disclosure control of published tables: primary and complementary cell suppression. Pure.

A published summary is a set of **cells** (counts, addressed by their path in the JSON) and
**constraints**: linear relations a reader can use, each "the cells with coefficient +1 sum
to the cells with coefficient -1" (a row sums to its total, the totals to the grand total).

Primary suppression hides every cell from 1 to ``threshold - 1``. Complementary suppression
then hides more cells until no hidden cell can be worked out:
- no constraint may hold exactly one hidden cell (it would be its total minus the rest);
- a constraint whose hidden cells sit on one side must leave them more than one way to add
  up: a reader knows a hidden count is at least 1 (zeros are shown), so hidden cells summing
  to their own number would each be 1;
- no hidden cell may follow from the constraints together, counting what a reader knows of
  the bounds (a count is never negative, and at least 1 when no zero was hidden): each
  hidden cell's least and greatest possible value are computed by linear programming
  (scipy's HiGHS), and a cell whose two bounds are less than 1 apart is exposed.
Complementary cells are the smallest non-zero cells of the constraint, inner cells before
totals, so the published tables lose as little as possible.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Cell = tuple[str, ...]


@dataclass(frozen=True)
class Constraint:
    """sum(coefficient * value) == 0 over its cells; +1 for parts, -1 for their total."""

    terms: tuple[tuple[Cell, int], ...]


@dataclass
class TableSystem:
    values: dict[Cell, int] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)

    def add(self, cell: Cell, value: int) -> Cell:
        self.values[cell] = int(value)
        return cell

    def total_of(self, total: Cell, parts: Sequence[Cell]) -> None:
        """``total`` is the sum of ``parts`` (a row, a column, or a table's grand total)."""
        if parts:
            self.constraints.append(Constraint((*((p, 1) for p in parts), (total, -1))))


@dataclass(frozen=True)
class Suppression:
    primary: frozenset[Cell]
    complementary: frozenset[Cell]

    @property
    def cells(self) -> frozenset[Cell]:
        return self.primary | self.complementary


def protect(system: TableSystem, threshold: int) -> Suppression:
    """Which cells to hide so that none from 1 to threshold - 1 is shown or can be derived."""
    values = system.values
    primary = {cell for cell, value in values.items() if 0 < value < threshold}
    hidden = set(primary)
    if not hidden:
        return Suppression(frozenset(), frozenset())
    while True:
        if _enforce_constraints(system, hidden):
            continue
        determined = exposed_cells(system, hidden)
        if not determined or len(hidden) == len(values):
            break
        for cell in sorted(determined):
            if not _hide_one_near(system, hidden, cell):
                _hide_smallest(system, hidden)
            break
    return Suppression(frozenset(primary), frozenset(hidden - primary))


def _candidates(system: TableSystem, constraint: Constraint, hidden: set[Cell]) -> list[Cell]:
    visible = [(cell, coefficient) for cell, coefficient in constraint.terms if cell not in hidden]
    return [
        cell
        for cell, coefficient in sorted(
            visible,
            key=lambda term: (
                system.values[term[0]] == 0,  # a shown zero is harmless: hide it last
                term[1] < 0,  # keep totals when a part will do
                system.values[term[0]],
                term[0],
            ),
        )
    ]


def _enforce_constraints(system: TableSystem, hidden: set[Cell]) -> bool:
    """Apply the two per-constraint rules once; True when a cell was hidden."""
    changed = False
    for constraint in system.constraints:
        inside = [(cell, k) for cell, k in constraint.terms if cell in hidden]
        if not inside:
            continue
        exposed = len(inside) == 1
        if not exposed and len({k for _cell, k in inside}) == 1:
            residual = sum(system.values[cell] for cell, _k in inside)
            exposed = residual <= len(inside)
        if exposed:
            candidates = _candidates(system, constraint, hidden)
            if candidates:
                hidden.add(candidates[0])
                changed = True
    return changed


def _hide_one_near(system: TableSystem, hidden: set[Cell], cell: Cell) -> bool:
    for constraint in system.constraints:
        if any(c == cell for c, _k in constraint.terms):
            candidates = _candidates(system, constraint, hidden)
            if candidates:
                hidden.add(candidates[0])
                return True
    return False


def _hide_smallest(system: TableSystem, hidden: set[Cell]) -> None:
    visible = [c for c in system.values if c not in hidden]
    if visible:
        hidden.add(min(visible, key=lambda c: (system.values[c] == 0, system.values[c], c)))


def exposed_cells(system: TableSystem, hidden: Iterable[Cell]) -> set[Cell]:
    """Hidden cells a reader can pin to one value from the shown cells, the relations and the
    bounds (never negative; at least 1 when no hidden cell is a zero)."""
    from scipy.optimize import linprog

    unknowns = sorted(set(hidden))
    if not unknowns:
        return set()
    index = {cell: i for i, cell in enumerate(unknowns)}
    rows: list[list[float]] = []
    rhs: list[float] = []
    for constraint in system.constraints:
        row = [0.0] * len(unknowns)
        known = 0.0
        touched = False
        for cell, coefficient in constraint.terms:
            if cell in index:
                row[index[cell]] += coefficient
                touched = True
            else:
                known += coefficient * system.values[cell]
        if touched:
            rows.append(row)
            rhs.append(-known)
    lowest = 1 if all(system.values[cell] > 0 for cell in unknowns) else 0
    bounds = [(lowest, None)] * len(unknowns)
    exposed = set()
    for i, cell in enumerate(unknowns):
        objective = [0.0] * len(unknowns)
        objective[i] = 1.0
        least = linprog(objective, A_eq=rows or None, b_eq=rhs or None, bounds=bounds)
        objective[i] = -1.0
        most = linprog(objective, A_eq=rows or None, b_eq=rhs or None, bounds=bounds)
        if least.status == 0 and most.status == 0 and (-most.fun) - least.fun < 1 - 1e-9:
            exposed.add(cell)
    return exposed


def determined_cells(system: TableSystem, hidden: Iterable[Cell]) -> set[Cell]:
    """The hidden cells a reader can compute exactly from the shown cells and the constraints."""
    unknowns = sorted(set(hidden))
    index = {cell: i for i, cell in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for constraint in system.constraints:
        row = [Fraction(0)] * len(unknowns)
        touched = False
        for cell, coefficient in constraint.terms:
            if cell in index:
                row[index[cell]] += coefficient
                touched = True
        if touched:
            rows.append(row)
    pivots = _rref(rows, len(unknowns))
    determined = set()
    for row_index, column in pivots:
        if sum(1 for value in rows[row_index] if value != 0) == 1:
            determined.add(unknowns[column])
    return determined


def _rref(rows: list[list[Fraction]], width: int) -> list[tuple[int, int]]:
    """Reduce ``rows`` in place to reduced row echelon form; the (row, column) pivots."""
    pivots: list[tuple[int, int]] = []
    top = 0
    for column in range(width):
        pivot = next((r for r in range(top, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[top], rows[pivot] = rows[pivot], rows[top]
        lead = rows[top][column]
        rows[top] = [value / lead for value in rows[top]]
        for r in range(len(rows)):
            if r != top and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[top], strict=True)]
        pivots.append((top, column))
        top += 1
        if top == len(rows):
            break
    return pivots


# --- the annual summary as tables --------------------------------------------------------


def summary_system(summary: dict[str, Any]) -> TableSystem:
    """Every count of an annual summary as a cell, with the relations a reader can use.

    A victim with several forms counts in each, so form totals do not add up to the victims'
    total, and a gap with several reasons counts under each: those relations do not exist
    and are not constraints. Referrals by status and by need share their total.
    """
    system = TableSystem()
    victims = summary["victims"]
    system.add(("victims", "total"), victims["total"])
    for form, row in victims["by_form"].items():
        total = system.add(("victims", "by_form", form, "total"), row["total"])
        parts = [
            system.add(("victims", "by_form", form, key), value)
            for key, value in row.items()
            if key != "total"
        ]
        system.total_of(total, parts)

    _one_way(system, ("foreign_victims",), summary["foreign_victims"], "by_nationality")
    referrals = summary["referrals"]
    _one_way(system, ("referrals",), referrals, "by_status")
    _one_way(system, ("referrals",), referrals, "by_need")

    services = summary["services_received_by_form"]
    for form, entry in services.items():
        _one_way(system, ("services_received_by_form", form), entry, "by_need")

    gaps = summary["gaps"]
    _one_way(system, ("gaps",), gaps, "by_kind")
    for need, reasons in gaps["by_need"].items():
        for reason, value in reasons.items():
            system.add(("gaps", "by_need", need, reason), value)

    screenings = summary["screenings"]
    _one_way(system, ("screenings",), screenings, "by_status")
    _one_way(system, ("screenings",), screenings, "by_encounter")
    return system


def _one_way(system: TableSystem, prefix: Cell, entry: dict[str, Any], key: str) -> None:
    total = system.add((*prefix, "total"), entry["total"])
    parts = [system.add((*prefix, key, code), value) for code, value in entry[key].items()]
    system.total_of(total, parts)


def apply_suppression(summary: dict[str, Any], cells: Iterable[Cell]) -> dict[str, Any]:
    """A copy of ``summary`` with each hidden cell set to None."""
    published = copy.deepcopy(summary)
    for cell in cells:
        node = published
        for key in cell[:-1]:
            node = node[key]
        node[cell[-1]] = None
    return published


def public_summary(summary: dict[str, Any], threshold: int) -> tuple[dict[str, Any], int]:
    """The summary with disclosure control applied, and how many cells were suppressed."""
    suppression = protect(summary_system(summary), threshold)
    return apply_suppression(summary, suppression.cells), len(suppression.cells)
