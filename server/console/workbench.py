"""工作台: the user's queues — open cases per step inside their area, overdue ones apart — and
the other work due there: department-warning home checks not fed back, and for the village and
township users who make them, the quarterly assistance evaluations owed (this quarter and the
last; the county reads them on 统计看板)."""

from __future__ import annotations

from itertools import groupby

from flask import render_template

from server import db
from server.clock import today
from server.console import bp, session
from server.domain.monitoring import DUE_NAMES
from server.domain.pipeline import PROCEDURE_NAMES, STEP_NAMES
from server.monitoring.services import EVALUATING_ROLES
from server.pipeline.queues import queue_counts
from server.reports.queries import households_by_area
from server.screening.queries import open_task_count


@bp.get("/")
@session.login_required()
def workbench():
    user, day = session.current_user(), today()
    queues = queue_counts(db.session(), user, day)
    procedures = [(procedure, list(steps))
                  for procedure, steps in groupby(queues, key=lambda queue: queue.procedure)]
    evaluations = households_by_area(db.session(), user, user.area_code, day).evaluations \
        if user.role in EVALUATING_ROLES else []
    return render_template("console/workbench.html", procedures=procedures,
                           procedure_names=PROCEDURE_NAMES, step_names=STEP_NAMES,
                           mine=[queue for queue in queues if queue.acts],
                           open_tasks=open_task_count(db.session(), user),
                           evaluations=evaluations,
                           due_names=DUE_NAMES)
