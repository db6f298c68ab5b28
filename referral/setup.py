"""First start: an empty (or outdated) database is migrated and seeded by itself."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from referral import migrate
from referral.db import get_db

log = logging.getLogger(__name__)


def ensure_database(app: Flask) -> None:
    """Migrate to head and load the seeds if the database is new; safe to call from many workers."""
    from referral.directory.operations import apply_seeds
    from referral.seeds.loader import seed_store

    database = get_db(app)
    with migrate.migration_lock(database.writer, app.instance_path):
        if migrate.is_up_to_date(database.writer):
            return
        fresh = migrate.current_revision(database.writer) is None
        migrate.upgrade(database.writer)
        if fresh:
            seeds = seed_store(app.config["SEEDS_DIR"]).seed_set()
            with database.transaction() as session:
                apply_seeds(session, seeds)
            log.info("New database: migrated and seeded")


def init_app(app: Flask) -> None:
    if not app.config["AUTO_SETUP"]:
        return
    done = threading.Event()
    lock = threading.Lock()

    @app.before_request
    def _first_request_setup() -> None:
        if done.is_set():
            return
        with lock:
            if not done.is_set():
                ensure_database(app)
                done.set()
