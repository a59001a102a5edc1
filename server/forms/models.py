from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, utcnow


class Form(Base):
    """A form phones can fill; ``current_version`` is the one offered in the formList."""

    __tablename__ = "forms"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the XForm's id
    title: Mapped[str] = mapped_column(String(200))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("form_versions.id", use_alter=True), default=None
    )
    current_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[current_version_id], lazy="joined", post_update=True
    )


class FormVersion(Base):
    """One published XForm. Old versions stay and keep accepting submissions."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(ForeignKey("forms.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # only the download reads it
    md5: Mapped[str] = mapped_column(String(32))
    # Names of the form attachments the XForm reads (generated per user by sync.attachments).
    media: Mapped[list] = mapped_column(JSON, default=list)
    # [{"path": "/data/photo", "mediatype": "image/*"}, …]: the questions answered with files.
    binary_fields: Mapped[list] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
