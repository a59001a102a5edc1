"""Read services of user accounts: what the REST API lists and shows, and what the console
calls. County and admin users read the accounts inside their area (others: FORBIDDEN_ROLE);
the phone is returned as stored (masking by role is the caller's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.accounts.models import CollectToken, User
from server.areas.models import Area
from server.auth import Principal, check_role, within
from server.domain.roles import ROLE_NAMES, Role
from server.errors import AppError
from server.listing import where_equal, where_in_area

MANAGERS = (Role.COUNTY, Role.ADMIN)  # who reads and manages accounts

_ACTIVE_TOKENS = (select(func.count(CollectToken.id))
                  .where(CollectToken.user_id == User.id, CollectToken.revoked_at.is_(None))
                  .correlate(User).scalar_subquery())


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    full_name: str
    phone: str | None
    role: str
    role_name: str
    area_code: str
    area_name: str | None
    active: bool
    active_tokens: int
    created_at: datetime
    must_change_password: bool = False


def _users(user: Principal) -> Select:
    check_role(user, MANAGERS)
    return (select(User, Area.name, _ACTIVE_TOKENS)
            .outerjoin(Area, Area.code == User.area_code)
            .where(within(user, User.area_code)))


def users_query(user: Principal, filters: Mapping) -> Select:
    """Rows (User, area name, active tokens) of the user's area, by area then id, for
    ``user_view``; ``filters``: ``role``, ``active``, ``area_code``."""
    query = _users(user).order_by(User.area_code, User.id)
    query = where_equal(query, filters, User, "role")
    if "active" in filters:
        query = query.where(User.active.is_(filters["active"]))
    return where_in_area(query, filters, User.area_code)


def readable_user(session: Session, user: Principal, user_id: int) -> UserView:
    """The account ``user_id`` if it lies inside the user's area (else NOT_FOUND)."""
    row = session.execute(_users(user).where(User.id == user_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return user_view(row)


def user_view(row) -> UserView:
    user, area_name, tokens = row
    return UserView(id=user.id, username=user.username, full_name=user.full_name,
                    phone=user.phone, role=user.role,
                    role_name=ROLE_NAMES.get(user.role, user.role), area_code=user.area_code,
                    area_name=area_name, active=user.active, active_tokens=tokens,
                    created_at=user.created_at, must_change_password=user.must_change_password)


def own_account(session: Session, user: Principal) -> UserView:
    """The user's own account (any role): who am I."""
    row = session.execute(
        select(User, Area.name, _ACTIVE_TOKENS).outerjoin(Area, Area.code == User.area_code)
        .where(User.id == user.id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return user_view(row)
