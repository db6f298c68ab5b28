"""Shared set-up of the supervision benchmarks: an app on a database holding N demo cases.

The database is a temporary SQLite file unless ``--database-url`` names one (PostgreSQL:
``postgresql+psycopg://user@host:port/db``, emptied first). Demo cases come from
``referral.demo.generate`` (the report's proportions, deterministic for a seed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from referral import create_app  # noqa: E402
from referral.access import Reach  # noqa: E402
from referral.db import get_db  # noqa: E402
from referral.setup import ensure_database  # noqa: E402

NATIONAL = Reach(role="admin", user_id=None, states=frozenset(), national=True)
ONE_STATE = Reach(role="supervisor", user_id=None, states=frozenset({"MX-CHP"}), national=False)


def arguments(description: str, default_cases: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", type=int, default=default_cases)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep", action="store_true", help="reuse --database-url as it is (no reset, no new cases)"
    )
    return parser.parse_args()


def app_with_cases(database_url: str | None, cases: int, seed: int, keep: bool = False) -> Any:
    instance = Path(tempfile.mkdtemp(prefix="ruta-bench-"))
    url = database_url or f"sqlite:///{instance / 'bench.db'}"
    if database_url and keep:
        return create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
             "AUTO_SETUP": False}
        )  # fmt: skip
    if database_url:
        from sqlalchemy import create_engine

        from tests.conftest import reset_schema

        engine = create_engine(url)
        reset_schema(engine)
        engine.dispose()
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
         "AUTO_SETUP": False}
    )  # fmt: skip
    ensure_database(app)
    from sqlmodel import Session

    from referral.demo.generate import generate

    started = time.perf_counter()
    with app.app_context(), Session(get_db(app).writer, expire_on_commit=False) as session:
        generate(session, cases, seed=seed, seeds_dir=ROOT / "seeds", batch=2000)
    print(f"generated {cases} demo cases in {time.perf_counter() - started:.1f} s", flush=True)
    return app
