"""Differentially private synthetic microdata with CTDC's columns (issue 15).

Rows are not people: they are drawn from marginal tables released with OpenDP on the
privacy ledger (table ``synthetic``), as CTDC itself moved to synthetic data. The model is
fixed before looking at any data (a small Bayesian network):

- **root**: screening status x gender x minor/adult x age known x forms of exploitation
  (the five CTDC form flags). Its released counts, whole numbers, are the rows: as many
  rows of each combination as the release says, so the annual table (victims by form and
  men, women, boys, girls) comes from one table with little noise.
- **age band** given gender and minor/adult: from the table age band x minor/adult x gender;
- **citizenship** (world region) given the forms; **region of Mexico** given citizenship;
- each **means of control**, **abduction** and **recruitment** flag given the forms.
Each case adds exactly 1 to each table, and each table gets its share of epsilon.
Drawing rows from the released tables is post-processing: it costs no privacy. The draw
uses a seed stored with the release, so the file is the same every time it is asked for.
"""

from __future__ import annotations

import csv
import random
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

from sqlmodel import Session

from referral.rules.contract import INDICATED_STATUSES
from referral.stats import privacy
from referral.stats.microdata import (
    AGE_BANDS,
    AGE_OLDEST,
    COLUMNS,
    EXPLOITATION_FLAGS,
    EXPLOITATION_NAMES,
    MEANS_OF_CONTROL,
    RECRUITMENT,
    UNKNOWN,
    MicrodataExport,
    sort_key,
)
from referral.stats.operations import Scope
from referral.stats.regions import Regions

SYNTHETIC = "synthetic"
GENDERS = ("Female", "Male", UNKNOWN)
MAJORITY = ("Minor", "Adult")
AGES = (*(label for _upper, label in AGE_BANDS), AGE_OLDEST, UNKNOWN)
MINOR_AGES = ("0--8", "9--17")
FORM_COLUMNS = tuple(EXPLOITATION_FLAGS)
SIGNATURES = tuple(format(i, "05b") for i in range(2 ** len(FORM_COLUMNS)))
FLAG_COLUMNS = (*MEANS_OF_CONTROL, "isAbduction", *RECRUITMENT)
ROOT_SHARE, AGE_SHARE, PLACE_SHARE, FLAGS_SHARE = 0.4, 0.1, 0.2, 0.3

index_of = {name: i for i, name in enumerate(COLUMNS)}


def domains(regions: Regions) -> dict[str, tuple[str, ...]]:
    citizenship = regions.nationalities.codes()
    region = regions.states.codes()
    return {
        "citizenship": citizenship if "unknown" in citizenship else (*citizenship, "unknown"),
        "region": region if "unknown" in region else (*region, "unknown"),
    }


def _key(*parts: Any) -> str:
    return "|".join(str(p) for p in parts)


def marginal_keys(regions: Regions) -> dict[str, tuple[tuple[str, ...], float]]:
    """Every marginal table: its cells (fixed in advance) and its share of epsilon."""
    d = domains(regions)
    tables: dict[str, tuple[tuple[str, ...], float]] = {
        "root": (
            tuple(
                _key(s, g, m, k, f)
                for s in INDICATED_STATUSES
                for g in GENDERS
                for m in MAJORITY
                for k in (0, 1)
                for f in SIGNATURES
            ),
            ROOT_SHARE,
        ),
        "age": (tuple(_key(a, m, g) for a in AGES for m in MAJORITY for g in GENDERS), AGE_SHARE),
        "citizenship": (
            tuple(_key(f, c) for f in SIGNATURES for c in d["citizenship"]),
            PLACE_SHARE / 2,
        ),
        "region": (
            tuple(_key(c, r) for c in d["citizenship"] for r in d["region"]),
            PLACE_SHARE / 2,
        ),
    }
    for flag in FLAG_COLUMNS:
        tables[flag] = (
            tuple(_key(f, v) for f in SIGNATURES for v in (0, 1)),
            FLAGS_SHARE / len(FLAG_COLUMNS),
        )
    return tables


def count_marginals(rows: Iterator[tuple[Any, ...]]) -> dict[str, dict[str, int]]:
    """The true marginal counts of the records' CTDC rows (one pass)."""
    counts: dict[str, dict[str, int]] = {}

    def add(table: str, key: str) -> None:
        cells = counts.setdefault(table, {})
        cells[key] = cells.get(key, 0) + 1

    for row in rows:
        value = {name: row[i] for name, i in index_of.items()}
        signature = "".join(str(int(value[f])) for f in FORM_COLUMNS)
        known = 0 if value["ageBroad"] == UNKNOWN else 1
        add(
            "root",
            _key(
                value["screeningStatus"], value["gender"], value["majorityStatus"], known, signature
            ),
        )
        add("age", _key(value["ageBroad"], value["majorityStatus"], value["gender"]))
        add("citizenship", _key(signature, value["citizenship"]))
        add("region", _key(value["citizenship"], value["region"]))
        for flag in FLAG_COLUMNS:
            add(flag, _key(signature, int(value[flag])))
    return counts


