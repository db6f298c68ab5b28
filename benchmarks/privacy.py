"""Accuracy of the differentially private releases on the report's 2024 table (issue 15).

    .venv/bin/python benchmarks/privacy.py [--runs 200] [--epsilon 2]

Takes the report's 2024 figures from seeds/demo.yaml (860 victims by form and men, women,
boys, girls; 49 foreign victims by nationality), releases them through the app's own code
(referral.stats.releases: bounded tables, OpenDP's discrete Laplace mechanism,
post-processing, 95 % margins) ``--runs`` times at the default epsilon, and reports:

1. per cell: the true count, the published 95 % margin, the mean absolute error over the
   runs and how often the published interval held the true count;
2. the attack of issue 15 rerun on every release (tests/stats/attacks.py: linear
   programming with the published intervals and "each victim has exactly one form", true
   of this table): cells recovered exactly, and the narrowest range the attacker got,
   relative to the cell's own published interval;
3. the synthetic microdata (referral.stats.synthetic) drawn from marginals released from
   the same victims: mean absolute error of its counts by form and men/women/boys/girls.
No database is needed: the counts are the report's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from referral.seeds.loader import load_rules  # noqa: E402
from referral.stats import releases  # noqa: E402
from referral.stats.bounded import pair, public_codes  # noqa: E402
from referral.stats.microdata import COLUMNS, EXPLOITATION_FLAGS  # noqa: E402
from referral.stats.models import PrivacyRelease  # noqa: E402
from referral.stats.regions import load_regions  # noqa: E402
from referral.stats.synthetic import (  # noqa: E402
    count_marginals,
    release_marginals,
    sample_rows,
)
from tests.stats.attacks import recovered_cells  # noqa: E402

CATEGORIES = ("men", "women", "boys", "girls", "unknown")
FORM_FLAG = {
    "sexual_exploitation": "isSexualExploit",
    "forced_labor": "isForcedLabour",
    "unspecified": "isNotSpecifiedExploit",
}


class Catalogue:
    def __init__(self, seeds: Any) -> None:
        self.seeds = seeds


def table_2024(demo: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The report's table; the victims of a form not split by sex and age (the report's
    splits are "at least") are counted as "unknown", so the forms add up to 860."""
    table = {}
    for form, row in demo["victims_2024"].items():
        cells = {c: int(n) for c, n in row.items()}
        cells["unknown"] = int(demo["totals_2024"][form]) - sum(cells.values())
        table[form] = cells
    return table


def report_counts() -> tuple[dict[str, dict[str, int]], dict[str, Any]]:
    demo = yaml.safe_load((ROOT / "seeds" / "demo.yaml").read_text(encoding="utf-8"))
    grid: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for form, row in table_2024(demo).items():
        for category, n in row.items():
            grid[pair(form, category)] = n
            by_category[category] = by_category.get(category, 0) + n
    foreign = {code: int(n) for code, n in demo["foreign_victims_2024"].items()}
    counts = {
        "victims_by_category": by_category,
        "victims_by_form": grid,
        "foreign_by_nationality": foreign,
    }
    return counts, demo


def as_release(numbers: dict[str, Any], epsilon: float) -> PrivacyRelease:
    return PrivacyRelease(
        year=2024, scope="national", table_name="summary", epsilon=epsilon, edition=1,
        states=[], numbers=numbers,
    )  # fmt: skip


def truth_summary(counts: dict[str, dict[str, int]], codes: dict[str, Any]) -> dict[str, Any]:
    """The exact counts laid out as a public summary (scale 1 is a placeholder)."""
    from referral.stats.bounded import table_specs

    tables = {
        spec.name: {"cells": dict(counts.get(spec.name, {})), "scale": 1.0}
        for spec in table_specs(codes)
    }
    return releases.assemble_summary([as_release({"tables": tables}, 1.0)], codes, 2024, "national")


