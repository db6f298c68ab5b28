"""Engines, the request's session, and the one place that commits.

Operations only add and flush; :func:`init_app` commits once per request when the view
returned without error, and rolls back otherwise. On SQLite, a request that may write
(any method but GET/HEAD/OPTIONS) takes the write lock when its transaction begins
(``BEGIN IMMEDIATE``), so two writers queue on the busy timeout instead of failing later
with "database is locked".

Every instant is a :class:`UTCDateTime`: stored as UTC, read back aware in UTC on SQLite
and PostgreSQL alike, so no caller patches naive values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, request
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Integer,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def make_engine(url: str, *, immediate: bool = False, busy_timeout: int = 30) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": busy_timeout, "check_same_thread": False}
        )
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout) * 1000}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql(begin)

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """The app's engines: ``reader`` for read-only requests, ``writer`` for the others.

    Every session of the app comes from :meth:`session`. A test suite may
    :meth:`bind_to` one connection: every session then joins that connection's
    transaction, its commits become savepoints, and the test rolls the whole of it back.
    """

    def __init__(self, url: str, busy_timeout: int = 30) -> None:
        self.url = url
        self.writer = make_engine(url, immediate=True, busy_timeout=busy_timeout)
        self.reader = (
            make_engine(url, busy_timeout=busy_timeout) if is_sqlite(self.writer) else self.writer
        )
        # One consistent view for every query of a long read (SQLite's read transaction
        # already is one).
        self.snapshot_reader = (
            self.reader
            if is_sqlite(self.reader)
            else self.reader.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        )
        self._bound: Connection | None = None

    def session(self, *, write: bool = True, snapshot: bool = False) -> Session:
        """A new session on the writer, the reader, or the reader with one consistent view
        of the data (``snapshot``; read-only). Joined to the bound connection if any."""
        if self._bound is not None:
            return Session(
                bind=self._bound, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        engine = self.writer if write else self.snapshot_reader if snapshot else self.reader
        return Session(engine, expire_on_commit=False)

    @contextmanager
    def bind_to(self, connection: Connection) -> Iterator[None]:
        """Open every session on ``connection`` inside its transaction (the test seam)."""
        self._bound = connection
        try:
            yield
        finally:
            self._bound = None

    @contextmanager
    def transaction(self, *, write: bool = True, snapshot: bool = False) -> Iterator[Session]:
        """One unit of work outside a request (CLI, setup): commit on success."""
        with self.session(write=write, snapshot=snapshot) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["referral_db"]


def writes(view: Any) -> Any:
    """Mark a GET view that writes (an audit event): its transaction takes the write lock too.

    On SQLite a read transaction cannot always become a write one: if another writer
    committed since it began, the upgrade fails at once with "database is locked",
    whatever the busy timeout. Such a view must begin as a writer (``BEGIN IMMEDIATE``).
    """
    view._referral_writes = True
    return view


def request_writes() -> bool:
    """This request's session is on the writer (on SQLite it holds the write lock)."""
    if request.method not in READ_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "_referral_writes", False))


def session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_db().session(write=request_writes() if request else True)
    return g.db_session


def init_app(app: Flask) -> None:
    app.extensions["referral_db"] = Database(
        app.config["DATABASE_URL"], busy_timeout=app.config["SQLITE_BUSY_TIMEOUT"]
    )

    @app.after_request
    def _commit(response: Any) -> Any:
        db_session: Session | None = g.pop("db_session", None)
        if db_session is not None:
            try:
                if response.status_code < 500:
                    db_session.commit()
                else:
                    db_session.rollback()
            finally:
                db_session.close()
        return response

    @app.teardown_request
    def _rollback(_exc: BaseException | None) -> None:
        db_session: Session | None = g.pop("db_session", None)
        if db_session is not None:  # the view raised: nothing it did is kept
            db_session.rollback()
            db_session.close()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored as UTC and always read back aware, in UTC.

    SQLite keeps no offset (it stores the wall time as text), so values are converted to UTC
    before they are bound and marked UTC when read; PostgreSQL's ``timestamptz`` answers in
    the connection's time zone, converted to UTC too. A naive value is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else in_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else in_utc(value)


def in_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive value is taken as UTC (as the rows store it)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def datetime_column(*, nullable: bool) -> Any:
    """An instant with no default (an optional one defaults to None)."""
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable)
    return Field(default=None, sa_column=column) if nullable else Field(sa_column=column)


def timestamp_column(**kwargs: Any) -> Any:
    """An instant that defaults to now."""
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), **kwargs))


def user_fk(**kwargs: Any) -> Any:
    return Field(sa_column=Column(Integer, ForeignKey("user_account.id"), **kwargs))
