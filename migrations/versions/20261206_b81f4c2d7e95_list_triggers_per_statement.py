"""PostgreSQL: the phones' lists' change triggers fire once per statement, not once per row.

The batch take-in writes a batch's households and survey versions with one statement each
(``server.rows``: a COPY); a row-level trigger ran its PL/pgSQL function and its INSERT for each
of them — three per new household, about a third of the take-in's PostgreSQL CPU — and appended
a ``list_changes`` row for each. A statement-level trigger with transition tables appends one
row per list and area the statement touched: the count still moves whenever anything a list
shows changes (every statement that changes a list's rows adds at least one), which is all a
version needs (``server.lists``). Transition tables allow one event per trigger and no column
list, so each table has one trigger per event, named as SQLite's are
(``lists_<table>_<event>``), and the persons' update checks in SQL which rows changed what
households.csv shows (name, ID number, household). SQLite keeps its row-level triggers (it has
no other kind).

Revision ID: b81f4c2d7e95
Revises: f3a8c1d92e57
Create Date: 2026-12-06 20:40:00
"""
from alembic import op


revision = 'b81f4c2d7e95'
down_revision = 'f3a8c1d92e57'
branch_labels = None
depends_on = None

_ADD = "INSERT INTO list_changes (list, area_code)"
# The rows to append for a set of changed rows ``{r}`` (a transition table, or a subquery of
# one): (list, area code) pairs, duplicates allowed (the trigger keeps one of each).
_OF_PERSON = ("SELECT 'households', h.area_code FROM {r} AS p JOIN households AS h "
              "ON h.id = p.household_id "
              "UNION ALL SELECT 'households', h.area_code FROM {r} AS p JOIN households AS h "
              "ON h.head_person_id = p.id")
# the persons an UPDATE changed in what households.csv shows: old rows (``old``) or new ones
_CHANGED_PERSONS = ("(SELECT {side}.* FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id "
                    "WHERE o.name IS DISTINCT FROM n.name "
                    "OR o.id_number IS DISTINCT FROM n.id_number "
                    "OR o.household_id IS DISTINCT FROM n.household_id)")
# table: (its events, the rows appended for ``{r}``)
_TABLES = {
    "households": (("insert", "update", "delete"),
                   "SELECT 'households', r.area_code FROM {r} AS r"),
    "persons": (("update", "delete"), _OF_PERSON),
    "survey_versions": (("insert", "update", "delete"),
                        "SELECT 'households', h.area_code FROM {r} AS s JOIN households AS h "
                        "ON h.id = s.household_id"),
    "warning_rows": (("insert", "update", "delete"),
                     "SELECT 'households', r.area_code FROM {r} AS r "
                     "WHERE r.area_code IS NOT NULL"),
    "areas": (("insert", "update", "delete"),
              "SELECT 'areas', r.code FROM {r} AS r UNION ALL "
              "SELECT 'households', r.code FROM {r} AS r WHERE TG_OP <> 'INSERT'"),
    "yearly_figures": (("insert", "update", "delete"),
                       "SELECT 'figures', r.province FROM {r} AS r"),
}
TRIGGERS_POSTGRESQL = tuple(f"lists_{table}_{event}"
                            for table, (events, _) in _TABLES.items() for event in events)


def _function(table: str, rows: str) -> str:
    if table == "persons":
        new = rows.format(r=_CHANGED_PERSONS.format(side="n"))
        old = rows.format(r=_CHANGED_PERSONS.format(side="o"))
    else:
        new, old = rows.format(r="new_rows"), rows.format(r="old_rows")
    return f"""
CREATE FUNCTION lists_{table}_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_ADD} SELECT DISTINCT * FROM ({new}) AS changed;
  ELSIF TG_OP = 'UPDATE' THEN
    {_ADD} SELECT DISTINCT * FROM ({new} UNION ALL {old}) AS changed;
  ELSE
    {_ADD} SELECT DISTINCT * FROM ({old}) AS changed;
  END IF;
  RETURN NULL;
END $$"""


_REFERENCING = {"insert": "NEW TABLE AS new_rows", "update": "OLD TABLE AS old_rows "
                "NEW TABLE AS new_rows", "delete": "OLD TABLE AS old_rows"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (events, rows) in _TABLES.items():
        op.execute(f"DROP TRIGGER lists_{table} ON {table}")
        op.execute(f"DROP FUNCTION lists_{table}()")
        op.execute(_function(table, rows))
        for event in events:
            op.execute(f"CREATE TRIGGER lists_{table}_{event} AFTER {event.upper()} ON {table} "
                       f"REFERENCING {_REFERENCING[event]} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION lists_{table}_rows()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    previous = _previous()
    for table, (events, _rows) in _TABLES.items():
        for event in events:
            op.execute(f"DROP TRIGGER lists_{table}_{event} ON {table}")
        op.execute(f"DROP FUNCTION lists_{table}_rows()")
        old_events, unchanged, old_rows = previous._PG[table]
        op.execute(previous._pg_function(table, unchanged, old_rows))
        op.execute(f"CREATE TRIGGER lists_{table} AFTER {old_events} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION lists_{table}()")


def _previous():
    """The migration before this one (its row-level definitions), for the downgrade."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("20261206_f3a8c1d92e57_list_versions.py")
    spec = importlib.util.spec_from_file_location("list_versions_f3a8c1d92e57", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
