"""The first request on an empty database migrates it and loads the seeds by itself."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, func, select

from referral import create_app, migrate
from referral.db import get_db
from referral.directory.models import Service, State


def test_first_request_migrates_and_seeds(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": True})
    database = get_db(app)
    assert migrate.current_revision(database.writer) is None
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert migrate.is_up_to_date(database.writer)
    with Session(database.writer) as session:
        assert session.exec(select(func.count()).select_from(State)).one() == 32
        assert session.exec(select(func.count()).select_from(Service)).one() > 100
    # A second app on the same instance finds everything in place.
    again = create_app({"INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": True})
    assert again.test_client().get("/").status_code == 200
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    database.dispose()
    get_db(again).dispose()
