"""Department warning lists (部门筛查预警): uploaded rows, matched to people by ID number."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, utcnow


class WarningList(Base):
    __tablename__ = "warning_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))  # the uploader's county
    media_sha256: Mapped[str | None] = mapped_column(ForeignKey("media_objects.sha256"),
                                                     default=None)  # the file as received


OPEN_TASK = "status = 'matched' AND check_result IS NULL"


class WarningRow(Base):
    """One row of a list. Matched rows are tasks for the household's village: a home check
    whose result is fed back (部门筛查、集中交办、入户核查、结果反馈).

    Status: ``matched`` (the row is a task), ``joined`` (it names a task already open for the
    household, department and reason: ``task_id``), ``already_checked`` (that task was checked
    and the row is not newer than the check: ``task_id``), ``unmatched``, ``invalid`` — see
    ``server.domain.warnings``. The database holds one open task per ``task_key``.
    """

    __tablename__ = "warning_rows"
    __table_args__ = (
        Index("uq_warning_rows_open_task", "task_key", unique=True,
              postgresql_where=text(OPEN_TASK), sqlite_where=text(OPEN_TASK)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("warning_lists.id"), index=True)
    row_number: Mapped[int]
    department: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(Text)
    reported_on: Mapped[date | None] = mapped_column(Date, default=None)
    # matched|joined|already_checked|unmatched|invalid
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    household_id: Mapped[str | None] = mapped_column(ForeignKey("households.id"), index=True,
                                                     default=None)
    area_code: Mapped[str | None] = mapped_column(String(15), index=True, default=None)
    check_result: Mapped[str | None] = mapped_column(Text, default=None)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # codes: warning_check_outcome; 02 opens an identification case (case_origin 03)
    outcome: Mapped[str | None] = mapped_column(String(2), default=None)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None)
    # server.domain.warnings.task_key of a row that matched a household
    task_key: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # the task a joined or already-checked row was counted on
    task_id: Mapped[int | None] = mapped_column(ForeignKey("warning_rows.id"), index=True,
                                                default=None)
