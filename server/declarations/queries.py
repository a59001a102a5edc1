"""Read services of self-declarations (农户自主申报): what the REST API lists and shows, and
what the console and the exports call.

A declaration belongs to its household's area, or to the declared address for a family not yet
registered (``visible_area``) — not to the submitter's, who may be anywhere. Values are returned
as stored (masking by role is the caller's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from server.auth import Principal, within
from server.domain.declarations import STATE_LABELS, DeclarationState
from server.errors import AppError
from server.households.models import Declaration, Household
from server.listing import SortKey, sorted_by, where_equal, where_in_area
from server.pipeline.models import Case

DECLARATION_SORT = {"id": Declaration.id, "created_at": Declaration.created_at,
                    "state_changed_at": Declaration.state_changed_at}
DEFAULT_SORT = (SortKey("id", descending=True),)


@dataclass(frozen=True)
class DeclarationView:
    id: int
    submission_id: int
    state: str
    state_label: str
    state_changed_at: datetime | None
    case_id: int | None
    case_status: str | None
    case_step: str | None
    household_id: str | None
    area_code: str
    head_name: str
    head_id_number: str
    on_behalf: bool
    values: dict[str, str]
    created_at: datetime


def visible_area() -> ColumnElement:
    """The area a declaration belongs to: its household's, else the declared address (needs
    Household outer-joined on ``Declaration.household_id``)."""
    return func.coalesce(Household.area_code, Declaration.area_code)


def _declarations(user: Principal) -> Select:
    """(declaration, its case's status and step) rows of the user's area."""
    return (select(Declaration, Case.status, Case.step)
            .outerjoin(Household, Household.id == Declaration.household_id)
            .outerjoin(Case, Case.id == Declaration.case_id)
            .where(within(user, visible_area())))


def declarations_query(user: Principal, filters: Mapping) -> Select:
    """Rows of the user's area for ``declaration_view``; ``filters``: ``state``,
    ``household_id``, ``case_id``, ``area_code``, ``sort`` (keys of ``DECLARATION_SORT``;
    newest first by default)."""
    query = sorted_by(_declarations(user), filters.get("sort", DEFAULT_SORT), DECLARATION_SORT,
                      Declaration.id.desc())
    query = where_equal(query, filters, Declaration, "state", "household_id", "case_id")
    return where_in_area(query, filters, visible_area())


def readable_declaration(session: Session, user: Principal,
                         declaration_id: int) -> DeclarationView:
    """The declaration if it belongs to the user's area (else NOT_FOUND)."""
    row = session.execute(_declarations(user).where(Declaration.id == declaration_id)).first()
    if row is None:
        raise AppError("NOT_FOUND")
    return declaration_view(row)


def declaration_view(row) -> DeclarationView:
    declaration, case_status, case_step = row
    return DeclarationView(
        id=declaration.id, submission_id=declaration.submission_id, state=declaration.state,
        state_label=STATE_LABELS[DeclarationState(declaration.state)],
        state_changed_at=declaration.state_changed_at, case_id=declaration.case_id,
        case_status=case_status, case_step=case_step, household_id=declaration.household_id,
        area_code=declaration.area_code, head_name=declaration.head_name,
        head_id_number=declaration.head_id_number, on_behalf=declaration.on_behalf,
        values={name: str(value) for name, value in (declaration.values or {}).items()},
        created_at=declaration.created_at)


def declaration_submissions_in(area_code: str) -> Select:
    """The ids of the submissions of declarations that belong to ``area_code`` (the household's
    village and township see the declaration's submission, wherever its submitter is)."""
    return (select(Declaration.submission_id)
            .outerjoin(Household, Household.id == Declaration.household_id)
            .where(within(area_code, visible_area())))
