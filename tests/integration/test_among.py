"""server.db.among: ``column IN values`` for a batch's many values; on PostgreSQL one array
parameter, so the statement's text does not grow with the count (issue 16)."""

from __future__ import annotations

import sqlalchemy as sa

from server.areas.models import Area
from server.db import among, among_rows


def test_among_finds_what_in_finds_and_its_text_does_not_grow(db, backend):
    held = list(db.scalars(sa.select(Area.code).order_by(Area.code)).all())
    full = next(code for code in held if len(code) == 15)  # a group: the column's whole width
    assert len(held) > 10
    for values in ([], held[:1], [*held[::3], "999999", "not a code"],
                   [full + "9"]):  # one character more: never the code it begins with
        found = set(db.scalars(sa.select(Area.code).where(among(db, Area.code, values))))
        assert found == set(held) & set(values)

    def text(count: int) -> str:
        statement = sa.select(Area.code).where(among(db, Area.code, ["x"] * count))
        return str(statement.compile(db.get_bind(), compile_kwargs={"render_postcompile": True}))

    if backend == "postgresql":
        assert text(1) == text(500) and "ANY" in text(1)
    else:
        assert text(1) != text(500)  # SQLite: an expanding IN, one placeholder per value


def test_among_rows_finds_what_a_tuple_in_finds_and_its_text_does_not_grow(db, backend):
    held = db.execute(sa.select(Area.code, Area.name).order_by(Area.code)).all()
    assert len(held) > 10
    pairs = [tuple(row) for row in held]
    full = next(code for code, _ in pairs if len(code) == 15)
    for rows in ([], pairs[:1], [*pairs[::3], ("999999", "无"), (pairs[1][0], "别的名字")],
                 [(full + "9", dict(pairs)[full])]):  # a longer code never matches a shorter
        found = set(db.execute(sa.select(Area.code, Area.name).where(
            among_rows(db, (Area.code, Area.name), rows))).all())
        assert found == set(pairs) & set(rows)

    def text(count: int) -> str:
        statement = sa.select(Area.code).where(
            among_rows(db, (Area.code, Area.name), [("x", "y")] * count))
        return str(statement.compile(db.get_bind(), compile_kwargs={"render_postcompile": True}))

    if backend == "postgresql":
        assert text(1) == text(500) and "unnest" in text(1)
    else:
        assert text(1) != text(500)
