"""工作台: the user's queues — open cases per step inside their area, overdue ones apart."""

from __future__ import annotations

from itertools import groupby

from flask import render_template

from server import db
from server.clock import today
from server.console import bp, session
from server.domain.pipeline import PROCEDURE_NAMES, STEP_NAMES
from server.pipeline.queues import queue_counts


@bp.get("/")
@session.login_required()
def workbench():
    queues = queue_counts(db.session(), session.current_user(), today())
    procedures = [(procedure, list(steps))
                  for procedure, steps in groupby(queues, key=lambda queue: queue.procedure)]
    return render_template("console/workbench.html", procedures=procedures,
                           procedure_names=PROCEDURE_NAMES, step_names=STEP_NAMES,
                           mine=[queue for queue in queues if queue.acts])
