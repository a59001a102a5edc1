"""The user's queues: how many open cases wait at each step of each procedure inside their area,
how many of them are overdue (SPEC §6 deadlines), and at which steps the user's role acts.
The 工作台 of the console shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from server.auth import Principal, within
from server.domain.pipeline import ROLES, STEPS, Procedure, Status, Step
from server.pipeline.deadlines import overdue_condition
from server.pipeline.models import Case


@dataclass(frozen=True)
class Queue:
    procedure: Procedure
    step: Step
    open: int  # open cases at this step inside the user's area
    overdue: int  # of which past their step's or their procedure's deadline
    acts: bool  # the user's role acts at this step (it is one of their queues)


def queue_counts(session: Session, user: Principal, today: date) -> list[Queue]:
    """One ``Queue`` per step of each procedure, in the procedures' order (one query)."""
    overdue = func.coalesce(func.sum(case((overdue_condition(session, today), 1), else_=0)), 0)
    rows = session.execute(
        select(Case.procedure, Case.step, func.count(), overdue)
        .where(Case.status == Status.OPEN.value, within(user, Case.area_code))
        .group_by(Case.procedure, Case.step)
    ).all()
    counts = {(procedure, step): (count, late) for procedure, step, count, late in rows}
    return [
        Queue(procedure, step, *counts.get((procedure.value, step.value), (0, 0)),
              acts=user.role in ROLES[step])
        for procedure, steps in STEPS.items() for step in steps
    ]
