from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, utcnow


class SubmissionState(StrEnum):
    RECEIVED = "received"  # stored; the registry has not taken it in yet
    APPLIED = "applied"  # the registry holds it (a survey version, measures, …)
    INVALID = "invalid"  # failed the server's validation: kept with its problems for review
    HELD = "held"  # a dedup conflict holds it until a reviewer resolves it
    REJECTED = "rejected"  # a reviewer rejected it (with a reason)
    IGNORED = "ignored"  # a form the registry does not take in (yet)
    FAILED = "failed"  # taking it in raised: kept with the error for review, retried after a fix


STATE_NAMES = {
    SubmissionState.RECEIVED: "待入库",
    SubmissionState.APPLIED: "已入库",
    SubmissionState.INVALID: "校验未通过",
    SubmissionState.HELD: "冲突暂停",
    SubmissionState.REJECTED: "已驳回",
    SubmissionState.IGNORED: "不入库",
    SubmissionState.FAILED: "入库出错",
}

# What a reviewer works on (server.submissions.review).
REVIEWABLE = (SubmissionState.INVALID, SubmissionState.HELD, SubmissionState.FAILED)
# The received state as SQL text: the partial index's predicate and the queue's condition
# (``QUEUED``) are written with the same literal, as the planner needs to match them.
_RECEIVED_LITERAL = f"'{SubmissionState.RECEIVED.value}'"
_RECEIVED = f"state = {_RECEIVED_LITERAL}"
_REVIEWABLE = "state IN ({})".format(", ".join(f"'{state.value}'" for state in REVIEWABLE))


class MediaObject(Base):
    """A file in the media store; its key is the SHA-256 of its bytes, so it is stored once."""

    __tablename__ = "media_objects"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Submission(Base):
    """One filled form as received from a phone, stored once per instanceID."""

    __tablename__ = "submissions"
    __table_args__ = (
        # Partial indexes: the registry's job queue (received, by id) and the review queue. Not
        # one index of every state: most rows are applied, and the queue's entries turn dead as
        # soon as a submission is taken in. Keyed by id, those dead entries lie behind the new
        # ones, where the worker's next scan of the queue clears them; in an index of states
        # they lay where the next burst's entries go, and slowed its inserts by a fifth.
        Index("ix_submissions_received", "id",
              postgresql_where=text(_RECEIVED), sqlite_where=text(_RECEIVED)),
        Index("ix_submissions_reviewable", "state",
              postgresql_where=text(_REVIEWABLE), sqlite_where=text(_REVIEWABLE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(100), unique=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(100), default=None)
    xml: Mapped[str] = mapped_column(Text)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # True once every file the XML names has arrived (Collect may split a submission).
    complete: Mapped[bool] = mapped_column(default=False)
    # What the registry made of it (see SubmissionState); problems are the server's findings:
    # [{"severity", "code", "field", "member", "message"}].
    state: Mapped[str] = mapped_column(String(16), default="received")
    problems: Mapped[list] = mapped_column(JSON, default=list)
    household_id: Mapped[str | None] = mapped_column(
        ForeignKey("households.id", use_alter=True), index=True, default=None)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # A supervisor's corrections of an invalid submission, by field ("a28_wages") or member
    # field ("members[2]/a7_id_number"): applied over the XML, which is never rewritten.
    corrections: Mapped[dict] = mapped_column(JSON, default=dict)
    review_note: Mapped[str | None] = mapped_column(Text, default=None)

    attachments: Mapped[list[SubmissionAttachment]] = relationship(
        back_populates="submission", order_by="SubmissionAttachment.name"
    )


# The job queue's condition (``state = 'received'``) with the state written into the SQL, not
# bound: psycopg prepares a statement run often, and PostgreSQL's generic plan for a bound
# ``state = $1`` cannot use the partial index ``ix_submissions_received``; it scanned every
# applied submission in id order to find the first received one (the worker's claim and its
# pacing checks, each poll: 3.8 ms a claim with 6 000 submissions stored, growing with the table).
QUEUED = Submission.state == literal_column(_RECEIVED_LITERAL)


class SubmissionAttachment(Base):
    """A file of a submission; ``media_sha256`` stays empty until it arrives.

    Mostly a file the XML names, under the path of the question it answers. A file part the XML
    does not name (Collect sends every file of the instance's folder) is kept too, as an
    *unreferenced* attachment: ``field_path`` empty, received with the part that brought it.
    """

    __tablename__ = "submission_attachments"
    __table_args__ = (UniqueConstraint("submission_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (submission_id, name) index serves lookups by submission
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    name: Mapped[str] = mapped_column(String(255))
    field_path: Mapped[str] = mapped_column(String(255))
    media_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("media_objects.sha256"), default=None
    )
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    submission: Mapped[Submission] = relationship(back_populates="attachments")


class RejectedUpload(Base):
    """What a refused submission carried, kept so that nothing received is lost.

    The XML part as received, up to ``server.submissions.services.REFUSED_KEEP_BYTES`` (2 MiB),
    is in ``body``; ``size`` is how many bytes the part held in all (the rest was counted, not
    stored). Kept for a retention period: ``fangpin prune-rejected --older-than 90d`` removes
    older ones. Rows from before ``body`` existed have the raw XML in the media store under
    ``media_sha256`` instead.
    """

    __tablename__ = "rejected_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    error_code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[str | None] = mapped_column(String(100), default=None)
    media_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("media_objects.sha256"), default=None
    )
    body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
