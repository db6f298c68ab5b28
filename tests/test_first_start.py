"""The first request on an empty database migrates it and loads the seeds by itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, func, select

from referral import create_app, migrate
from referral.db import get_db
from referral.directory.models import Service, State
from tests.conftest import SEEDS


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


def test_first_start_loads_a_configured_seeds_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    document = yaml.safe_load((seeds / "services.yaml").read_text(encoding="utf-8"))
    kept = [entry["id"] for entry in document["services"][:5]]
    document["services"] = document["services"][:5]
    (seeds / "services.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    monkeypatch.setenv("REFERRAL_SEEDS_DIR", str(seeds))
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "AUTO_SETUP": True})
    assert app.test_client().get("/").status_code == 200
    database = get_db(app)
    with Session(database.writer) as session:
        assert sorted(session.exec(select(Service.id)).all()) == sorted(kept)
        assert session.exec(select(func.count()).select_from(State)).one() == 32
    database.dispose()
