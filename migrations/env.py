"""Alembic environment: the URL comes from server.migrate, the metadata from the models."""

from alembic import context

from server.db import Base, make_engine
from server.models import load_all

load_all()
config = context.config
url = config.attributes["database_url"]


def include_name(name, type_, parent_names) -> bool:
    """procrastinate's tables (PostgreSQL; created by the jobs revision) are not our models."""
    return not (type_ == "table" and name and name.startswith("procrastinate"))


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
