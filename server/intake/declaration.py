"""The intake of the self-declaration form (农户自主申报, SPEC §2.4): check it, store it as a
``Declaration``, and start what it starts (``server.declarations.services``: an identification
case of origin 01, opened or joined, or a pending case for a family not yet registered).

Any collecting user may send a declaration for any address (a household "or anyone on its
behalf"): unlike the other follow-up forms it is not limited to the submitter's area.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.areas.models import Area
from server.audit.services import record
from server.auth import Principal
from server.declarations.services import take_declaration
from server.domain.codes import YES
from server.domain.fields import BY_NAME
from server.domain.members import Severity
from server.domain.survey import Problem, read_values
from server.households.models import Declaration, Person
from server.households.services import plain
from server.intake.common import finish
from server.submissions.models import Submission, SubmissionState


def take_in_declaration(session: Session, submission: Submission, values, today: date) -> str:
    problems: list[Problem] = []
    typed = read_values(values.household, list(values.household), today, problems)
    head_id = typed.get("decl_head_id_number")
    area = next((str(typed[name]) for name in ("addr_group", "addr_village") if name in typed),
                None)
    # An ID number given but invalid is already a problem of its own (ID_CHECKSUM …).
    missing = [BY_NAME[name].label for name in ("decl_head_name", "decl_head_id_number")
               if not values.household.get(name, "").strip()]
    missing += [BY_NAME["addr_village"].label] if area is None else []
    if missing:
        problems.append(Problem(Severity.ERROR, "FIELD_REQUIRED", "申报",
                                {"label": "、".join(missing)}))
    elif head_id is not None and session.get(Area, area) is None:
        problems.append(Problem(Severity.ERROR, "AREA_UNKNOWN", "住址", {"area_code": area}))
    if any(p.severity is Severity.ERROR for p in problems):
        return finish(session, submission, SubmissionState.INVALID, problems)
    household_id = session.scalar(select(Person.household_id)
                                  .where(Person.id_number == head_id.value))
    declaration = Declaration(
        submission_id=submission.id, head_name=str(typed["decl_head_name"]),
        head_id_number=head_id.value, area_code=area, household_id=household_id,
        on_behalf=typed.get("decl_on_behalf") == YES,
        values={k: plain(v) for k, v in typed.items()})
    session.add(declaration)
    session.flush()
    submission.household_id = household_id
    record(session, "declaration.received", "declaration", declaration.id,
           submission.submitter_id, submission_id=submission.id, household_id=household_id,
           area=area)
    submitter = Principal.of(session.get(User, submission.submitter_id))
    take_declaration(session, declaration, submitter, today)
    return finish(session, submission, SubmissionState.APPLIED, problems)
