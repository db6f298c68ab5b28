"""The baseline for benchmarks/intake.py: a bare Flask endpoint that inserts one row.

Served by gunicorn with the same workers and database as Ruta, so the intake benchmark
reports a ratio measured on the same machine in the same run.
"""

from __future__ import annotations

import os

from flask import Flask, request
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.exc import DBAPIError

metadata = MetaData()
bench_row = Table(
    "bench_row",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("payload", String(200), nullable=False),
)


def make_engine(url: str) -> Engine:
    options = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
    return create_engine(url, **options)


def create_table(url: str) -> None:
    """The baseline's table, made before gunicorn starts: two workers making it at once
    race on PostgreSQL (one of them dies with a duplicate-type error)."""
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["BARE_DATABASE_URL"]
    engine = make_engine(url)
    try:
        metadata.create_all(engine)
    except DBAPIError:  # another worker made it at the same moment
        engine.dispose()
        metadata.create_all(engine)

    @app.post("/insert")
    def insert_one() -> tuple[str, int]:
        with engine.begin() as conn:
            conn.execute(insert(bench_row).values(payload=request.get_data(as_text=True)[:200]))
        return "ok", 201

    return app
