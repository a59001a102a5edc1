"""PostgreSQL: a household's head and latest survey may be checked at the end of a batch.

The batch take-in (``server.households.bulk``) writes a new household with its head and its
latest survey already named: the people's and survey versions' ids are taken from their
sequences first, and the household, which its people and survey versions reference, is written
before them. So the two references from the household are made ``DEFERRABLE INITIALLY
IMMEDIATE``: every other write still has them checked at once, and the batch defers them with
``SET CONSTRAINTS`` and has them checked (``IMMEDIATE`` again) before its savepoint ends.
Before, the batch wrote each new household twice: once without them, then an UPDATE of every
household (a fifth of the take-in's PostgreSQL time). SQLite's constraints stay as they are;
the batch there still writes the references after the rows (``server.rows.defers_references``).

Revision ID: d4e8a2b6c1f9
Revises: b81f4c2d7e95
Create Date: 2026-12-06 23:10:00
"""
from alembic import op


revision = 'd4e8a2b6c1f9'
down_revision = 'b81f4c2d7e95'
branch_labels = None
depends_on = None

_CONSTRAINTS = ("fk_households_head_person_id_persons",
                "fk_households_latest_survey_id_survey_versions")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _CONSTRAINTS:
        op.execute(f"ALTER TABLE households ALTER CONSTRAINT {name} DEFERRABLE INITIALLY IMMEDIATE")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _CONSTRAINTS:
        op.execute(f"ALTER TABLE households ALTER CONSTRAINT {name} NOT DEFERRABLE")
