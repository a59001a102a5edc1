"""How many times each phones' list has changed in a user's area: one indexed query, whatever
the number of households (see ``server.lists.models``, docs/protocol.md "The phones' lists").

A user's lists show their area's subtree (``code >= area AND code < area || ':'``: codes are
digits, and ':' follows '9') and read a few rows of the areas above it (the village's name in a
group helper's labels, the county's in areas.csv, the province's figures), so the scope is the
subtree and the area's ancestors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.lists.models import ListChange

HOUSEHOLDS = "households"
AREAS = "areas"
FIGURES = "figures"
# Unfolded changes in a scope past which a manifest asks for a fold (``fold_due``).
FOLD_AT = 64
_FOLD_LOCK = 0x6C697374  # pg advisory lock key ("list"): one fold at a time
_ANCESTOR_LENGTHS = (2, 4, 6, 9, 12)  # province (the figures' key), city, county, township, village


@dataclass(frozen=True)
class ListCounts:
    """Changes so far of each list in a scope, and how many of them are not folded yet."""

    counts: dict[str, int] = field(default_factory=dict)
    pending: int = 0

    def of(self, name: str) -> int:
        return self.counts.get(name, 0)


# One statement, built once (the manifest's hot path): the folded counters and the appended
# changes of the scope; the ancestors are five parameters (the area itself where it has fewer).
_COUNTS = text("""
SELECT list, sum(n), sum(pending) FROM (
  SELECT list, version AS n, 0 AS pending FROM list_versions
  WHERE (area_code >= :area AND area_code < :area_end)
     OR area_code IN (:up_2, :up_4, :up_6, :up_9, :up_12)
  UNION ALL
  SELECT list, 1, 1 FROM list_changes
  WHERE (area_code >= :area AND area_code < :area_end)
     OR area_code IN (:up_2, :up_4, :up_6, :up_9, :up_12)
) AS scope GROUP BY list
""")


def _scope(area_code: str) -> dict[str, str]:
    return {"area": area_code, "area_end": area_code + ":",
            **{f"up_{n}": area_code[:n] if n < len(area_code) else area_code
               for n in _ANCESTOR_LENGTHS}}


def list_counts(session: Session, area_code: str) -> ListCounts:
    """The change counts of the lists of a user bound to ``area_code``: one statement over the
    folded counters and the appended changes of the scope (about one row per area and list)."""
    rows = session.connection().execute(_COUNTS, _scope(area_code)).all()
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
