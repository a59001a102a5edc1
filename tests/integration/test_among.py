"""server.db.among: ``column IN values`` for a batch's many values; on PostgreSQL one array
parameter, so the statement's text does not grow with the count (issue 16)."""

from __future__ import annotations

import sqlalchemy as sa

from server.db import among
from server.households.models import Person


def test_among_finds_what_in_finds_and_its_text_does_not_grow(db, backend):
    held = list(db.scalars(sa.select(Person.id_number).order_by(Person.id)).all())
    for values in ([], held[:1], [*held, "43042119900101000X", "not a number"]):
        found = set(db.scalars(sa.select(Person.id_number)
                               .where(among(db, Person.id_number, values))))
        assert found == set(held) & set(values)

    def text(count: int) -> str:
        statement = sa.select(Person.id).where(among(db, Person.id_number, ["x"] * count))
        return str(statement.compile(db.get_bind(), compile_kwargs={"render_postcompile": True}))

    if backend == "postgresql":
        assert text(1) == text(500) and "ANY" in text(1)
    else:
        assert text(1) != text(500)  # SQLite: an expanding IN, one placeholder per value
