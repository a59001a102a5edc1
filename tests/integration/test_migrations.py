"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.db import Base, make_engine
from server.models import load_all


def test_migrated_schema_matches_the_models(database):
    """DESIGN: Alembic migrations from the first table on; no model change without one."""
    load_all()
    engine = make_engine(database.url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()

    assert differences == []
