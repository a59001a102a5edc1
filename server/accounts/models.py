from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.areas.models import Area
from server.db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    HELPER = "helper"  # 信息采集员: fills forms on the phone
    VILLAGE = "village"  # 村两委 / 驻村工作队
    TOWNSHIP = "township"  # 乡镇审核
    COUNTY = "county"  # 县乡村振兴局
    ADMIN = "admin"


ROLE_NAMES = {
    Role.HELPER: "信息采集员",
    Role.VILLAGE: "村级",
    Role.TOWNSHIP: "乡镇",
    Role.COUNTY: "县级",
    Role.ADMIN: "管理员",
}

# Roles whose users collect data with ODK Collect and so see forms in the formList.
COLLECTING_ROLES = frozenset({Role.HELPER, Role.VILLAGE})
# Roles that review what helpers sent (invalid or held submissions, conflicts, likely
# duplicates) inside their area. Helpers collect; they do not review.
REVIEWING_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN})


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
