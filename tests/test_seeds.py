from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func
from sqlmodel import Session, select

from referral.db import get_db
from referral.directory.models import DirectoryVersion, Service, State
from referral.rules import SeedErrors
from referral.seeds.loader import load_seed_set, parse_states
from tests.conftest import SEEDS


def test_states_are_the_32_iso_codes(seed_set) -> None:
    codes = [s.code for s in seed_set.states]
    assert len(codes) == 32 == len(set(codes))
    assert {"MX-CHP", "MX-CMX", "MX-TLA", "MX-GRO", "MX-VER"} <= set(codes)
    by_code = {s.code: s for s in seed_set.states}
    assert by_code["MX-CMX"].name.es == "Ciudad de México"
    assert by_code["MX-CMX"].name.en == "Mexico City"


def test_state_errors_name_file_entry_and_field() -> None:
    document = yaml.safe_load((SEEDS / "states.yaml").read_text())
    document["states"][4]["code"] = "CHIAPAS"
    del document["states"][6]["name"]["en"]
    with pytest.raises(SeedErrors) as caught:
        parse_states(document)
    messages = [str(e) for e in caught.value.errors]
    assert any(
        "states.yaml" in m and "states[4] (CHIAPAS)" in m and "code" in m for m in messages
    ), messages
    assert any("states[6] (MX-CMX)" in m and "name.en" in m for m in messages), messages


def copy_seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path)
    (seeds / "states.yaml").write_text("states:\n  - code: [unclosed\n")
    with pytest.raises(SeedErrors) as caught:
        load_seed_set(seeds)
    assert any("states.yaml" in str(e) and "line" in str(e) for e in caught.value.errors)


def test_missing_seed_file_is_named(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path)
    (seeds / "codes.yaml").unlink()
    with pytest.raises(SeedErrors) as caught:
        load_seed_set(seeds)
    assert any("codes.yaml" in str(e) and "missing" in str(e) for e in caught.value.errors)


def row_counts(app) -> tuple[int, int, int]:
    with Session(get_db(app).writer) as session:
        return (
            session.exec(select(func.count()).select_from(State)).one(),
            session.exec(select(func.count()).select_from(Service)).one(),
            session.exec(select(func.count()).select_from(DirectoryVersion)).one(),
        )


def snapshot(app) -> list[tuple]:
    with Session(get_db(app).writer) as session:
        states = [(s.code, s.name_es, s.name_en) for s in session.exec(select(State)).all()]
        services = [(s.id, s.entry, s.seed_digest) for s in session.exec(select(Service)).all()]
    return sorted(states) + sorted(services, key=lambda row: row[0])


def test_seed_twice_leaves_the_same_rows(app, runner) -> None:
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    before, counts = snapshot(app), row_counts(app)
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert snapshot(app) == before
    assert row_counts(app) == counts
    assert counts[0] == 32
    assert "0 added, 0 updated" in second.output


def test_seed_refuses_a_broken_seed_set(app, runner, tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path)
    document = yaml.safe_load((seeds / "states.yaml").read_text())
    document["states"].pop()
    (seeds / "states.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    app.config["SEEDS_DIR"] = str(seeds)
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 2
    assert "states.yaml" in result.output and "31 states" in result.output
