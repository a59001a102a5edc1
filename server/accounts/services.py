"""Use cases of user accounts: create, deactivate, reset and change passwords, issue and revoke
Collect tokens; and the list of the users an actor manages.

Who may manage whom: an admin manages every role inside their area; a county user manages
township, village and helper accounts inside their county (not county or admin accounts).
Every change is in the audit log; passwords and tokens never are.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.areas.models import Area
from server.audit.services import record
from server.auth import Principal, forget_user, hash_password, issue_token, revoke_tokens
from server.domain.areas import contains
from server.domain.logins import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from server.domain.roles import COLLECTING_ROLES, ROLE_NAMES, Role
from server.errors import AppError

MANAGED_ROLES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.COUNTY: frozenset({Role.TOWNSHIP, Role.VILLAGE, Role.HELPER}),
}


def _check_grantable(actor: Principal, role: Role) -> None:
    if role not in MANAGED_ROLES.get(actor.role, frozenset()):
        raise AppError("ROLE_NOT_GRANTABLE", role=ROLE_NAMES[actor.role],
                       target=ROLE_NAMES[role])


def managed_user(session: Session, actor: Principal, user_id: int) -> User:
    """A user inside the actor's area (else NOT_FOUND) whose role the actor manages."""
    user = session.get(User, user_id)
    if user is None or not contains(actor.area_code, user.area_code):
        raise AppError("NOT_FOUND")
    _check_grantable(actor, Role(user.role))
    return user


def _check_password(password: str, username: str) -> None:
    code = password_problem(password, username)
    if code is not None:
        raise AppError(code, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)


def create_user(session: Session, actor: Principal, *, username: str, full_name: str,
                password: str, role: Role, area_code: str, phone: str | None = None) -> User:
    """A new active user (argon2 password hash) bound to ``area_code`` inside the actor's. The
    manager chose the password, so the user must change it before anything else
    (``must_change_password``)."""
    _check_grantable(actor, role)
    if not contains(actor.area_code, area_code):
        raise AppError("AREA_OUTSIDE_SCOPE", area_code=area_code)
    return _new_user(session, actor.id, username=username, full_name=full_name,
                     password=password, role=role, area_code=area_code, phone=phone,
                     must_change_password=True)


def create_admin(session: Session, *, username: str, full_name: str, password: str,
                 area_code: str) -> User:
    """The first admin (or another), made on the server's console (``fangpin create-admin``):
    no actor; the person at the console chose the password, so no change is asked for."""
    return _new_user(session, None, username=username, full_name=full_name, password=password,
                     role=Role.ADMIN, area_code=area_code, via="create-admin")


def _new_user(session: Session, actor_id: int | None, *, username: str, full_name: str,
              password: str, role: Role, area_code: str, phone: str | None = None,
              must_change_password: bool = False, **audited: object) -> User:
    _check_password(password, username)
    if session.get(Area, area_code) is None:
        raise AppError("AREA_UNKNOWN", area_code=area_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AppError("USERNAME_TAKEN", username=username)
    user = User(username=username, full_name=full_name, phone=phone or None, role=role.value,
                area_code=area_code, password_hash=hash_password(password), active=True,
                must_change_password=must_change_password)
    try:
        with session.begin_nested():  # two requests racing on one username: one wins
            session.add(user)
            session.flush()
    except IntegrityError:
        raise AppError("USERNAME_TAKEN", username=username) from None
    record(session, "user.created", "user", user.id, actor_id, username=username,
           role=role.value, area_code=area_code, **audited)
    return user


def deactivate_user(session: Session, actor: Principal, user_id: int) -> User:
    """Deactivate a user and revoke their Collect tokens (a lost phone stays locked out even if
    the account is enabled again). Deactivating an inactive user changes nothing."""
    user = managed_user(session, actor, user_id)
    if user.id == actor.id:
        raise AppError("USER_SELF")
    if not user.active:
        return user
    user.active = False
    revoked = revoke_tokens(session, user)
    record(session, "user.deactivated", "user", user.id, actor.id, username=user.username,
           revoked_tokens=revoked)
    return user


def reset_password(session: Session, actor: Principal, user_id: int, password: str) -> User:
    """A manager sets a new password for a user they manage (a forgotten password). The user's
    cached credentials are forgotten and their console sessions end (server.console.session);
    they must choose their own password at their next login."""
    user = managed_user(session, actor, user_id)
    _check_password(password, user.username)
    user.password_hash = hash_password(password)
    user.must_change_password = user.id != actor.id
    session.flush()
    forget_user(session, user.id)
    record(session, "user.password_reset", "user", user.id, actor.id, username=user.username)
    return user


def change_password(session: Session, user: Principal, password: str) -> User:
    """A user's new password of their own (the caller has checked the old one, through the
    login limiter: ``server.accounts.login.password_login``); it ends a forced change."""
    account = session.get(User, user.id)
    if account is None or not account.active:
        raise AppError("NOT_FOUND")
    _check_password(password, account.username)
    account.password_hash = hash_password(password)
    account.must_change_password = False
    session.flush()
    forget_user(session, account.id)
    record(session, "user.password_changed", "user", account.id, account.id,
           username=account.username)
    return account


def issue_collect_token(session: Session, actor: Principal, user_id: int,
                        revoke_old: bool = False) -> tuple[User, str, int]:
    """A new Collect token for an active helper or village user; returns the user, the plain
    token (shown once, never stored) and how many earlier tokens were revoked."""
    user = managed_user(session, actor, user_id)
    if Role(user.role) not in COLLECTING_ROLES:
        raise AppError("TOKEN_NOT_FOR_ROLE", role=ROLE_NAMES[Role(user.role)])
    if not user.active:
        raise AppError("USER_INACTIVE", username=user.username)
    revoked = revoke_tokens(session, user) if revoke_old else 0
    token = issue_token(session, user)
    record(session, "collect_token.issued", "user", user.id, actor.id, username=user.username,
           revoked_old=revoked)
    return user, token, revoked


def revoke_collect_tokens(session: Session, actor: Principal, user_id: int) -> int:
    """Revoke every unrevoked Collect token of a user; returns how many."""
    user = managed_user(session, actor, user_id)
    revoked = revoke_tokens(session, user)
    if revoked:
        record(session, "collect_token.revoked", "user", user.id, actor.id,
               username=user.username, revoked=revoked)
    return revoked
