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
    engine.dispose()
    return differences


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
