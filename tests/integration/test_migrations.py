"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.db import Base, make_engine
from server.migrate import alembic_config
from server.models import load_all


def _differences(url: str) -> list:
    load_all()
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            # procrastinate's own tables (the jobs revision, PostgreSQL) are not our models
            "include_name": lambda name, type_, _parents: not (
                type_ == "table" and name and name.startswith("procrastinate"))})
        differences = compare_metadata(context, Base.metadata)
        dialect = connection.dialect.name
    engine.dispose()
    return _sqlite_immediate_alike(differences) if dialect == "sqlite" else differences


def _sqlite_immediate_alike(differences: list) -> list:
    """SQLite's differences without the foreign keys that differ only by ``DEFERRABLE
    INITIALLY IMMEDIATE`` in the models: SQLite checks such a key at once, as one without the
    clause (only INITIALLY DEFERRED defers there), and adding the clause would rebuild the
    table. Every other difference, of these keys too, is kept."""
    def shape(fk) -> tuple:
        return (fk.parent.name, tuple(c.name for c in fk.columns), fk.referred_table.name,
                tuple(e.column.name for e in fk.elements), fk.ondelete, fk.onupdate)

    removed = {shape(d[1]) for d in differences if d[0] == "remove_fk" and not d[1].deferrable}
    alike = {shape(d[1]) for d in differences
             if d[0] == "add_fk" and d[1].deferrable and (d[1].initially or "").upper()
             == "IMMEDIATE" and shape(d[1]) in removed}
    return [d for d in differences
            if not (d[0] in ("add_fk", "remove_fk") and shape(d[1]) in alike)]


def test_migrated_schema_matches_the_models(database):
    """DESIGN: Alembic migrations from the first table on; no model change without one."""
    assert _differences(database.url) == []


def test_every_migration_downgrades_and_upgrades_again(empty_database):
    """Each revision's downgrade undoes it, so a bad deploy can be rolled back (empty DB)."""
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")

    assert _differences(empty_database) == []
