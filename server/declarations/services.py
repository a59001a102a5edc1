"""Use cases of self-declarations (农户自主申报): the case a declaration starts, and who sees it.

A declaration is the application (提交申请, SPEC §6 step 1) of the identification procedure:

- for a household of the registry it opens an identification case of origin 01 (自主申报) or,
  when the household has an open identification case, joins that case (an event on the case
  and an audit entry): never a second case;
- for a family not yet in the registry it opens a *pending* case on the declaration itself
  (``Case.declaration_id``, no household) in the declared area: the village visits and
  surveys the family; when a survey registers it (the declared head's ID number is among the
  household's people), ``attach_declared_household`` gives the case the household. A second
  declaration of the same head meanwhile joins the pending case;
- for a household that already is a monitoring object (``monitored_households``) it opens no
  case: the declaration is recorded (state ``monitored``) for the village and the household's
  monitoring contact, who follow the new risk up within the monitoring (a product choice).

Who may declare: any collecting user, for any address (SPEC §2.4: "a household or anyone on its
behalf"); the case belongs to the declared area (or the household's), not the submitter's. The
submitter is recorded as who opened the case: they filed the application.

Visibility follows the household (its area), and the declared address for a family not yet
registered — not the submitter's area (``server.declarations.queries.visible_area``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth import Principal
from server.db import utcnow
from server.domain.declarations import DeclarationState, intake_state
from server.domain.pipeline import Procedure, Status
from server.households.models import Declaration, Household
from server.monitoring.services import monitored_households
from server.pipeline.models import Case, CaseEvent
from server.pipeline.services import open_case
from server.submissions.models import Submission

ORIGIN_SELF_DECLARATION = "01"  # codes: case_origin 农户自主申报
JOIN_ACTION = "declaration"  # a case event: a declaration joined the case
ATTACH_ACTION = "household"  # a case event: the declared family was registered
MERGE_ACTION = "merged"  # a case event: a pending case merged into the household's open one


def take_declaration(session: Session, declaration: Declaration, submitter: Principal,
                     today: date) -> Declaration:
    """Open or join the identification case a newly stored declaration starts."""
    household = (session.get(Household, declaration.household_id)
                 if declaration.household_id else None)
    monitored = household is not None and _is_monitored(session, household.id, today)
    case_id = None if monitored else _open_identification(
        session, household.id if household else None, declaration.head_id_number)
    state = intake_state(household is not None, monitored, case_id is not None)
    if state is DeclarationState.JOINED:
        case = session.get(Case, case_id, with_for_update=True)
        _case_event(session, case, submitter.id, JOIN_ACTION,
                    f"农户自主申报（申报{declaration.id}）并入本案", declaration=declaration.id)
    elif state is not DeclarationState.MONITORED:
        area = household.area_code if household else declaration.area_code
        # The submitter files the application for the declared area, whichever their own.
        case = open_case(session, Procedure.IDENTIFICATION, area,
                         replace(submitter, area_code=area), household.id if household else None,
                         declaration_id=declaration.id, origin=ORIGIN_SELF_DECLARATION)
        case_id = case.id
    declaration.case_id = case_id
    _set_state(session, declaration, state, submitter.id)
    return declaration


def attach_declared_household(session: Session, household_id: str,
                              id_numbers: Iterable[str]) -> list[Declaration]:
    """A survey took household ``household_id`` in with people ``id_numbers``: the declarations
    of those heads still waiting for their family to be registered get the household, and so
    do their cases (moved to the household's area, which now follows it).

    If the household already has another open identification case, the pending case is closed
    (``rejected``, event ``merged``) and its declarations join that case: one case per household.
    Called from the household take-in; returns the declarations attached.
    """
    ids = list(dict.fromkeys(id_numbers))
    if not ids:
        return []
    waiting = session.scalars(select(Declaration).where(
        Declaration.head_id_number.in_(ids), Declaration.household_id.is_(None),
        Declaration.case_id.is_not(None)).order_by(Declaration.id)).all()
    if not waiting:
        return []
    household = session.get(Household, household_id)
    for case_id in dict.fromkeys(d.case_id for d in waiting):
        case = session.get(Case, case_id, with_for_update=True)
        target = case.id
        if case.household_id is None:
            other = _open_identification(session, household_id, None) \
                if case.status == Status.OPEN.value else None
            if other is not None:
                case.status, case.closed_at = Status.REJECTED.value, utcnow()
                _case_event(session, case, None, MERGE_ACTION,
                            f"该户已有未办结的识别案件（{other}），申报并入该案件",
                            household_id=household_id, merged_into=other)
                joined = session.get(Case, other, with_for_update=True)
                _case_event(session, joined, None, JOIN_ACTION,
                            f"案件{case.id}的农户自主申报并入本案", merged_from=case.id)
                target = other
            else:
                before = case.area_code
                case.household_id = household_id
                if case.status == Status.OPEN.value:
                    case.area_code = household.area_code
                _case_event(session, case, None, ATTACH_ACTION,
                            "入户采集已登记申报农户，案件关联该户",
                            household_id=household_id,
                            area_from=before if before != case.area_code else None,
                            area_to=case.area_code if before != case.area_code else None)
        for declaration in (d for d in waiting if d.case_id == case_id):
            declaration.household_id, declaration.case_id = household_id, target
            submission = session.get(Submission, declaration.submission_id)
            if submission.household_id is None:
                submission.household_id = household_id
            _set_state(session, declaration, DeclarationState.HOUSEHOLD_ATTACHED, None)
    return list(waiting)


# --- helpers -------------------------------------------------------------------------------


def _is_monitored(session: Session, household_id: str, today: date) -> bool:
    monitored = monitored_households(today)
    return session.scalar(select(exists().where(monitored.c.household_id == household_id)))


def _open_identification(session: Session, household_id: str | None,
                         head_id_number: str | None) -> int | None:
    """The open identification case of the household or, for a family not yet registered, the
    pending case of an earlier declaration of the same head."""
    query = select(Case.id).where(Case.procedure == Procedure.IDENTIFICATION.value,
                                  Case.status == Status.OPEN.value)
    if household_id is not None:
        query = query.where(Case.household_id == household_id)
    else:
        query = query.where(Case.household_id.is_(None), Case.id.in_(
            select(Declaration.case_id).where(Declaration.head_id_number == head_id_number)))
    return session.scalar(query.order_by(Case.id).limit(1))


def _case_event(session: Session, case: Case, user_id: int | None, action: str, opinion: str,
                **details: object) -> None:
    """An event in the case's log (no step moves) and its audit entry."""
    session.add(CaseEvent(case_id=case.id, user_id=user_id, action=action,
                          from_step=case.step, to_step=case.step, status=case.status,
                          opinion=opinion))
    session.flush()
    record(session, f"case.{action}", "case", case.id, user_id, procedure=case.procedure,
           step=case.step, status=case.status, opinion=opinion, **details)


def _set_state(session: Session, declaration: Declaration, state: DeclarationState,
               user_id: int | None) -> None:
    before = declaration.state
    declaration.state, declaration.state_changed_at = state.value, utcnow()
    session.flush()
    record(session, f"declaration.{state.value}", "declaration", declaration.id, user_id,
           from_state=before, case_id=declaration.case_id,
           household_id=declaration.household_id, area=declaration.area_code)
