"""Alembic, configured in code (no alembic.ini): the schema lives in ``migrations/``."""

from __future__ import annotations

import functools

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



def pending(connection) -> list[str]:
    """What keeps the database on ``connection`` from being current with ``migrations/``:
    the head revisions it lacks, and any revision it has that the code does not know (the code
    is older than the schema). Empty: current."""
    from alembic.runtime.migration import MigrationContext

    heads, known = revisions()
    applied = set(MigrationContext.configure(connection).get_current_heads())
    return sorted(heads - applied) + sorted(f"unknown:{r}" for r in applied - known)


@functools.cache
def revisions() -> tuple[frozenset[str], frozenset[str]]:
    """The heads of ``migrations/`` and every revision in it (read once per process)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(""))
    return (frozenset(script.get_heads()),
            frozenset(r.revision for r in script.walk_revisions()))
