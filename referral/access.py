"""Who may see what: one reach per signed-in user, and one load-and-authorize function.

Rules (issue 4): admins see everything; supervisors see the objects of their states (or of
every state when national) and their own; screeners see only their own objects. An object
outside the user's reach answers 404, never 403, so its existence is not revealed.

Every lookup of a case, referral, gap or user by id goes through :func:`load_or_404`, and
every list through :meth:`Reach.filter`, so the rule lives here once. Pages for some roles
only are marked with :func:`requires`: the signed-out are sent to sign in, other roles get
the same 404 as an object out of reach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import false, or_, true
from sqlmodel import Session

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
# The one list; auth.models re-exports it. A provider answers for directory services
# (auth.models.ServiceAccount), not for states: it reaches no case (referral/provider).
ROLES = ("screener", "supervisor", "admin", "provider")
StateOf = str | Callable[[Any], str | None] | None


@dataclass(frozen=True)
class Reach:
    """What one user may see: built from the user, compared against objects and queries."""

    role: str
    user_id: int | None
    states: frozenset[str]
    national: bool

    @classmethod
    def of(cls, user: Any) -> Reach:
        """The reach of a signed-in user (a ``referral.auth.models.User``)."""
        return cls(
            role=user.role,
            user_id=user.id,
            states=frozenset(user.states or ()),
            national=bool(user.national),
        )

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def sees_every_state(self) -> bool:
        return self.is_admin or (self.is_supervisor and self.national)

    def can_see_state(self, code: str | None) -> bool:
        """Whether objects of this state are in reach by state (supervisors and admins)."""
        if self.is_admin:
            return True
        if not self.is_supervisor or code is None:
            return False
        return self.national or code in self.states

    def can_see(self, state: str | None, owner_id: int | None) -> bool:
        """Whether one object, of this state and owned by this user id, is in reach."""
        if owner_id is not None and owner_id == self.user_id:
            return True
        return self.can_see_state(state)

    def filter(self, query: Any, state_column: Any | None, owner_column: Any | None = None) -> Any:
        """``query`` restricted to the rows in reach (a SQL WHERE, never a Python loop).

        ``state_column`` is the row's state code (join first when it lives elsewhere);
        ``owner_column`` the id of the user who owns the row, when rows have an owner.
        """
        if self.is_admin or (self.sees_every_state and state_column is not None):
            return query.where(true())
        conditions = []
        if owner_column is not None and self.user_id is not None:
            conditions.append(owner_column == self.user_id)
        if self.is_supervisor and state_column is not None and self.states:
            conditions.append(state_column.in_(sorted(self.states)))
        if not conditions:
            return query.where(false())
        return query.where(or_(*conditions))


def _value(obj: Any, how: StateOf) -> Any:
    if how is None:
        return None
    if callable(how):
        return how(obj)
    return getattr(obj, how)


def load_or_404(
    session: Session,
    model: type[T],
    object_id: Any,
    reach: Reach,
    state_attr: StateOf = "state",
    owner_attr: StateOf = None,
) -> T:
    """The object of ``model`` with this id if it is in ``reach``; otherwise abort with 404.

    ``state_attr`` and ``owner_attr`` name the object's state code and owner id, as an
    attribute name or a function of the object (a referral's state is its case's state).
    """
    obj = session.get(model, object_id) if object_id is not None else None
    if obj is None:
        abort(404)
    if not reach.can_see(_value(obj, state_attr), _value(obj, owner_attr)):
        abort(404)
    return obj


def current_reach() -> Reach:
    """The reach of the signed-in user (call only behind ``login_required`` or ``requires``)."""
    return Reach.of(current_user)


def requires(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Only signed-in users with one of ``roles`` see the view.

    Implies ``login_required`` (a signed-out visitor is sent to sign in); a signed-in user
    of another role gets 404, like an object out of reach, so the page is not revealed.
    """
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"requires() takes roles among {ROLES}, not {sorted(unknown)}")

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            if current_reach().role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return login_required(checked)

    return decorator
