"""Who is asking: passwords (argon2), Collect tokens, and the area scope of a user.

Area scope is spelled once: ``within(scope, column)`` in queries (a user sees what lies inside
their area), ``server.domain.areas.contains`` for an object already loaded.

ODK Collect sends HTTP Basic credentials only over https, so each collecting user also gets a
secret token; the server URL ``/key/<token>`` carries it (as ODK Central's App Users do). Only the
token's SHA-256 is stored. Production runs behind TLS either way.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, bindparam, func, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from server.accounts.models import CollectToken, User
from server.concurrency import offload
from server.db import autocommit_engine, utcnow
from server.domain.roles import COLLECTING_ROLES, ROLE_NAMES, Role
from server.errors import AppError

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: what handlers and services need of a user, nothing more."""

    id: int
    username: str
    role: Role
    area_code: str
    # Someone else chose the password: until the user picks their own, the REST API, OpenRosa
    # with a password and the console let them do nothing else (server.accounts.login).
    must_change_password: bool = False

    @property
    def collects(self) -> bool:
        return self.role in COLLECTING_ROLES

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.id, user.username, Role(user.role), user.area_code,
                   bool(user.must_change_password))
# Verified against when the username is unknown, so timing does not reveal which users exist.
_DUMMY_HASH = _hasher.hash("fangpin-dummy-password")


def check_role(user: Principal, roles) -> None:
    """403 FORBIDDEN_ROLE unless ``user``'s role is one of ``roles`` (the one role check)."""
    if user.role not in roles:
        raise AppError("FORBIDDEN_ROLE", role=ROLE_NAMES.get(user.role, user.role.value))


def within(scope: Principal | str, column: ColumnElement[str]) -> ColumnElement[bool]:
    """The condition "the area code in ``column`` lies inside ``scope``" (or is it): ``scope`` is
    a user (their area scope) or an area code. Area codes nest by prefix
    (``server.domain.areas``); the code is escaped, so it is a prefix and never a pattern."""
    area = scope.area_code if isinstance(scope, Principal) else scope
    return column.startswith(area, autoescape=True)


def around(scope: Principal | str, column: ColumnElement[str]) -> ColumnElement[bool]:
    """The converse of ``within``: "the area code in ``column`` contains ``scope``'s area" (a
    county's sweep covers its villages). Compared as the leading characters of the code, so a
    stored code is never read as a LIKE pattern either."""
    area = scope.area_code if isinstance(scope, Principal) else scope
    return func.substr(literal(area), 1, func.length(column)) == column


def hash_password(password: str) -> str:
    # ~120 ms of CPU: off the event loop under the gevent worker (server.concurrency)
    return offload(_hasher.hash, password)


def check_password(user: User | None, password: str) -> bool:
    try:
        return offload(_hasher.verify, user.password_hash if user else _DUMMY_HASH,
                       password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def user_by_password(session: Session, username: str, password: str) -> Principal | None:
    """The active user with these credentials. Argon2 is slow on purpose (tens to hundreds of
    ms), so a successful check is remembered per process like a token (``AuthCache``), under a
    keyed hash of the credentials that no other process knows."""
    cache = _auth_caches.get(session.get_bind())
    digest = _credentials_digest(username, password)
    if cache is not None and (principal := cache.get(digest)) is not None:
        return principal
    user = session.scalar(select(User).where(User.username == username))
    if not check_password(user, password) or not user.active:
        return None
    principal = Principal.of(user)
    if cache is not None:
        cache.put(digest, principal)
    return principal


_PROCESS_KEY = secrets.token_bytes(32)


def _credentials_digest(username: str, password: str) -> str:
    text = f"{username}\x00{password}".encode("utf-8", "surrogatepass")
    return "p:" + hashlib.blake2b(text, key=_PROCESS_KEY).hexdigest()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User) -> str:
    """Make a new Collect token for ``user``; the plain token is returned once, never stored."""
    token = secrets.token_urlsafe(36)
    session.add(CollectToken(user=user, token_sha256=_token_digest(token)))
    session.flush()
    return token


def revoke_tokens(session: Session, user: User) -> int:
    tokens = session.scalars(
        select(CollectToken).where(
            CollectToken.user_id == user.id, CollectToken.revoked_at.is_(None)
        )
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
    session.flush()
    forget_user(session, user.id)
    return len(tokens)


_USER_OF_TOKEN = (
    select(User.id, User.username, User.role, User.area_code)
    .join(CollectToken, CollectToken.user_id == User.id)
    .where(CollectToken.token_sha256 == bindparam("digest"),
           CollectToken.revoked_at.is_(None), User.active.is_(True))
)


class AuthCache:
    """Recently checked credentials (Collect tokens, passwords) → their user, for ``ttl``
    seconds: a Collect sync or a console page sends several requests in a row.

    A revoked token, a deactivated user or a changed password is refused by this process at
    once when the change is made through it (``forget_user``), and by every other process
    within ``ttl`` seconds. Only good credentials are cached: a wrong one always costs its check.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def put(self, digest: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:  # bounded: drop the expired, then everything
                now = self._clock()
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
                if len(self._entries) > 10_000:
                    self._entries.clear()
            self._entries[digest] = (principal, self._clock() + self.ttl)

    def forget_user(self, user_id: int) -> None:
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v[0].id != user_id}


_auth_caches: weakref.WeakKeyDictionary[Engine, AuthCache] = weakref.WeakKeyDictionary()


def use_auth_cache(engine: Engine, ttl: float) -> None:
    """Cache credential checks on ``engine``'s database for ``ttl`` seconds (0: no cache); a
    session on its autocommitting twin (``server.db.reads_only``) shares the cache."""
    cache = AuthCache(ttl)
    for bound in (engine, autocommit_engine(engine)):
        if bound is not None:
            _auth_caches[bound] = cache


def forget_user(session: Session, user_id: int) -> None:
    """Drop ``user_id``'s cached credentials (after a revocation, a deactivation, a new
    password): call it from every service that makes those changes."""
    cache = _auth_caches.get(session.get_bind())
    if cache is not None:
        cache.forget_user(user_id)


def user_by_token(engine: Engine, token: str, session: Callable[[], Session]
                  ) -> Principal | None:
    """The active user of an unrevoked token: from the token cache of ``engine``'s database,
    or one indexed query in ``session()`` (called only then: a request whose token the cache
    knows opens no session for it)."""
    if not token or len(token) > 200:
        return None
    digest = _token_digest(token)
    cache = _auth_caches.get(engine)
    if cache is not None and (principal := cache.get(digest)) is not None:
        return principal
    row = session().connection().execute(_USER_OF_TOKEN, {"digest": digest}).first()
    if row is None:
        return None
    principal = Principal(row.id, row.username, Role(row.role), row.area_code)
    if cache is not None:
        cache.put(digest, principal)
    return principal
