"""Alembic environment: the URL comes from server.migrate, the metadata from the models."""

from alembic import context

from server.db import Base, make_engine
from server.models import load_all

load_all()
config = context.config
url = config.attributes["database_url"]


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