def release_marginals(
    counts: dict[str, dict[str, int]], regions: Regions, epsilon: float
) -> dict[str, Any]:
    """Each marginal with noise (its share of epsilon), post-processed; and the seed."""
    tables = {}
    for name, (keys, share) in marginal_keys(regions).items():
        cells = {k: v for k, v in counts.get(name, {}).items() if k in set(keys)}
        noisy = privacy.noisy_table(cells, keys, 1, epsilon * share)
        released = privacy.finish(noisy)
        tables[name] = {k: v for k, v in released.cells.items() if v}
    return {"marginals": tables, "seed": secrets.randbits(63)}


def synthetic_compute(regions: Regions, dimensions: Mapping[str, str]) -> Any:
    """The ledger's compute function: count one unit's marginals, release them."""

    def compute(session: Session, year: int, state: str | None, epsilon: float) -> dict[str, Any]:
        scope = Scope() if state is None else Scope((state,))
        run = MicrodataExport(session, regions, dimensions, scope, k=1, l=1, year=year)
        numbers = release_marginals(count_marginals(run.every_row()), regions, epsilon)
        # A state's rows all lie in its region: the scope says so, the data need not.
        numbers["region"] = None if state is None else regions.states.region_of(state)
        return numbers

    return compute


def _draw(rng: random.Random, weights: dict[str, int], fallback: Sequence[str]) -> str:
    total = sum(weights.values())
    if total <= 0:
        return rng.choice(list(fallback))
    pick = rng.randrange(total)
    for key, weight in weights.items():
        pick -= weight
        if pick < 0:
            return key
    return next(iter(weights))  # pragma: no cover - the weights add up to total


def sample_rows(numbers: dict[str, Any], regions: Regions, year: int) -> list[tuple[Any, ...]]:
    """The synthetic rows of one release, in COLUMNS order (a pure function of the release)."""
    d = domains(regions)
    marginals = numbers["marginals"]
    rng = random.Random(numbers["seed"])  # noqa: S311  (post-processing: privacy is in the marginals)

    def conditional(table: str, parent: str) -> dict[str, int]:
        prefix = parent + "|"
        return {
            key[len(prefix) :]: int(n)
            for key, n in sorted(marginals.get(table, {}).items())
            if key.startswith(prefix)
        }

    def column_totals(table: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for key, n in sorted(marginals.get(table, {}).items()):
            child = key.rsplit("|", 1)[1]
            out[child] = out.get(child, 0) + int(n)
        return out

    age_cells = marginals.get("age", {})
    rows: list[tuple[Any, ...]] = []
    for key, count in sorted(marginals.get("root", {}).items()):
        status, gender, majority, known, signature = key.split("|")
        allowed = (
            (
                MINOR_AGES
                if majority == "Minor"
                else tuple(a for a in AGES[:-1] if a not in MINOR_AGES)
            )
            if known == "1"
            else (UNKNOWN,)
        )
        ages = {a: int(age_cells.get(_key(a, majority, gender), 0)) for a in allowed}
        nationality = conditional("citizenship", signature) or column_totals("citizenship")
        flags = {f: conditional(f, signature) or column_totals(f) for f in FLAG_COLUMNS}
        for _ in range(int(count)):
            citizenship = _draw(rng, nationality, d["citizenship"])
            region = numbers.get("region") or _draw(
                rng, conditional("region", citizenship) or column_totals("region"), d["region"]
            )
            value: dict[str, Any] = {
                "yearOfRegistration": year,
                "gender": gender,
                "ageBroad": _draw(rng, ages, allowed),
                "majorityStatus": majority,
                "citizenship": citizenship,
                "region": region,
                "screeningStatus": status,
            }
            for flag, bit in zip(FORM_COLUMNS, signature, strict=True):
                value[flag] = int(bit)
            value["typeOfExploitConcatenated"] = ";".join(
                EXPLOITATION_NAMES[f] for f in FORM_COLUMNS if value[f]
            )
            for flag in FLAG_COLUMNS:
                value[flag] = int(_draw(rng, flags[flag], ("0", "1")))
            value["meansOfControlNotSpecified"] = (
                0 if any(value[m] for m in MEANS_OF_CONTROL) else 1
            )
            rows.append(tuple(value[c] for c in COLUMNS))
    return rows


def write_synthetic(
    out: IO[str], releases: Sequence[Any], regions: Regions, tick: Callable[[], None]
) -> int:
    """Every release's rows (one per state, or the country), sorted by written values."""
    counts: dict[str, int] = {}
    for release in releases:
        for row in sample_rows(release.numbers, regions, release.year):
            key = sort_key(row)
            counts[key] = counts.get(key, 0) + 1
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    written_rows = 0
    for key in sorted(counts):
        text = key.split("\x00")
        for _ in range(counts[key]):
            writer.writerow(text)
            written_rows += 1
            tick()
    return written_rows
