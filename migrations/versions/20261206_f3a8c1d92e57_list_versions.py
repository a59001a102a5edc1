"""The phones' lists' change counters: ``list_changes`` (appended by triggers) and
``list_versions`` (folded), and the triggers on every table a generated list shows
(households, persons, survey_versions, warning_rows → households.csv; areas → areas.csv and
the place names of households.csv; yearly_figures → figures.csv). See server/lists/models.py.

The triggers do the counting so that no write path has to remember it (the batch take-in
writes with bulk Core statements). Row-level on both databases; each appends one row per area a
change touches (both areas of a household that moves), and takes no lock another writer waits
for. NOTE for later migrations: on SQLite a ``batch_alter_table`` that recreates one of these
tables drops its triggers; create them again there (``tests/sync/test_list_versions.py`` checks
that every trigger exists at head).

Revision ID: f3a8c1d92e57
Revises: e5b19c7d2a40
Create Date: 2026-12-06 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a8c1d92e57'
down_revision = 'e5b19c7d2a40'
branch_labels = None
depends_on = None

_AREA_CODE = sa.String(15).with_variant(sa.String(15, collation="C"), "postgresql")
_ADD = "INSERT INTO list_changes (list, area_code)"
# the households a person's row shows in (as a member, or as the head)
_OF_PERSON = ("SELECT 'households', area_code FROM households WHERE id = {p}.household_id "
              "UNION SELECT 'households', area_code FROM households WHERE head_person_id = {p}.id")
_OF_SURVEY = "SELECT 'households', area_code FROM households WHERE id = {p}.household_id"

# SQLite: (trigger name, table, event, WHEN or "", statements)
_SQLITE = [
    ("lists_households_insert", "households", "INSERT", "",
     [f"{_ADD} VALUES ('households', NEW.area_code)"]),
    ("lists_households_update", "households", "UPDATE", "",
     [f"{_ADD} VALUES ('households', NEW.area_code)",
      f"{_ADD} SELECT 'households', OLD.area_code WHERE OLD.area_code IS NOT NEW.area_code"]),
    ("lists_households_delete", "households", "DELETE", "",
     [f"{_ADD} VALUES ('households', OLD.area_code)"]),
    ("lists_persons_update", "persons", "UPDATE OF name, id_number, household_id",
     "OLD.name IS NOT NEW.name OR OLD.id_number IS NOT NEW.id_number "
     "OR OLD.household_id IS NOT NEW.household_id",
     [f"{_ADD} {_OF_PERSON.format(p='OLD')} UNION {_OF_PERSON.format(p='NEW')}"]),
    ("lists_persons_delete", "persons", "DELETE", "",
     [f"{_ADD} {_OF_PERSON.format(p='OLD')}"]),
    ("lists_survey_versions_insert", "survey_versions", "INSERT", "",
     [f"{_ADD} {_OF_SURVEY.format(p='NEW')}"]),
    ("lists_survey_versions_update", "survey_versions", "UPDATE", "",
     [f"{_ADD} {_OF_SURVEY.format(p='OLD')} UNION {_OF_SURVEY.format(p='NEW')}"]),
    ("lists_survey_versions_delete", "survey_versions", "DELETE", "",
     [f"{_ADD} {_OF_SURVEY.format(p='OLD')}"]),
    ("lists_warning_rows_insert", "warning_rows", "INSERT", "NEW.area_code IS NOT NULL",
     [f"{_ADD} VALUES ('households', NEW.area_code)"]),
    ("lists_warning_rows_update", "warning_rows", "UPDATE", "",
     [f"{_ADD} SELECT 'households', NEW.area_code WHERE NEW.area_code IS NOT NULL",
      f"{_ADD} SELECT 'households', OLD.area_code WHERE OLD.area_code IS NOT NULL "
      "AND OLD.area_code IS NOT NEW.area_code"]),
    ("lists_warning_rows_delete", "warning_rows", "DELETE", "OLD.area_code IS NOT NULL",
     [f"{_ADD} VALUES ('households', OLD.area_code)"]),
    ("lists_areas_insert", "areas", "INSERT", "",
     [f"{_ADD} VALUES ('areas', NEW.code)"]),
    ("lists_areas_update", "areas", "UPDATE", "",
     [f"{_ADD} VALUES ('areas', NEW.code), ('households', NEW.code)",
      f"{_ADD} SELECT 'areas', OLD.code WHERE OLD.code IS NOT NEW.code "
      "UNION ALL SELECT 'households', OLD.code WHERE OLD.code IS NOT NEW.code"]),
    ("lists_areas_delete", "areas", "DELETE", "",
     [f"{_ADD} VALUES ('areas', OLD.code), ('households', OLD.code)"]),
    ("lists_yearly_figures_insert", "yearly_figures", "INSERT", "",
     [f"{_ADD} VALUES ('figures', NEW.province)"]),
    ("lists_yearly_figures_update", "yearly_figures", "UPDATE", "",
     [f"{_ADD} VALUES ('figures', NEW.province)",
      f"{_ADD} SELECT 'figures', OLD.province WHERE OLD.province IS NOT NEW.province"]),
    ("lists_yearly_figures_delete", "yearly_figures", "DELETE", "",
     [f"{_ADD} VALUES ('figures', OLD.province)"]),
]
TRIGGERS_SQLITE = tuple(name for name, *_ in _SQLITE)

# PostgreSQL: one function per table: its events, what makes an UPDATE change nothing shown (""
# for any update), and the rows it appends for NEW (insert, update) and for OLD (update,
# delete); an UPDATE appends OLD's only where they differ from NEW's (UNION).
_PG = {
    "households": ("INSERT OR UPDATE OR DELETE", "",
                   "SELECT 'households', {r}.area_code"),
    "persons": ("UPDATE OF name, id_number, household_id OR DELETE",
                "OLD.name = NEW.name AND OLD.id_number = NEW.id_number "
                "AND OLD.household_id IS NOT DISTINCT FROM NEW.household_id",
                _OF_PERSON),
    "survey_versions": ("INSERT OR UPDATE OR DELETE", "", _OF_SURVEY),
    "warning_rows": ("INSERT OR UPDATE OR DELETE", "",
                     "SELECT 'households', {r}.area_code WHERE {r}.area_code IS NOT NULL"),
    "areas": ("INSERT OR UPDATE OR DELETE", "",
              "SELECT 'areas', {r}.code UNION ALL "
              "SELECT 'households', {r}.code WHERE TG_OP <> 'INSERT'"),
    "yearly_figures": ("INSERT OR UPDATE OR DELETE", "",
                       "SELECT 'figures', {r}.province"),
}
TRIGGERS_POSTGRESQL = tuple(f"lists_{table}" for table in _PG)


def _pg_function(table: str, unchanged: str, rows: str) -> str:
    new, old = rows.format(r="NEW", p="NEW"), rows.format(r="OLD", p="OLD")
    skip = (f"""
  IF TG_OP = 'UPDATE' AND {unchanged} THEN
    RETURN NULL;
  END IF;""" if unchanged else "")
    return f"""