def victim_rows(demo: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One CTDC row per victim of the report's table (ages and places assumed)."""
    rows = []
    foreign = [code for code, n in demo["foreign_victims_2024"].items() for _ in range(n)]
    for form, row in table_2024(demo).items():
        for category, n in row.items():
            for _ in range(n):
                value: dict[str, Any] = dict.fromkeys(COLUMNS, 0)
                minor = category in ("boys", "girls")
                value.update(
                    yearOfRegistration=2024,
                    gender="Unknown"
                    if category == "unknown"
                    else ("Male" if category in ("men", "boys") else "Female"),
                    majorityStatus="Minor" if minor else "Adult",
                    ageBroad="9--17"
                    if minor
                    else ("Unknown" if category == "unknown" else "30--38"),
                    citizenship="south_america" if foreign and foreign.pop() else "mexico",
                    region="central",
                    screeningStatus="likely",
                    typeOfExploitConcatenated=form,
                )
                value[FORM_FLAG[form]] = 1
                rows.append(tuple(value[c] for c in COLUMNS))
    return rows


def synthetic_table(rows: list[tuple[Any, ...]]) -> dict[str, int]:
    index = {name: i for i, name in enumerate(COLUMNS)}
    table: dict[str, int] = {}
    for row in rows:
        if row[index["screeningStatus"]] != "likely":
            continue
        male = row[index["gender"]] == "Male"
        minor = row[index["majorityStatus"]] == "Minor"
        if row[index["gender"]] == "Unknown" or (row[index["ageBroad"]] == "Unknown" and not minor):
            category = "unknown"
        else:
            category = ("boys" if male else "girls") if minor else ("men" if male else "women")
        for form, flag in FORM_FLAG.items():
            if row[index[flag]]:
                table[pair(form, category)] = table.get(pair(form, category), 0) + 1
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--epsilon", type=float, default=releases.DEFAULT_EPSILON)
    parser.add_argument("--synthetic-runs", type=int, default=50)
    args = parser.parse_args()
    _states, seeds = load_rules(ROOT / "seeds")
    codes = public_codes(Catalogue(seeds))
    counts, demo = report_counts()
    truth = truth_summary(counts, codes)

    cells = [("victims", "total")]
    cells += [("victims", "by_form", f, c) for f in demo["victims_2024"] for c in CATEGORIES]
    cells += [("victims", "by_form", f, "total") for f in demo["victims_2024"]]
    cells += [("foreign_victims", "total")]
    cells += [("foreign_victims", "by_nationality", n) for n in demo["foreign_victims_2024"]]

    def get(node: Any, path: tuple[str, ...]) -> Any:
        for key in path:
            node = node[key]
        return node

    errors: dict[tuple[str, ...], list[int]] = {c: [] for c in cells}
    covered: dict[tuple[str, ...], int] = dict.fromkeys(cells, 0)
    margins: dict[tuple[str, ...], int] = {}
    recovered = 0
    narrowest = float("inf")
    targets = set(cells)
    for run in range(args.runs):
        numbers = releases.release_summary_tables(counts, codes, args.epsilon)
        published = releases.assemble_summary(
            [as_release(numbers, args.epsilon)], codes, 2024, "national"
        )
        for cell in cells:
            value, true = get(published, cell), get(truth, cell)
            low, high = get(published["privacy"]["intervals"], cell)
            margins[cell] = get(published["privacy"]["margins"], cell)
            errors[cell].append(abs(value - true))
            covered[cell] += low <= true <= high
        if run < 40:  # the linear programmes are the slow part
            attack = recovered_cells(published, truth, one_form_each=True, targets=targets)
            recovered += len(attack.recovered)
            narrowest = min(narrowest, attack.narrowest)

    print(f"epsilon {args.epsilon:g} per release, {args.runs} releases of the report's 2024 table")
    print("| cell | true | 95 % margin (±) | mean absolute error | interval held the truth |")
    print("|---|---|---|---|---|")
    for cell in cells:
        name = " / ".join(cell[1:]) if cell[0] == "victims" else "foreign / " + " / ".join(cell[1:])
        print(
            f"| {name} | {get(truth, cell)} | {margins[cell]} | "
            f"{statistics.mean(errors[cell]):.1f} | {100 * covered[cell] / args.runs:.0f} % |"
        )
    inner = [c for c in cells if c[-1] in CATEGORIES]
    print(
        f"\nmean absolute error over the 15 form x category cells: "
        f"{statistics.mean(e for c in inner for e in errors[c]):.2f}"
    )
    print(
        f"attack (40 releases): {recovered} cells recovered exactly; narrowest attacker range "
        f"= {narrowest:.2f} x the cell's own published interval"
    )

    regions = load_regions(ROOT / "seeds")
    rows = victim_rows(demo)
    true_marginals = count_marginals(iter(rows))
    true_table = synthetic_table(rows)
    synthetic_errors = []
    sizes = []
    for _ in range(args.synthetic_runs):
        numbers = release_marginals(true_marginals, regions, args.epsilon)
        numbers["region"] = None
        synthetic = sample_rows(numbers, regions, 2024)
        sizes.append(len(synthetic))
        got = synthetic_table(synthetic)
        synthetic_errors += [abs(got.get(key, 0) - n) for key, n in true_table.items()]
    print(
        f"synthetic microdata ({args.synthetic_runs} releases): rows {statistics.mean(sizes):.0f}"
        f" for 860 victims; mean absolute error of the 15 form x category counts "
        f"{statistics.mean(synthetic_errors):.2f}; columns: {len(EXPLOITATION_FLAGS)} form flags"
        f" and the rest of CTDC's"
    )


if __name__ == "__main__":
    main()
