"""Start-up and throughput of `flask --app referral route` (issue 17, "CLI").

    python benchmarks/cli.py --instance DIR [--database-url URL] [--runs 7] [--records 20000]

Each run is a fresh process, as a user's command is. In the same run, alternating with the
command, the baseline imports Flask, SQLAlchemy and SQLModel and nothing else (the floor any
command of the app pays). Start-up is the command routing one record; the rate beyond
start-up is ``records / (time for the records - time for one)``. Records are deterministic
(benchmarks/routing.py's generator, fixed seed). The instance must be seeded
(`flask --app referral seed`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import PYTHON, ROOT, flask_command, machine

BASELINE = [PYTHON, "-c", "import flask, sqlalchemy, sqlmodel"]


def timed(command: list[str], env: dict[str, str], stdin: Path | None = None) -> float:
    started = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source:
        result = subprocess.run(
            command, cwd=ROOT, env=env, stdin=source, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode()[-2000:])
    return seconds


def records_file(folder: Path, count: int) -> Path:
    from benchmarks.routing import generated_records
    from referral.rules import build_catalogue
    from referral.seeds.languages import iso639_table
    from referral.seeds.loader import seed_store

    store = seed_store(None)
    states = [s.code for s in store.states]
    names = {s.code: {"es": s.name.es, "en": s.name.en} for s in store.states}
    catalogue = build_catalogue(
        store.rules, store.services, directory_version="seeds", state_names=names,
        languages=iso639_table(),
    )  # fmt: skip
    records = generated_records(count, states, catalogue.codes, random.Random(17))
    path = folder / f"records-{count}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    env = {
        **os.environ,
        "REFERRAL_INSTANCE_PATH": str(args.instance.resolve()),
        "REFERRAL_AUTO_SETUP": "false",
    }
    if args.database_url:
        env["REFERRAL_DATABASE_URL"] = args.database_url
    with tempfile.TemporaryDirectory() as folder:
        one = records_file(Path(folder), 1)
        many = records_file(Path(folder), args.records)
        route = flask_command("route", "-")
        baseline, startup, bulk = [], [], []
        timed(route, env, one)  # warm the file cache
        for _ in range(args.runs):
            baseline.append(timed(BASELINE, env))
            startup.append(timed(route, env, one))
            bulk.append(timed(route, env, many))
    base, start, total = (statistics.median(v) for v in (baseline, startup, bulk))
    result = {
        "machine": machine(),
        "runs": args.runs,
        "baseline_import_s": {"median": base, "min": min(baseline)},
        "route_one_record_s": {"median": start, "min": min(startup)},
        "startup_ratio_to_baseline": start / base,
        "startup_beyond_baseline_s": start - base,
        "records": args.records,
        "route_records_s": {"median": total, "min": min(bulk)},
        "records_per_s_beyond_startup": args.records / max(total - start, 1e-9),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