CREATE FUNCTION lists_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{skip}
  IF TG_OP = 'UPDATE' THEN
    {_ADD} {new} UNION {old};
  ELSIF TG_OP = 'INSERT' THEN
    {_ADD} {new};
  ELSE
    {_ADD} {old};
  END IF;
  RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        'list_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('list', sa.String(length=16), nullable=False),
        sa.Column('area_code', _AREA_CODE, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_list_changes')),
    )
    op.create_index('ix_list_changes_area_code_list', 'list_changes', ['area_code', 'list'])
    op.create_table(
        'list_versions',
        sa.Column('area_code', _AREA_CODE, nullable=False),
        sa.Column('list', sa.String(length=16), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('area_code', 'list', name=op.f('pk_list_versions')),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table, (events, unchanged, rows) in _PG.items():
            op.execute(_pg_function(table, unchanged, rows))
            op.execute(f"CREATE TRIGGER lists_{table} AFTER {events} ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION lists_{table}()")
    else:
        for name, table, event, when, statements in _SQLITE:
            body = "".join(f"  {statement};\n" for statement in statements)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
                       f"{' WHEN ' + when if when else ''}\nBEGIN\n{body}END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _PG:
            op.execute(f"DROP TRIGGER lists_{table} ON {table}")
            op.execute(f"DROP FUNCTION lists_{table}()")
    else:
        for name in TRIGGERS_SQLITE:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('list_versions')
    op.drop_index('ix_list_changes_area_code_list', table_name='list_changes')
    op.drop_table('list_changes')
