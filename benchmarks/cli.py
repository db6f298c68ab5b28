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


def timed(
    command: list[str], env: dict[str, str], stdin: Path | None = None
) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, which a busy machine does not inflate)."""
    with (
        open(stdin or os.devnull, "rb") as source,
        tempfile.TemporaryFile() as errors,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=source, stdout=subprocess.DEVNULL, stderr=errors
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(errors.read().decode()[-2000:])
    return seconds, usage.ru_utime + usage.ru_stime


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
        runs: dict[str, list[tuple[float, float]]] = {"base": [], "one": [], "many": []}
        timed(route, env, one)  # warm the file cache
        for _ in range(args.runs):
            runs["base"].append(timed(BASELINE, env))
            runs["one"].append(timed(route, env, one))
            runs["many"].append(timed(route, env, many))

    def median(name: str, index: int) -> float:
        return statistics.median(run[index] for run in runs[name])

    result: dict[str, object] = {"machine": machine(), "runs": args.runs, "records": args.records}
    for index, kind in ((0, "wall"), (1, "cpu")):
        base, start, total = median("base", index), median("one", index), median("many", index)
        result[kind] = {
            "baseline_import_s": base,
            "route_one_record_s": start,
            "startup_ratio_to_baseline": start / base,
            "route_records_s": total,
            "records_per_s_beyond_startup": args.records / max(total - start, 1e-9),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
