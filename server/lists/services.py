"""How many times each phones' list has changed in a user's area: one indexed query, whatever
the number of households (see ``server.lists.models``, docs/protocol.md "The phones' lists").

A user's lists show their area's subtree (``code >= area AND code < area || ':'``: codes are
digits, and ':' follows '9') and read a few rows of the areas above it (the village's name in a
group helper's labels, the county's in areas.csv, the province's figures), so the scope is the
subtree and the area's ancestors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, literal, or_, select, text, union_all
from sqlalchemy.orm import Session

from server.lists.models import ListChange, ListVersion

HOUSEHOLDS = "households"
AREAS = "areas"
FIGURES = "figures"
# Unfolded changes in a scope past which a manifest asks for a fold (``fold_due``).
FOLD_AT = 256
_FOLD_LOCK = 0x6C697374  # pg advisory lock key ("list"): one fold at a time
_ANCESTOR_LENGTHS = (2, 4, 6, 9, 12)  # province (the figures' key), city, county, township, village


@dataclass(frozen=True)
class ListCounts:
    """Changes so far of each list in a scope, and how many of them are not folded yet."""

    counts: dict[str, int] = field(default_factory=dict)
    pending: int = 0

    def of(self, name: str) -> int:
        return self.counts.get(name, 0)


def _in_scope(column, area_code: str):
    ancestors = [area_code[:n] for n in _ANCESTOR_LENGTHS if n < len(area_code)]
    subtree = and_(column >= area_code, column < area_code + ":")
    return or_(subtree, column.in_(ancestors)) if ancestors else subtree


def list_counts(session: Session, area_code: str) -> ListCounts:
    """The change counts of the lists of a user bound to ``area_code``: one statement over the
    folded counters and the appended changes of the scope (about one row per area and list)."""
    folded = select(ListVersion.list, ListVersion.version.label("n"),
                    literal(0).label("pending")).where(_in_scope(ListVersion.area_code, area_code))
    appended = select(ListChange.list, literal(1).label("n"),
                      literal(1).label("pending")).where(_in_scope(ListChange.area_code, area_code))
    both = union_all(folded, appended).subquery()
    rows = session.execute(select(both.c.list, func.sum(both.c.n), func.sum(both.c.pending))
                           .group_by(both.c.list)).all()
    return ListCounts({name: int(n) for name, n, _ in rows},
                      sum(int(pending) for *_, pending in rows))


def fold_due(counts: ListCounts) -> bool:
    return counts.pending > FOLD_AT


_FOLD_POSTGRESQL = text("""
WITH moved AS (DELETE FROM list_changes RETURNING area_code, list),
counted AS (SELECT area_code, list, count(*) AS n FROM moved GROUP BY area_code, list)
INSERT INTO list_versions (area_code, list, version)
SELECT area_code, list, n FROM counted ORDER BY area_code, list
ON CONFLICT (area_code, list) DO UPDATE SET version = list_versions.version + EXCLUDED.version
""")
_FOLD_SQLITE = (
    text("INSERT INTO list_versions (area_code, list, version) "
         "SELECT area_code, list, count(*) FROM list_changes WHERE id <= :last "
         "GROUP BY area_code, list "
         "ON CONFLICT (area_code, list) DO UPDATE SET version = version + excluded.version"),
    text("DELETE FROM list_changes WHERE id <= :last"),
)


def fold(session: Session) -> bool:
    """Move the appended changes into the counters, keeping every scope's sum; False when
    another fold is under way (PostgreSQL; it does the same work). The caller commits.

    PostgreSQL: one statement; ``DELETE … RETURNING`` moves exactly the rows this transaction
    sees committed (one a writer has not committed yet stays for the next fold), and a second
    fold waits on no row: the advisory lock makes it skip. SQLite has one writer at a time."""
    if session.get_bind().dialect.name == "postgresql":
        if not session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                               {"key": _FOLD_LOCK}).scalar():
            return False
        session.execute(_FOLD_POSTGRESQL)
        return True
    last = session.execute(select(func.max(ListChange.id))).scalar()
    if last is not None:
        for statement in _FOLD_SQLITE:
            session.execute(statement, {"last": last})
    return True
