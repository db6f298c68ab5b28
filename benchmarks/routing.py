"""Routing throughput of the rules core (issue 3, "Speed").

    .venv/bin/python benchmarks/routing.py [--records 2000] [--services 10000]

Measures route_case on one core: with the seeded directory (goal >= 5,000 screenings/s),
and with a generated directory of N services (goal < 2 ms per screening for the decision,
include_excluded=False, and < 10 ms with the complete excluded listing). Records and the
generated directory are deterministic (fixed random seed).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from referral.rules import (  # noqa: E402
    Catalogue,
    ScreeningRecord,
    build_catalogue,
    parse_rule_seeds,
    parse_services,
    route_case,
    validate_record,
)
from referral.rules.contract import CODE_LISTS, INDICATORS  # noqa: E402
from referral.seeds.languages import iso639_table  # noqa: E402


def load(name: str) -> Any:
    return yaml.safe_load((ROOT / "seeds" / name).read_text(encoding="utf-8"))


def generated_directory(n: int, states: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """N services with realistic, repetitive constraints (most share a handful of profiles)."""
    needs = list(CODE_LISTS["needs"])
    weights = [30 if n == "shelter" else 5 for n in needs]
    out = []
    for i in range(n):
        need = rng.choices(needs, weights)[0]
        gov = rng.random() < 0.5
        min_age, max_age = rng.choice(
            [(None, None), (None, None), (18, None), (None, 17), (12, 17)]
        )
        out.append(
            {
                "id": f"gen-{i:05d}",
                "name": {"es": f"Servicio {i}", "en": f"Service {i}"},
                "need": need,
                "status": rng.choices(
                    ["active", "inactive", "temporarily_closed", "defunct"], [88, 5, 5, 2]
                )[0],
                "operator": "government" if gov else "ngo",
                "coverage": ["national"]
                if rng.random() < 0.03
                else rng.sample(states, rng.choice([1, 1, 2])),
                "min_age": min_age,
                "max_age": max_age,
                "sexes": rng.choice(
                    [["female"], ["female", "male"], ["female", "male", "intersex"]]
                ),
                "male_max_age": rng.choice([None, 13]),
                "accepts_foreign": True if gov else rng.random() < 0.8,
                "languages": rng.choice([["es"], ["es", "en"], ["spa", "tzo"], ["es", "fra"]]),
                "capacity_available": rng.choice([None, None, 0, 3, 10]),
                "requires_complaint": rng.random() < 0.2,
                "requires_victim_status": rng.random() < 0.1,
                "accepts_companions": rng.random() < 0.7,
                "companion_max_age_male": rng.choice([None, 13]),
                "specializations": rng.choice([[], [], ["sexual_exploitation"], ["forced_labor"]]),
                "tags": rng.choice([[], [], ["trafficking_specialized"]])
                + (["country_of_origin"] if need == "consular" and rng.random() < 0.5 else []),
                **(
                    {"nationalities": [rng.choice(["GT", "HN", "MX"])]}
                    if need == "consular"
                    else {}
                ),
                "source": "generated for benchmarks/routing.py",
            }
        )
    return out


def generated_records(
    n: int, states: list[str], codes: Any, rng: random.Random
) -> list[ScreeningRecord]:
    indicators = list(INDICATORS)
    out = []
    for _ in range(n):
        foreign = rng.random() < 0.3
        data = {
            "age": rng.choice([None, rng.randint(0, 17), rng.randint(18, 70), rng.randint(18, 70)]),
            "clearly_adult": rng.random() < 0.5,
            "sex": rng.choices(["female", "male", "intersex", "unknown"], [55, 40, 1, 4])[0],
            "nationality": rng.choice(["GT", "HN", "VE", "CU"])
            if foreign
            else rng.choice(["MX", "MX", "ZZ"]),  # ZZ with status unknown: possibly foreign
            "state": rng.choice([*states, "unknown"]),
            "setting": rng.choice(["urban", "rural", "unknown"]),
            "languages": rng.choice([["es"], ["es"], [], ["tzo"], ["en"], ["fre"], ["es", "tzo"]]),
            "migration_status": rng.choice(["irregular", "asylum_seeker", "regular"])
            if foreign
            else rng.choice(["national", "national", "unknown"]),
            "encounter": rng.choice(list(CODE_LISTS["encounters"])),
            "indicators": rng.sample(indicators, rng.randint(0, 7)),
            "sector": rng.choice([None, "agriculture", "commercial_sex_venue"]),
            "vulnerabilities": rng.sample(list(CODE_LISTS["vulnerabilities"]), rng.randint(0, 2)),
            "companions": [
                {"age": rng.randint(0, 17), "sex": rng.choice(["male", "female"])}
                for _ in range(rng.choice([0, 0, 1, 2]))
            ],
            "needs": rng.sample(
                ["shelter", "medical", "psychological", "legal_aid", "prosecution", "consular"],
                rng.randint(1, 3),
            ),
            "immediate_danger": rng.random() < 0.1,
            "complaint_filed": rng.random() < 0.3,
            "victim_status": rng.random() < 0.1,
            "cross_border": rng.random() < 0.2,
            "organized_crime": rng.random() < 0.2,
            "official_involvement": rng.random() < 0.05,
        }
        out.append(validate_record(data, codes))
    return out


def measure(
    records: list[ScreeningRecord], cat: Catalogue, include_excluded: bool
) -> dict[str, float]:
    for r in records[:200]:  # warm the caches of labels and screenings
        route_case(r, cat, include_excluded=include_excluded)
    times = []
    start = time.perf_counter()
    for r in records:
        t0 = time.perf_counter()
        route_case(r, cat, include_excluded=include_excluded)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    times.sort()
    return {
        "per_s": len(records) / total,
        "mean_ms": statistics.fmean(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95)] * 1000,
        "max_ms": times[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--services", type=int, default=10_000)
    args = parser.parse_args()
    seeds = parse_rule_seeds(load("indicators.yaml"), load("thresholds.yaml"), load("codes.yaml"))
    state_names = {s["code"]: s["name"] for s in load("states.yaml")["states"]}
    states = list(state_names)
    rng = random.Random(20250101)
    seeded = parse_services(load("services.yaml"), seeds, set(states))

    languages = iso639_table()  # loaded once per process, before the catalogue is timed
    t0 = time.perf_counter()
    seeded_cat = build_catalogue(
        seeds, seeded, directory_version="seeds", state_names=state_names, languages=languages
    )
    build_seeded = time.perf_counter() - t0
    generated = parse_services(generated_directory(args.services, states, rng), seeds, set(states))
    t0 = time.perf_counter()
    big_cat = build_catalogue(
        seeds, generated, directory_version="gen", state_names=state_names, languages=languages
    )
    build_big = time.perf_counter() - t0
    groups = sum(len(t.groups) for t in big_cat.tables.values())
    records = generated_records(args.records, states, seeded_cat.codes, rng)

    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"nproc {os.cpu_count()}, one core"
    )
    print(
        f"records: {len(records)}; catalogue build: seeded {build_seeded * 1000:.1f} ms "
        f"({len(seeded)} services), generated {build_big * 1000:.0f} ms "
        f"({len(generated)} services, {groups} constraint groups)"
    )
    print()
    print(
        f"{'directory':<22}{'path':<12}{'screenings/s':>14}"
        f"{'mean ms':>10}{'p95 ms':>10}{'max ms':>10}  goal"
    )
    rows = [
        ("seeded", seeded_cat, False, "decision", ">= 5,000/s"),
        ("seeded", seeded_cat, True, "full", ">= 5,000/s"),
        (f"generated {len(generated)}", big_cat, False, "decision", "< 2 ms"),
        (f"generated {len(generated)}", big_cat, True, "full", "< 10 ms"),
    ]
    for name, cat, full, path, goal in rows:
        m = measure(records, cat, full)
        print(
            f"{name:<22}{path:<12}{m['per_s']:>14,.0f}{m['mean_ms']:>10.3f}"
            f"{m['p95_ms']:>10.3f}{m['max_ms']:>10.3f}  {goal}"
        )


if __name__ == "__main__":
    main()
