"""Alembic, configured in code (no alembic.ini): the schema lives in ``migrations/``."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from server.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    """Autogenerate a new revision from the models (review it before committing)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
