from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.areas.models import Area
from server.db import Base, UTCDateTime, utcnow
from server.domain.roles import COLLECTING_ROLES


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Set when someone else chose the password (an admin created the account or reset it):
    # until the user picks their own, only their password and /me answer (server.accounts).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    area: Mapped[Area] = relationship(lazy="joined")

    @property
    def collects(self) -> bool:
        return self.role in COLLECTING_ROLES


class CollectToken(Base):
    """A revocable secret that stands for a user in the server URL ``/key/<token>``.

    Only the SHA-256 of the token is stored: it is shown once, when it is made.
    """

    __tablename__ = "collect_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """One failed login, under the limiter's key of its account name and again under its client
    address (``server.domain.logins``). Rows older than the window are deleted as new ones come.
    A table rather than process memory, so that every worker process counts the same failures."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)
