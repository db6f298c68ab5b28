"""Cell suppression: no small count shown, and no hidden count can be solved back.

The attacker here is written independently of referral.stats.disclosure: it enumerates
every table of non-negative whole numbers that agrees with what was published (the shown
cells and all the totals' relations) and checks that each hidden cell could take at least
two values.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from referral.stats.disclosure import TableSystem, protect, public_summary, summary_system

THRESHOLD = 5


def grid_system(values: list[list[int]]) -> TableSystem:
    """A table with its row totals, column totals and grand total, all published."""
    system = TableSystem()
    rows, cols = len(values), len(values[0])
    cells = [
        [system.add(("c", str(i), str(j)), values[i][j]) for j in range(cols)] for i in range(rows)
    ]
    row_totals = [system.add(("row", str(i)), sum(values[i])) for i in range(rows)]
    col_totals = [
        system.add(("col", str(j)), sum(values[i][j] for i in range(rows))) for j in range(cols)
    ]
    grand = system.add(("all",), sum(map(sum, values)))
    for i in range(rows):
        system.total_of(row_totals[i], cells[i])
    for j in range(cols):
        system.total_of(col_totals[j], [cells[i][j] for i in range(rows)])
    system.total_of(grand, row_totals)
    system.total_of(grand, col_totals)
    return system


def possible_values(system: TableSystem, hidden: set, lowest: int) -> dict:
    """Every value each hidden cell takes in some table consistent with the publication."""
    unknown = sorted(hidden)
    # The largest value any cell holds bounds the search (an attacker stronger than a real
    # reader); never below the threshold, since a reader cannot rule out counts up to it.
    ceiling = max(*system.values.values(), THRESHOLD)
    seen: dict = {cell: set() for cell in unknown}
    assignment: dict = {cell: v for cell, v in system.values.items() if cell not in hidden}
    constraints = system.constraints

    def consistent() -> bool:
        for constraint in constraints:
            complete = all(cell in assignment for cell, _k in constraint.terms)
            if complete and sum(k * assignment[cell] for cell, k in constraint.terms) != 0:
                return False
        return True

    def search(i: int) -> None:
        if i == len(unknown):
            for cell in unknown:
                seen[cell].add(assignment[cell])
            return
        cell = unknown[i]
        for value in range(lowest, ceiling + 1):
            assignment[cell] = value
            if consistent():
                search(i + 1)
            del assignment[cell]

    search(0)
    return seen


tables = st.integers(2, 3).flatmap(
    lambda rows: st.integers(2, 3).flatmap(
        lambda cols: st.lists(
            st.lists(st.integers(0, 9), min_size=cols, max_size=cols),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_hidden_cells_cannot_be_solved_from_the_totals(values) -> None:
    system = grid_system(values)
    suppression = protect(system, THRESHOLD)
    hidden = set(suppression.cells)
    for cell, value in system.values.items():
        if 0 < value < THRESHOLD:
            assert cell in hidden, (cell, value)
    if not hidden or len(hidden) > 7:
        return  # nothing to attack, or too many unknowns to enumerate quickly
    # The reader may know that hidden cells are never zero when no zero was hidden.
    lowest = 1 if all(system.values[c] > 0 for c in hidden) else 0
    values_seen = possible_values(system, hidden, lowest)
    for cell in hidden:
        assert system.values[cell] in values_seen[cell]
        assert len(values_seen[cell]) >= 2, f"{cell} can be solved: {values_seen[cell]}"


def test_a_lone_small_cell_takes_a_partner_in_its_row_and_column() -> None:
    system = grid_system([[3, 7, 8], [6, 9, 9]])
    hidden = protect(system, THRESHOLD).cells
    assert ("c", "0", "0") in hidden
    assert len(hidden) == 4  # a rectangle: two in each row and column touched


def test_two_ones_in_a_row_are_not_enough() -> None:
    # 1 and 1 hidden beside a shown row total would each have to be 1.
    system = grid_system([[1, 1, 9], [8, 9, 9]])
    hidden = protect(system, THRESHOLD).cells
    row = {c for c in hidden if c[:2] == ("c", "0")}
    assert len(row) >= 3 or ("row", "0") in hidden


def test_summary_suppression_counts_and_nulls() -> None:
    summary = {
        "year": 2024,
        "victims": {
            "total": 14,
            "by_form": {
                "forced_labor": {
                    "total": 14,
                    "men": 2,
                    "women": 6,
                    "boys": 0,
                    "girls": 0,
                    "unknown": 6,
                },
            },
        },
        "foreign_victims": {"total": 3, "by_nationality": {"GT": 3}},
        "referrals": {
            "total": 12,
            "by_status": {"accepted": 9, "rejected": 3},
            "by_need": {"shelter": 12},
        },
        "services_received_by_form": {"forced_labor": {"total": 9, "by_need": {"shelter": 9}}},
        "gaps": {
            "total": 6,
            "by_kind": {"routing": 6},
            "by_need": {"shelter": {"sex": 4, "coverage": 6}},
        },
        "screenings": {
            "total": 30,
            "by_status": {"likely": 14, "possible": 16},
            "by_encounter": {"hotline": 30},
        },
    }
    published, count = public_summary(summary, THRESHOLD)
    row = published["victims"]["by_form"]["forced_labor"]
    assert row["men"] is None and (row["women"] is None or row["unknown"] is None)
    assert published["foreign_victims"] == {"total": None, "by_nationality": {"GT": None}}
    assert published["referrals"]["by_status"]["rejected"] is None
    assert published["referrals"]["by_status"]["accepted"] is None  # its partner
    assert published["gaps"]["by_need"]["shelter"] == {"sex": None, "coverage": 6}
    nulls = 0

    def walk(node):
        nonlocal nulls
        for value in node.values():
            if isinstance(value, dict):
                walk(value)
            elif value is None:
                nulls += 1

    walk(published)
    assert nulls == count
    # Nothing in the published summary can be solved back either.
    system = summary_system(summary)
    hidden = {cell for cell in system.values if _get(published, cell) is None}
    from referral.stats.disclosure import determined_cells

    assert not determined_cells(system, hidden)


def _get(node, path):
    for key in path:
        node = node[key]
    return node
