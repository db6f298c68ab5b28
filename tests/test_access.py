"""referral.access: one reach per user, one load-and-authorize function, one SQL filter.

Checked on a real table of the suite's database (SQLite or PostgreSQL) with a state and
an owner column, the shape cases, referrals and gaps have.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.orm import Session, registry
from werkzeug.exceptions import NotFound

from referral.access import Reach, load_or_404

metadata = MetaData()
things = Table(
    "access_test_thing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("state", String(8), nullable=False),
    Column("owner_id", Integer, nullable=False),
)
parts = Table(  # an object whose state is its parent's, like a referral and its case
    "access_test_part",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("thing_id", Integer, ForeignKey("access_test_thing.id"), nullable=False),
)


class Thing:
    id: int
    state: str
    owner_id: int


class Part:
    id: int
    thing_id: int


mapper = registry()
mapper.map_imperatively(Thing, things)
mapper.map_imperatively(Part, parts)

ROWS = [(1, "MX-CHP", 10), (2, "MX-CHP", 11), (3, "MX-GRO", 10), (4, "MX-OAX", 12)]


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = create_engine(database_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with Session(engine) as db:
        for ident, state, owner in ROWS:
            thing = Thing()
            thing.id, thing.state, thing.owner_id = ident, state, owner
            db.add(thing)
        db.flush()  # no ORM relationship here, so parents go in first by hand
        for ident, _state, _owner in ROWS:
            part = Part()
            part.id, part.thing_id = ident * 100, ident
            db.add(part)
        db.commit()
        yield db
    metadata.drop_all(engine)
    engine.dispose()


def reach(role: str, user_id: int, states: tuple[str, ...] = (), national: bool = False) -> Reach:
    return Reach(role=role, user_id=user_id, states=frozenset(states), national=national)


CASES: list[tuple[str, Reach, set[int]]] = [
    ("screener sees own only", reach("screener", 10, ("MX-CHP",)), {1, 3}),
    ("screener with nothing", reach("screener", 99, ("MX-CHP",)), set()),
    ("supervisor of Chiapas", reach("supervisor", 50, ("MX-CHP",)), {1, 2}),
    ("supervisor of two states", reach("supervisor", 50, ("MX-GRO", "MX-OAX")), {3, 4}),
    ("supervisor who also owns", reach("supervisor", 12, ("MX-GRO",)), {3, 4}),
    ("national supervisor", reach("supervisor", 50, national=True), {1, 2, 3, 4}),
    ("national screener still own only", reach("screener", 11, national=True), {2}),
    ("admin", reach("admin", 1), {1, 2, 3, 4}),
]


@pytest.mark.parametrize(("name", "who", "visible"), CASES, ids=[c[0] for c in CASES])
def test_filter_and_load_agree(session: Session, name: str, who: Reach, visible: set[int]) -> None:
    query = who.filter(select(Thing.id), things.c.state, things.c.owner_id)
    assert set(session.scalars(query).all()) == visible, name
    for ident, _state, _owner in ROWS:
        if ident in visible:
            assert load_or_404(session, Thing, ident, who, "state", "owner_id").id == ident
        else:
            with pytest.raises(NotFound):
                load_or_404(session, Thing, ident, who, "state", "owner_id")


def test_missing_and_out_of_reach_look_the_same(session: Session) -> None:
    who = reach("supervisor", 50, ("MX-CHP",))
    for ident in (3, 999, None):
        with pytest.raises(NotFound) as caught:
            load_or_404(session, Thing, ident, who, "state", "owner_id")
        assert caught.value.code == 404


def test_state_and_owner_may_come_from_a_parent(session: Session) -> None:
    def state_of(part: Any) -> str:
        return session.get(Thing, part.thing_id).state  # type: ignore[union-attr]

    def owner_of(part: Any) -> int:
        return session.get(Thing, part.thing_id).owner_id  # type: ignore[union-attr]

    chiapas = reach("supervisor", 50, ("MX-CHP",))
    assert load_or_404(session, Part, 100, chiapas, state_of, owner_of).id == 100
    with pytest.raises(NotFound):
        load_or_404(session, Part, 300, chiapas, state_of, owner_of)
    joined = chiapas.filter(
        select(Part.id).join(Thing, Thing.id == Part.thing_id), things.c.state, things.c.owner_id
    )
    assert set(session.scalars(joined).all()) == {100, 200}


def test_can_see_state() -> None:
    assert reach("admin", 1).can_see_state("MX-YUC")
    assert reach("supervisor", 2, ("MX-CHP",)).can_see_state("MX-CHP")
    assert not reach("supervisor", 2, ("MX-CHP",)).can_see_state("MX-GRO")
    assert reach("supervisor", 2, national=True).can_see_state("MX-GRO")
    assert not reach("screener", 3, ("MX-CHP",)).can_see_state("MX-CHP")  # screeners: own only
    assert not reach("supervisor", 2, ("MX-CHP",)).can_see_state(None)


def test_reach_of_a_user(make_user) -> None:
    user = make_user("supervisor", ("MX-CHP", "MX-OAX"))
    who = Reach.of(user)
    assert (who.role, who.user_id, who.states, who.national) == (
        "supervisor",
        user.id,
        frozenset({"MX-CHP", "MX-OAX"}),
        False,
    )


# --- role decorators --------------------------------------------------------------------


def add_role_pages(app: Any) -> None:
    """Three pages limited to roles, added before the app's first request."""
    from referral.access import current_reach, requires
    from referral.db import request_writes, writes

    @requires("admin")
    def admin_only() -> str:
        return f"admin page for {current_reach().role}"

    @requires("supervisor", "admin")
    def supervisors() -> str:
        return f"supervisor page for {current_reach().role}"

    @requires("supervisor", "admin")
    @writes
    def audited() -> str:
        return "on the writer" if request_writes() else "on the reader"

    app.add_url_rule("/test/admin-only", view_func=admin_only)
    app.add_url_rule("/test/supervisors", view_func=supervisors)
    app.add_url_rule("/test/audited", view_func=audited)


def test_requires_sends_the_signed_out_to_sign_in(app: Any) -> None:
    add_role_pages(app)
    response = app.test_client().get("/test/supervisors")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(
    ("role", "admin_page", "supervisor_page"),
    [("screener", 404, 404), ("supervisor", 404, 200), ("admin", 200, 200)],
)
def test_requires_answers_other_roles_404(
    app: Any, make_user: Any, login: Any, role: str, admin_page: int, supervisor_page: int
) -> None:
    add_role_pages(app)
    client = app.test_client()
    login(client, make_user(role))
    admin = client.get("/test/admin-only")
    supervisor = client.get("/test/supervisors")
    assert (admin.status_code, supervisor.status_code) == (admin_page, supervisor_page)
    if supervisor_page == 200:
        assert supervisor.get_data(as_text=True) == f"supervisor page for {role}"


def test_requires_keeps_the_write_mark_of_the_view(app: Any, make_user: Any, login: Any) -> None:
    add_role_pages(app)
    client = app.test_client()
    login(client, make_user("supervisor"))
    assert client.get("/test/audited").get_data(as_text=True) == "on the writer"


def test_requires_refuses_an_unknown_role() -> None:
    from referral.access import requires

    with pytest.raises(ValueError, match="administrator"):
        requires("administrator")
    with pytest.raises(ValueError):
        requires()
