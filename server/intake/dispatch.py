"""Take stored submissions into the registry: the one verb (``take_in_many``, and ``take_in``
for a batch of one) the request, the worker, the CLI and the reviewers' actions all use.

The everyday household surveys of a batch are decided together and written set-based
(``server.intake.batch``, ``server.households.bulk``); every other submission — other forms, a
survey that is held for a reviewer or moves people — is taken in on its own (``take_in_one``).
Each attempt runs under a savepoint, so a failure rolls back only the registry's part and what
the phone sent is never lost. A take-in that raises marks its submission ``failed`` with the
error kept (review queue; ``fangpin apply-pending --failed`` tries again after a fix) — except
when the database itself cannot be reached: then it raises and the submission stays
``received``. Two phones racing on one household end in one household: the database refuses the
second insert of a person (unique ID number) and the decision is taken again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import null, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import User
from server.db import among, unavailable
from server.domain.members import Severity
from server.domain.survey import Problem
from server.forms.models import FormVersion
from server.households import bulk
from server.households.services import RegistryChanged, flag_likely_duplicates
from server.intake import batch
from server.intake.batch import SurveyItem
from server.intake.common import figure_of_year, finish, finish_many
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


@dataclass
class TakenIn:
    """What a batch's take-in left: each submission's new state, and the submissions whose
    take-in raised even so (not the database's absence), left ``received``."""

    states: dict[int, str] = field(default_factory=dict)
    raised: dict[int, Exception] = field(default_factory=dict)


def take_in(session: Session, submission_id: int, today: date | None = None,
            root: Element | None = None) -> str:
    """Take one stored submission into the registry; returns the submission's new state.

    A batch of one (``take_in_many``). ``root`` is the instance the caller has already parsed
    (ingest did), so it is not parsed twice on the submission's hot path.
    """
    taken = take_in_many(session, [submission_id], today,
                         {submission_id: root} if root is not None else None)
    if submission_id in taken.raised:
        raise taken.raised[submission_id]
    return taken.states[submission_id]


def take_in_many(session: Session, submission_ids: list[int], today: date | None = None,
                 roots: dict[int, Element] | None = None) -> TakenIn:
    """Take stored submissions into the registry, in id order, with results exactly those of
    taking each in turn (``take_in_one``), at a fixed number of statements per run of everyday
    household surveys (``server.intake.batch``; issue 16).

    A run's writes are under one savepoint: if they fail (another worker registered one of the
    people meanwhile, say), they are rolled back and the run's submissions are taken in one at
    a time instead, each under its own. A database that cannot be reached raises: the caller's
    unit of work rolls back and every submission stays ``received``.
    """
    today = today or clock.today()
    roots = roots or {}
    taken = TakenIn()
    # inline, ingest has parsed the instance already: its XML is not read back
    xml = Submission.xml if set(submission_ids) - set(roots) else null().label("xml")
    rows = session.execute(
        select(Submission.id, Submission.state, xml, Submission.corrections,
               Submission.household_id, FormVersion.form_id, User.area_code)
        .join(FormVersion, FormVersion.id == Submission.form_version_id)
        .outerjoin(User, User.id == Submission.submitter_id)
        .where(among(session, Submission.id, submission_ids)).order_by(Submission.id)).all()
    lines: dict[tuple[str, int], object] = {}

    def line_of(province: str, year: int):
        if (province, year) not in lines:
            lines[(province, year)] = figure_of_year(session, province, year)
        return lines[(province, year)]

    queue: list[SurveyItem | int] = []
    for row in rows:
        if row.state != SubmissionState.RECEIVED:
            taken.states[row.id] = row.state
            continue
        if row.form_id != batch.FORM_ID:
            queue.append(row.id)
            continue
        try:
            root = roots.get(row.id)
            if root is None:
                root = parse(row.xml.encode("utf-8")).root
            values = corrected(instance_values(root), row.corrections or {})
            queue.append(batch.read_item(row.id, values, row.area_code or "", row.household_id,
                                         today, line_of))
        except Exception:  # noqa: BLE001 - taken in alone, which keeps the error for review
            queue.append(row.id)
    for row_id in sorted(set(submission_ids) - {row.id for row in rows}):
        queue.append(row_id)  # not stored: taken in alone, which says so
    while queue:
        run = _run(queue)
        if not run:
            one = queue.pop(0)
            _one(session, one if isinstance(one, int) else one.submission_id, today,
                 roots, taken)
            continue
        plans, snapshot = _plans(session, run, today)
        del queue[:len(plans)]
        if not plans:
            item = queue.pop(0)
            _one(session, item.submission_id, today, roots, taken)
            continue
        _write(session, plans, snapshot, today, roots, taken)
    return taken


def _run(queue: list[SurveyItem | int]) -> list[SurveyItem]:
    """The surveys at the head of the queue, up to the first submission that is not one."""
    run = []
    for entry in queue:
        if isinstance(entry, int):
            break
        run.append(entry)
    return run


def _plans(session: Session, run: list[SurveyItem], today: date
           ) -> tuple[list[batch.Plan], batch.Snapshot]:
    """The run's leading surveys that can be written together: decided against one snapshot,
    up to the first that needs the one-at-a-time take-in or shares a person or household with
    one before it."""
    snapshot = batch.Snapshot.read(session, run)
    plans: list[batch.Plan] = []
    keys: set[str] = set()
    for item in run:
        try:
            planned = batch.plan(item, snapshot, today)
        except Exception:  # noqa: BLE001 - taken in alone, which keeps the error for review
            planned = None
        if planned is None or planned.keys & keys:
            break
        plans.append(planned)
        keys |= planned.keys
    return plans, snapshot


def _write(session: Session, plans: list[batch.Plan], snapshot: batch.Snapshot, today: date,
           roots: dict[int, Element], taken: TakenIn) -> None:
    """Write a run's plans under one savepoint; if that fails, each alone instead."""
    writes = [p.write for p in plans if p.write is not None]
    savepoint = session.begin_nested()
    try:
        bulk.write_surveys(session, writes, snapshot.people)
        flag_likely_duplicates(
            session, [(w.submission_id, w.survey) for w in writes], snapshot.people)
        finish_many(session, [
            (p.item.submission_id,
             SubmissionState.APPLIED if p.write else SubmissionState.INVALID, p.problems,
             p.write.household_id if p.write else p.item.household_id) for p in plans])
    except (OperationalError, InterfaceError):
        savepoint.rollback()
        raise
    except Exception:  # noqa: BLE001 - the run is taken in again, one submission at a time
        log.warning("a batch of %d surveys is taken in one at a time", len(plans),
                    exc_info=True)
        savepoint.rollback()
        session.expire_all()
        for p in plans:
            _one(session, p.item.submission_id, today, roots, taken)
        return
    savepoint.commit()
    session.expire_all()  # the ORM's copies of what the batch wrote are stale
    for p in plans:
        taken.states[p.item.submission_id] = (SubmissionState.APPLIED if p.write
                                              else SubmissionState.INVALID)


def _one(session: Session, submission_id: int, today: date, roots: dict[int, Element],
         taken: TakenIn) -> None:
    try:
        taken.states[submission_id] = take_in_one(session, submission_id, today,
                                                  roots.get(submission_id))
    except Exception as error:  # noqa: BLE001 - reported; the submission stays received
        if unavailable(error):
            raise
        log.exception("submission %s stays received: taking it in failed", submission_id)
        taken.raised[submission_id] = error


def take_in_one(session: Session, submission_id: int, today: date | None = None,
                root: Element | None = None) -> str:
    """Take one stored submission in on its own, through the ORM: the path of every form but
    the everyday household survey, and of a survey that needs a reviewer or moves people.

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
