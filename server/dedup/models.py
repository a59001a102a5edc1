"""What deduplication holds for people to decide: conflicts and likely duplicates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, utcnow


class Conflict(Base):
    """A submission held for a reviewer (SPEC §5): a person listed twice, registered in
    another household, left out of a resurvey, or an area outside the submitter's.

    ``area_code`` is the smallest area covering everything involved: its reviewers decide.
    """

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    member_indexes: Mapped[list] = mapped_column(JSON, default=list)
    households: Mapped[list] = mapped_column(JSON, default=list)
    area_code: Mapped[str] = mapped_column(String(15), index=True, default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    resolution: Mapped[str | None] = mapped_column(String(32), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class DuplicateFlag(Base):
    """Two people who are likely the same (same name and birth date, IDs one digit apart).

    Never merged automatically. ``status`` is open, same (a reviewer confirmed: fix the entry) or
    not_same — which is remembered: the pair is not flagged again.
    """

    __tablename__ = "duplicate_flags"
    __table_args__ = (UniqueConstraint("id_number_a", "id_number_b"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number_a: Mapped[str] = mapped_column(String(18))  # the smaller of the two
    id_number_b: Mapped[str] = mapped_column(String(18))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
