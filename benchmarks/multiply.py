"""Grow a demo database to N cases by copying its cases in SQL, for measuring at scale.

``demo generate`` routes every case through the rules core and keeps the dashboard's counts
as it writes (about 200 to 500 cases/s on this machine): a million cases take one to two
hours. This copies the cases already there, with every row that belongs to them (the same
foreign-key walk as erasure: screenings, forms, referrals and their events, gaps and their
reasons, case events, child-protection notices), as ``INSERT ... SELECT`` with the ids
shifted, until the database holds ``--cases`` cases; then the maintained counts are rebuilt
from scratch (``flask --app referral aggregates rebuild``). Copies keep their originals'
dates, states, services and statuses, so every distribution is the generated one; case codes
get a suffix. Drafts, answer links and outbox messages are not copied.

    python benchmarks/multiply.py --database-url URL --cases 1000000
    python benchmarks/multiply.py --instance DIR --cases 1000000   # SQLite in DIR/referral.db

Only for benchmark databases: never run it on one that holds real cases.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, func, literal, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import SQLModel  # noqa: E402

import referral.models  # noqa: E402,F401  (every table on the metadata)
from benchmarks.common import flask_command  # noqa: E402
from referral.casework.models import Case  # noqa: E402

NOT_COPIED = {"intake_draft", "answer_token", "outbox_message"}


def case_family() -> list[Table]:
    """The case's table and every table whose rows belong to a case, parents first."""
    case_table = SQLModel.metadata.tables[Case.__tablename__]
    family = [case_table]
    names = {case_table.name}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in names or table.name in NOT_COPIED:
            continue
        if any(fk.column.table.name in names for fk in table.foreign_keys):
            family.append(table)
            names.add(table.name)
    return family


def copy_statement(
    table: Table, copy: int, offsets: dict[str, int], family: set[str], only: Any = None
) -> Any:
    """``INSERT INTO table SELECT ...`` of the original rows (those matching ``only``, when
    given), shifted for copy ``copy``."""
    columns = []
    for column in table.columns:
        expression: Any = column
        parents = [fk.column.table.name for fk in column.foreign_keys]
        if column.primary_key and column.name == "id":
            expression = column + copy * offsets[table.name]
        elif parents and parents[0] in family:
            expression = column + copy * offsets[parents[0]]
        elif column.unique:  # the case code
            expression = column + literal(f"-{copy}")
        columns.append(expression.label(column.name))
    source = select(*columns)
    if "id" in table.c:
        source = source.where(table.c.id <= offsets[table.name])
    else:  # rows keyed by their parent's id (a gap's reasons): the originals' rows only
        fk = next(fk for fk in table.foreign_keys if fk.column.table.name in family)
        source = source.where(fk.parent <= offsets[fk.column.table.name])
    if only is not None:
        source = source.where(only)
    return table.insert().from_select([c.name for c in table.columns], source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--instance", type=Path, default=None)
    parser.add_argument("--no-rebuild", action="store_true")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.instance / 'referral.db'}"
    engine = create_engine(url)
    family = case_family()
    names = {t.name for t in family}
    case_table = family[0]
    started = time.perf_counter()
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        have = connection.execute(select(func.count()).select_from(case_table)).scalar_one()
        offsets = {
            t.name: int(connection.execute(select(func.max(t.c.id))).scalar_one() or 0)
            for t in family
            if "id" in t.c
        }
        copies = -(-args.cases // have) - 1  # whole copies, the last one cut
        print(f"{have:,} cases; {copies} copies to reach {args.cases:,}", flush=True)
        for copy in range(1, copies + 1):
            wanted = min(have, args.cases - have * copy)
            cut = dict(offsets)
            if wanted < have:  # the last copy: the first `wanted` cases and their rows
                last_id = connection.execute(
                    select(case_table.c.id).order_by(case_table.c.id).offset(wanted - 1).limit(1)
                ).scalar_one()
                cut[case_table.name] = int(last_id)
            for table in family:
                only = belongs(table, cut, names) if wanted < have else None
                connection.execute(copy_statement(table, copy, offsets, names, only))
            print(f"copy {copy} done ({time.perf_counter() - started:.0f} s)", flush=True)
        if engine.dialect.name == "postgresql":
            for table in family:
                if "id" in table.c:
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT max(id) FROM {table.name}))"
                        )
                    )
    total = 0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        total = connection.execute(select(func.count()).select_from(case_table)).scalar_one()
        postgres = engine.dialect.name == "postgresql"
        connection.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    print(f"{total:,} cases after {time.perf_counter() - started:.0f} s", flush=True)
    if not args.no_rebuild:
        env = {**os.environ, "REFERRAL_DATABASE_URL": url, "REFERRAL_AUTO_SETUP": "false"}
        if args.instance:
            env["REFERRAL_INSTANCE_PATH"] = str(args.instance)
        began = time.perf_counter()
        # Exits 1 when the counts differed from a recount: they do, the copies are new rows.
        done = subprocess.run(flask_command("aggregates", "rebuild"), env=env, cwd=ROOT)
        if done.returncode not in (0, 1):
            raise SystemExit("aggregates rebuild failed")
        print(f"counts rebuilt in {time.perf_counter() - began:.0f} s", flush=True)


def belongs(table: Table, cut: dict[str, int], family: set[str]) -> Any:
    """The rows of the cases up to ``cut``'s case id, found through the chain of parents."""
    case_table = SQLModel.metadata.tables[Case.__tablename__]
    if table is case_table:
        return table.c.id <= cut[case_table.name]
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent.name in family and parent is not table:
            inner = select(fk.column).where(belongs(parent, cut, family))
            return fk.parent.in_(inner)
    raise ValueError(table.name)


if __name__ == "__main__":
    main()
