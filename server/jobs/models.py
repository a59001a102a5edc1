"""One row per background job: what was asked, by whom, how far it is, the file it made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, utcnow
from server.domain.jobs import JobState


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # the handler (server.jobs.services.HANDLERS)
    title: Mapped[str] = mapped_column(String(200))  # what the user asked for, in Chinese
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    area_code: Mapped[str] = mapped_column(String(15))  # the asker's area when asked
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED.value)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None] = mapped_column(default=None)
    result_key: Mapped[str | None] = mapped_column(String(64), default=None)  # media store
    result_name: Mapped[str | None] = mapped_column(String(200), default=None)
    result_type: Mapped[str | None] = mapped_column(String(100), default=None)
    result_size: Mapped[int | None] = mapped_column(default=None)
    error_code: Mapped[str | None] = mapped_column(String(60), default=None)
    error_message: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index("ix_jobs_user_created", "user_id", "created_at"),)
