"""Area scope has one home: ``server.auth.within`` / ``around`` in queries, the domain's
``server.domain.areas.contains`` for loaded objects; both say the same on both databases."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import literal, select

from server.auth import Principal, around, within
from server.config import PROJECT_ROOT
from server.domain.areas import contains
from server.domain.roles import Role

CODES = ["43", "4304", "430421", "430421100", "430421100201", "430421100201001",
         "430422", "4305", "430421101", "43_4", "43%"]


def test_area_scope_sql_agrees_with_domain_contains(db):
    """SPEC §1: "Every user is bound to one area and sees only what lies inside it" — the
    query condition (``within``, ``around``) and the Python check (``contains``) agree on
    every pair of codes, on SQLite and PostgreSQL; a code is a prefix, never a LIKE pattern."""
    for outer in CODES:
        user = Principal(1, "u", Role.TOWNSHIP, outer)
        for inner in CODES:
            expected = contains(outer, inner)
            assert db.scalar(select(within(outer, literal(inner)))) is expected, (outer, inner)
            assert db.scalar(select(within(user, literal(inner)))) is expected, (outer, inner)
            assert db.scalar(select(around(inner, literal(outer)))) is expected, (outer, inner)


# Hand-written prefix tests of area codes: ``x.area_code.startswith(…)``,
# ``….startswith(user.area_code)``, ``Area.code.startswith(…)``.
_HAND_WRITTEN = re.compile(r"(area_code|\bcode\b|\bprovince\b)\)?\.startswith\(|"
                           r"\.startswith\([^)]*area_code")
_LEFTOVERS: tuple[str, ...] = ()  # none: every area check is ``within`` or ``contains``


def test_area_scope_spelled_once():
    """SPEC §1 (area scope): no service or view spells the prefix test itself; they call
    ``within`` (queries) or ``contains`` (loaded objects), so the rule has one home."""
    found = []
    for path in sorted((PROJECT_ROOT / "server").rglob("*.py")):
        relative = path.relative_to(PROJECT_ROOT)
        if relative in (Path("server/auth.py"),) or relative.parts[:2] == ("server", "domain"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _HAND_WRITTEN.search(line) and not any(ok in line for ok in _LEFTOVERS):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []
