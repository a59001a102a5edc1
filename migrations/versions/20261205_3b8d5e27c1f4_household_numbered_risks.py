"""Each household's numbered risks ①–⑭ from its latest survey (server.domain.notices
.numbered_risks), kept in a short text column beside its A3 type so that the county's counts
by risk (server.reports) read neither the surveys nor their JSON; existing households are
filled from their latest survey's stored values.

Revision ID: 3b8d5e27c1f4
Revises: 7c4e2a91d0b3
Create Date: 2026-12-05 12:00:00
"""
import json
from decimal import Decimal

from alembic import op
import sqlalchemy as sa

from server.domain.notices import numbered_risks
from server.households.models import risk_text


revision = '3b8d5e27c1f4'
down_revision = '7c4e2a91d0b3'
branch_labels = None
depends_on = None

_BATCH = 2_000


def upgrade() -> None:
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('numbered_risks', sa.String(length=40), server_default='',
                                      nullable=False))
    _fill(op.get_bind())


def _fill(connection) -> None:
    """The risks of the households' latest surveys, ① against the monitoring line in force
    in the province in the survey's year (the latest year's figure up to it, as the take-in
    reads it)."""
    lines: dict[str, list[tuple[int, Decimal]]] = {}
    for province, year, value in connection.execute(sa.text(
            "SELECT province, year, value FROM yearly_figures WHERE kind = 'monitoring_line' "
            "ORDER BY year")):
        lines.setdefault(province, []).append((year, Decimal(str(value))))
    page = sa.text(
        "SELECT h.id, v.household_values, v.a26_member_uninsured, "
        "v.a34_net_income_per_capita, v.visit_date, h.area_code FROM households h "
        "JOIN survey_versions v ON v.id = h.latest_survey_id WHERE h.id > :after "
        "ORDER BY h.id LIMIT :size")
    update = sa.text("UPDATE households SET numbered_risks = :risks WHERE id = :id")
    after = ""
    while batch := connection.execute(page, {"after": after, "size": _BATCH}).all():
        after = batch[-1][0]
        changes = []
        for id_, values, a26, a34, visit, area in batch:
            values = json.loads(values) if isinstance(values, str) else (values or {})
            year = int(str(visit)[:4])
            line = next((value for figure_year, value in reversed(lines.get(area[:2], []))
                         if figure_year <= year), None)
            a34 = Decimal(str(a34)) if a34 is not None else None
            found = risk_text(numbered_risks(
                values, member_uninsured=bool(a26),
                below_line=a34 is not None and line is not None and a34 < line))
            if found:
                changes.append({"id": id_, "risks": found})
        if changes:
            connection.execute(update, changes)


def downgrade() -> None:
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_column('numbered_risks')
