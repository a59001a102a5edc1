"""Take a stored submission into the registry: the one verb (``take_in``) the request, the
worker, the CLI and the reviewers' actions all use.

Each attempt runs under a savepoint, so a failure rolls back only the registry's part and what
the phone sent is never lost. A take-in that raises marks its submission ``failed`` with the
error kept (review queue; ``fangpin apply-pending --failed`` tries again after a fix) — except
when the database itself cannot be reached: then it raises and the submission stays
``received``. Two phones racing on one household end in one household: the database refuses the
second insert of a person (unique ID number) and the decision is taken again.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from server import clock
from server.domain.members import Severity
from server.domain.survey import Problem
from server.forms.models import FormVersion
from server.households.services import RegistryChanged
from server.intake.common import finish
from server.intake.declaration import take_in_declaration
from server.intake.elimination import take_in_elimination
from server.intake.measures import take_in_measures
from server.intake.survey import take_in_survey
from server.submissions.instance import Element, corrected, instance_values, parse
from server.submissions.models import Submission, SubmissionState

log = logging.getLogger(__name__)
_ATTEMPTS = 3
# The form each take-in reads, by form id; a form not listed is stored and ``ignored``.
FORMS = {
    "household": take_in_survey,
    "measures": take_in_measures,
    "elimination": take_in_elimination,
    "declaration": take_in_declaration,
}


def take_in(session: Session, submission_id: int, today: date | None = None,
            root: Element | None = None) -> str:
    """Take one stored submission into the registry; returns the submission's new state.

    ``root`` is the instance the caller has already parsed (ingest did), so it is not parsed
    twice on the submission's hot path.

    Each attempt runs under a savepoint: whatever fails rolls back only the registry's part.
    An unexpected error marks the submission ``failed`` (kept, with the error, for review);
    a database that cannot be reached raises, and the submission stays ``received``.
    """
    today = today or clock.today()
    for attempt in range(_ATTEMPTS):
        savepoint = session.begin_nested()
        try:
            state = _apply(session, submission_id, today, root)
        except (IntegrityError, RegistryChanged) as exc:
            # Another request inserted the same person or head meanwhile (the unique index
            # refused ours, or the write found them registered since the decision): decide
            # again, now against the registry as it is.
            savepoint.rollback()
            if attempt == _ATTEMPTS - 1:
                return _fail(session, submission_id, exc)
            continue
        except (OperationalError, InterfaceError):
            savepoint.rollback()
            raise
        except Exception as exc:
            savepoint.rollback()
            return _fail(session, submission_id, exc)
        savepoint.commit()
        return state
    raise AssertionError("unreachable")


def _fail(session: Session, submission_id: int, exc: Exception) -> str:
    """Keep a submission whose take-in raised as ``failed``, with the error, for a reviewer."""
    log.error("taking submission %s in failed", submission_id, exc_info=exc)
    submission = session.get(Submission, submission_id)
    detail = f"{type(exc).__name__}: {exc}"[:500]
    problem = Problem(Severity.ERROR, "TAKE_IN_FAILED", "", {"detail": detail})
    return finish(session, submission, SubmissionState.FAILED, [problem])


def _apply(session: Session, submission_id: int, today: date, root: Element | None) -> str:
    submission = session.get(Submission, submission_id, with_for_update=False)
    if submission.state != SubmissionState.RECEIVED:
        return submission.state
    form_id = session.scalar(select(FormVersion.form_id)
                             .where(FormVersion.id == submission.form_version_id))
    if root is None:
        root = parse(submission.xml.encode("utf-8")).root
    values = corrected(instance_values(root), submission.corrections or {})
    form = FORMS.get(form_id)
    if form is None:
        return finish(session, submission, SubmissionState.IGNORED, [])
    return form(session, submission, values, today)
