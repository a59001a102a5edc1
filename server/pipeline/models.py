"""Cases of the two procedures, their append-only event log, objections and contacts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, utcnow


class Case(Base):
    """One household's identification or risk-elimination procedure (SPEC §6)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure: Mapped[str] = mapped_column(String(16), index=True)
    step: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    origin: Mapped[str | None] = mapped_column(String(2), default=None)  # codes: case_origin
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    household_id: Mapped[str | None] = mapped_column(
        ForeignKey("households.id"), index=True, default=None)
    declaration_id: Mapped[int | None] = mapped_column(
        ForeignKey("declarations.id"), default=None)
    notice_started: Mapped[date | None] = mapped_column(Date, default=None)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    step_entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Risk elimination: A54, the date of county approval.
    decided_on: Mapped[date | None] = mapped_column(Date, default=None)


class CaseEvent(Base):
    """Append-only: who moved a case, when, from which step to which, and why."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    action: Mapped[str] = mapped_column(String(16))
    from_step: Mapped[str | None] = mapped_column(String(20), default=None)
    to_step: Mapped[str | None] = mapped_column(String(20), default=None)
    status: Mapped[str] = mapped_column(String(10))
    opinion: Mapped[str | None] = mapped_column(Text, default=None)
    signatures: Mapped[list] = mapped_column(JSON, default=list)  # media SHA-256 keys
    # Documents that go with the step (公示照片, 评议会议记录, the sealed 附件3): one
    # {"key", "name", "content_type", "size"} per file, the key being the media's SHA-256.
    attachments: Mapped[list] = mapped_column(JSON, default=list)


class Objection(Base):
    """An objection raised during the public notice; it must be closed before the notice ends."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    result: Mapped[str | None] = mapped_column(Text, default=None)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class MonitoringContact(Base):
    """A household's 监测帮扶联系人. Replaced with a reason, never removed: the current one is
    the row without ``replaced_at``."""

    __tablename__ = "monitoring_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    unit: Mapped[str] = mapped_column(String(100))
    position: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    replaced_reason: Mapped[str | None] = mapped_column(Text, default=None)
