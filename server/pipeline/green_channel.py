"""Green channel (绿色通道): assistance measures recorded while an identification is open,
from the measures form or through the API, linked to the case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth import Principal, check_role
from server.clock import local_day
from server.domain import codes
from server.domain.fields import MEASURES, fields_of_stage
from server.domain.pipeline import (
    Procedure,
    Status,
    during_case,
    green_channel,
)
from server.domain.roles import Role
from server.domain.survey import Problem, read_values
from server.errors import AppError
from server.households.models import MeasureRecord
from server.pipeline.models import Case
from server.pipeline.services import case_in_area

# Who records a green-channel measure through the API (the village's 两委 / 驻村工作队 and the
# township that organises the assistance).
MEASURE_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP})
# The stage-two fields a measure recorded through the API may carry (A39–A52 and effects);
# its date and green-channel flag are set by the service.
MEASURE_FIELDS = tuple(f.name for f in fields_of_stage(2)
                       if f.name not in ("measure_date", "green_channel"))
_MEASURES = frozenset(f.name for f in MEASURES)


@dataclass(frozen=True)
class CaseMeasure:
    record: MeasureRecord
    green_channel: bool  # taken before the identification ended (帮扶先行)


def case_measures(session: Session, case: Case) -> list[CaseMeasure]:
    """The household's measures dated while the case was open, and those recorded on it.

    The link is made at read time (``domain.pipeline.during_case``), so measures that come in
    through the measures form need no change to the take-in; a measure recorded through the
    API also carries the case's id.
    """
    if case.household_id is None:
        return []
    opened_on = local_day(case.opened_at)
    closed_on = local_day(case.closed_at) if case.closed_at else None
    procedure = Procedure(case.procedure)
    rows = session.scalars(select(MeasureRecord).where(
        MeasureRecord.household_id == case.household_id,
        or_(MeasureRecord.case_id == case.id, MeasureRecord.measure_date >= opened_on))
        .order_by(MeasureRecord.measure_date, MeasureRecord.id))
    return [CaseMeasure(row, green_channel(procedure, row.measure_date, opened_on, closed_on)
                        or (row.case_id == case.id
                            and procedure is Procedure.IDENTIFICATION))
            for row in rows
            if row.case_id == case.id or during_case(row.measure_date, opened_on, closed_on)]


def record_measure(session: Session, case_id: int, user: Principal, today: date,
                   values: dict[str, str], measure_date: date | None = None) -> CaseMeasure:
    """Record assistance measures (A39–A52) on an open case, linked to it (village, township).

    On an identification case this is the green channel: help first, the procedure goes on.
    The values are the measures form's (codes as the form writes them, "01 03"), checked by
    the same rules as a submission's.
    """
    check_role(user, MEASURE_ROLES)
    case = case_in_area(session, case_id, user)
    if case.status != Status.OPEN.value:
        raise AppError("CASE_CLOSED")
    if case.household_id is None:
        raise AppError("CASE_NO_HOUSEHOLD")
    day = measure_date or today
    opened_on = local_day(case.opened_at)
    if not during_case(day, opened_on, today):
        raise AppError("MEASURE_DATE_OUTSIDE_CASE", opened_on=opened_on.isoformat())
    problems: list[Problem] = []
    typed = read_values(values, [name for name in values if name in MEASURE_FIELDS], today,
                        problems)
    if problems:
        raise AppError("MEASURE_INVALID", problems="；".join(p.text for p in problems),
                       codes=" ".join(p.code for p in problems),
                       fields=" ".join(p.field for p in problems))
    chosen = sorted(name for name in typed if name in _MEASURES)
    if not chosen:
        raise AppError("MEASURES_EMPTY")
    green = case.procedure == Procedure.IDENTIFICATION.value
    stored = {name: " ".join(v) if isinstance(v, tuple) else str(v) for name, v in typed.items()}
    stored.update(measure_date=day.isoformat(), green_channel=codes.YES if green else codes.NO)
    measure = MeasureRecord(household_id=case.household_id, measure_date=day,
                            green_channel=green, case_id=case.id, recorded_by=user.id,
                            values=stored)
    session.add(measure)
    session.flush()
    record(session, "measures.recorded", "household", case.household_id, user.id,
           case=case.id, measure=measure.id, measures=chosen, green_channel=green)
    return CaseMeasure(measure, green)
