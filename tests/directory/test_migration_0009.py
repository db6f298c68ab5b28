"""Migration 0009: the 39 Chiapas placeholders become the network entry, on SQLite and
PostgreSQL, with stored referrals and results pointed at it, and nothing done where the
rows never existed."""

from __future__ import annotations

import copy
import importlib
import re

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from referral import migrate
from referral.casework.models import Case, Referral, Screening
from referral.db import get_db, utcnow
from referral.directory.models import DirectoryVersion
from referral.directory.models import Service as ServiceRow
from tests.factories import fill_all, submit

NETWORK = "svc-chp-migrant-shelter-network"
OLD = [f"svc-chp-migrant-shelter-{n:02d}" for n in (1, 2, 3, 4)]
# Each test runs migrations on the suite's database: they commit, outside any test transaction.
pytestmark = pytest.mark.usefixtures("isolated_database")
migration = importlib.import_module(
    "referral.migrations.versions.0009_chiapas_migrant_shelter_network"
)


@pytest.fixture
def client_in(client, make_user, login):
    login(client, make_user("screener", ("MX-CHP",)))
    return client


def new_case(client) -> str:
    adult = {"person": {"age": "30", "vulnerabilities": []}, "needs": {"needs": ["shelter"]}}
    response = submit(client, fill_all(client, adult))
    return re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)


def v3_database(app, code: str, *, with_network: bool) -> tuple[int, int]:
    """Put back what a v3 database held: the placeholders, a result naming them, a referral."""
    engine = get_db(app).writer
    with Session(engine) as session:
        network = session.get(ServiceRow, NETWORK)
        assert network is not None
        for sid in OLD:
            entry = {**copy.deepcopy(network.entry), "id": sid}
            session.add(
                ServiceRow(
                    id=sid,
                    need="shelter",
                    status="active",
                    name_es=sid,
                    name_en=sid,
                    entry=entry,
                )
            )
        if not with_network:
            session.delete(network)
        session.flush()
        case = session.exec(select(Case).where(Case.code == code)).scalars().one()
        screening = session.get(Screening, case.latest_screening_id)
        result = copy.deepcopy(screening.result)
        other = [o for o in result["options"]["shelter"] if o["service"] != NETWORK]
        result["options"]["shelter"] = [
            {**(other[0] if other else {"why": []}), "service": OLD[0]},
            {**(other[0] if other else {"why": []}), "service": OLD[1]},
            *other,
        ]
        result["excluded"] = {"shelter": {OLD[2]: ["age"], OLD[3]: ["age", "sex"]}}
        session.execute(update(Screening).where(Screening.id == screening.id).values(result=result))
        now = utcnow()
        referral = Referral(
            case_id=case.id,
            screening_id=screening.id,
            need="shelter",
            service_id=OLD[1],
            state="MX-CHP",
            status="sent",
            created_by=case.screener_id,
            updated_by=case.screener_id,
            case_screener_id=case.screener_id,
            case_state=case.state,
            created_at=now,
            updated_at=now,
        )
        session.add(referral)
        session.commit()
        return screening.id, referral.id


def rerun_0009(app) -> None:
    engine = get_db(app).writer
    migrate.downgrade(engine, "0008")  # 0009's downgrade leaves the data as it is
    migrate.upgrade(engine)


@pytest.mark.parametrize("with_network", [True, False], ids=["network-seeded", "network-absent"])
def test_placeholders_removed_and_stored_data_points_at_the_network(
    app, client_in, with_network
) -> None:
    code = new_case(client_in)
    screening_id, referral_id = v3_database(app, code, with_network=with_network)
    with Session(get_db(app).writer) as session:
        versions = len(session.exec(select(DirectoryVersion)).all())
    rerun_0009(app)
    with Session(get_db(app).writer) as session:
        assert session.get(Referral, referral_id).service_id == NETWORK
        for sid in OLD:
            assert session.get(ServiceRow, sid) is None
        network = session.get(ServiceRow, NETWORK)
        assert network is not None and "39 NGOs in Chiapas" in network.entry["source"]
        result = session.get(Screening, screening_id).result
        shelter = [o["service"] for o in result["options"]["shelter"]]
        assert shelter[0] == NETWORK and shelter.count(NETWORK) == 1
        assert not any(s.startswith("svc-chp-migrant-shelter-0") for s in shelter)
        assert result["excluded"]["shelter"] == {NETWORK: ["age", "sex"]}
        # running apps reload the directory
        assert len(session.exec(select(DirectoryVersion)).all()) == versions + 1


def test_nothing_changes_where_the_placeholders_never_existed(app, client_in) -> None:
    code = new_case(client_in)
    with Session(get_db(app).writer) as session:
        case = session.exec(select(Case).where(Case.code == code)).scalars().one()
        before = session.get(Screening, case.latest_screening_id).result
        versions = len(session.exec(select(DirectoryVersion)).all())
        services = len(session.exec(select(ServiceRow)).all())
    rerun_0009(app)
    with Session(get_db(app).writer) as session:
        assert session.get(Screening, case.latest_screening_id).result == before
        assert len(session.exec(select(DirectoryVersion)).all()) == versions
        assert len(session.exec(select(ServiceRow)).all()) == services


def test_a_result_naming_no_placeholder_is_left_alone() -> None:
    result = {"options": {"shelter": [{"service": "svc-x"}]}, "excluded": {"medical": {}}}
    assert migration.rewritten_result(result) is None
    assert migration.rewritten_result(None) is None
