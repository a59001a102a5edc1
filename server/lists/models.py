"""Change counters of the phones' lists (``households.csv``, ``areas.csv``, ``figures.csv``).

Written only by database triggers (migrations ``f3a8c1d92e57``, ``b81f4c2d7e95``): every insert,
update or delete of rows shown in a list appends a ``ListChange`` for the list and each area they
lie in — once per statement on PostgreSQL (transition tables: a batch's COPY of 200 households
of one village is one row), once per row on SQLite — whichever code path wrote the rows (the
batch take-in, a reviewer's correction, an import, a hand-written UPDATE). Appending takes no
lock another writer waits for, so two workers taking in households of one village never wait on,
or deadlock over, a counter row.

``fold`` (``server.lists.services``) moves the appended rows into ``ListVersion`` counters now and
then, in one statement, so the rows a manifest reads stay about one per area. A list's version
for a user is the number of changes in their area: ``sum(ListVersion.version)`` plus
``count(ListChange)`` over it. Folding keeps that sum, and every committed change adds to it,
whatever order concurrent transactions commit in (a maximum of sequence numbers would not:
a transaction that took its number first and commits last would be missed).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base

# Area codes compared byte by byte on PostgreSQL, so that a subtree is one index range
# (``code >= '430421' AND code < '430421:'``) whatever the database's locale.
AreaCode = String(15).with_variant(String(15, collation="C"), "postgresql")
ChangeId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid is 64-bit already


class ListChange(Base):
    """One change of a list in an area, appended by a trigger, not yet folded."""

    __tablename__ = "list_changes"
    __table_args__ = (Index("ix_list_changes_area_code_list", "area_code", "list"),)

    id: Mapped[int] = mapped_column(ChangeId, primary_key=True)
    list: Mapped[str] = mapped_column(String(16))  # households | areas | figures
    area_code: Mapped[str] = mapped_column(AreaCode)  # a household's area, an area, a province


class ListVersion(Base):
    """How many changes of a list an area has had, folded from ``ListChange``."""

    __tablename__ = "list_versions"

    area_code: Mapped[str] = mapped_column(AreaCode, primary_key=True)
    list: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
