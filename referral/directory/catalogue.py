"""The routing catalogue: rule seeds from the SeedStore, services from the database.

The catalogue is rebuilt whenever the directory version in the database changes, so an
admin's edit takes effect for new routing at once, in every worker, without a restart.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import func
from sqlmodel import Session, col, select

from referral.directory.models import UNVERSIONED_REASONS, DirectoryVersion
from referral.directory.models import Service as ServiceRow
from referral.rules import Catalogue, RuleSeeds, Service, build_catalogue, parse_services
from referral.seeds.languages import iso639_table
from referral.seeds.loader import SeedStore, StateSeed, seed_store


class CatalogueCache:
    def __init__(self, seeds: SeedStore) -> None:
        self.seeds = seeds
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._version: int | None = None

    @property
    def rules(self) -> RuleSeeds:
        return self.seeds.rules

    @property
    def states(self) -> list[StateSeed]:
        return self.seeds.states

    def get(self, session: Session, latest: int | None = None) -> Catalogue:
        """The catalogue of the directory's newest change; ``latest``: that change, when
        the caller read it already (with :data:`LATEST_CHANGE`, in a query of its own)."""
        if latest is None:
            latest = latest_change(session)
        catalogue = self._catalogue
        if catalogue is not None and self._version == latest:
            return catalogue
        version = directory_version(session)
        services = load_services(session, self.rules, {s.code for s in self.states})
        catalogue = build_catalogue(
            self.rules,
            services,
            directory_version=str(version),
            state_names={s.code: {"es": s.name.es, "en": s.name.en} for s in self.states},
            languages=iso639_table(),
        )
        with self._lock:
            self._catalogue, self._version = catalogue, latest
        return catalogue


def directory_version(session: Session) -> int:
    """The directory version routing results name: changes of free places and of the
    demonstration notice are left out (CONTRACT section 2: free places are not versioned)."""
    query = select(func.coalesce(func.max(DirectoryVersion.id), 0)).where(
        col(DirectoryVersion.reason).not_in(UNVERSIONED_REASONS)
    )
    return int(session.exec(query).one() or 0)


def latest_change(session: Session) -> int:
    """The newest change of any kind: what the cached catalogue must be rebuilt after."""
    return int(session.exec(select(func.coalesce(func.max(DirectoryVersion.id), 0))).one() or 0)


# The same as a column a request's first query can read too (one round trip less).
LATEST_CHANGE = (
    select(func.coalesce(func.max(DirectoryVersion.id), 0))
    .scalar_subquery()
    .label("directory_latest_change")
)


def load_services(session: Session, rules: RuleSeeds, states: set[str]) -> list[Service]:
    rows = session.exec(select(ServiceRow).order_by(ServiceRow.id)).all()
    return parse_services([row.entry for row in rows], rules, states, file="database")


def init_app(app: Flask) -> None:
    app.extensions["referral_catalogue"] = CatalogueCache(seed_store(app.config["SEEDS_DIR"]))


def catalogue_cache(app: Flask | None = None) -> CatalogueCache:
    return (app or current_app).extensions["referral_catalogue"]


def current_catalogue(session: Session, *, latest: int | None = None) -> Catalogue:
    """The catalogue of the current directory version (looked up once per request).

    ``latest``: the directory's newest change, when the request read it already with
    :data:`LATEST_CHANGE`; the version is then not queried again."""
    if has_request_context():
        catalogue: Catalogue | None = g.get("referral_catalogue")
        if catalogue is None:
            catalogue = g.referral_catalogue = _lookup(session, latest)
        return catalogue
    return _lookup(session, latest)


def _lookup(session: Session, latest: int | None) -> Catalogue:
    cache = catalogue_cache()
    return cache.get(session) if latest is None else cache.get(session, latest)
