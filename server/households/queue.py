"""The registry's job queue: when a stored submission is taken into the registry.

Two modes, chosen by the ``TAKE_IN`` setting:

- ``inline`` (the default): the submission's own request takes it in, under a savepoint, before
  it answers the phone. One process, nothing else to run; the phone's household list is current
  the moment the phone is told "提交成功".
- ``queue``: the request only stores the submission (state ``received``) and answers; a worker
  process (``fangpin worker``) takes received submissions in, in batches, one commit per batch.
  The queue is the ``submissions`` table itself (a partial index of the received ones, by id),
  so nothing is lost when a worker stops and nothing else needs installing. Several workers may
  run: PostgreSQL hands each batch to one worker (``FOR UPDATE SKIP LOCKED``); on SQLite a
  batch is taken under SQLite's write lock. The registry then lags the phone by the worker's poll
  interval plus the backlog (``fangpin worker`` logs it); a submission whose take-in raises is
  marked ``failed`` with its error (review queue; ``fangpin apply-pending --failed`` retries it)
  and the worker goes on with the next one.
  Phones come first: during a burst of submissions the worker waits for the burst to end
  (``Pacing``), unless the backlog grows past a limit.

ODK Central makes the same choice for its entities (a worker processes submission events after
the response); here it is a setting because a single-machine county server is simpler inline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db import utcnow, writing
from server.households.services import apply_submission, take_in
from server.submissions.instance import Element
from server.submissions.models import Submission, SubmissionState

log = logging.getLogger(__name__)
INLINE, QUEUE = "inline", "queue"
MODES = (INLINE, QUEUE)


def submission_stored(mode: str, session: Session, submission_id: int,
                      root: Element | None) -> None:
    """What follows a newly stored submission in the request that stored it."""
    if mode == INLINE:
        take_in(session, submission_id, root)
    elif mode != QUEUE:
        raise ValueError(f"TAKE_IN must be one of {MODES}, not {mode!r}")


@dataclass
class BatchReport:
    taken: int = 0
    states: dict[str, int] = field(default_factory=dict)
    failed: list[int] = field(default_factory=list)


def take_in_batch(session: Session, size: int, skip: frozenset[int] = frozenset()
                  ) -> BatchReport:
    """Claim up to ``size`` received submissions (oldest first) and take each in.

    Each take-in runs under its own savepoint (``apply_submission``): a failing one is rolled
    back alone and marked ``failed`` (counted in ``states``); one that raises even so (the
    database) is reported in ``failed`` and left ``received``. The caller commits the batch.
    """
    query = (select(Submission.id).where(Submission.state == SubmissionState.RECEIVED)
             .order_by(Submission.id).limit(size))
    if skip:
        query = query.where(Submission.id.not_in(skip))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    report = BatchReport()
    for submission_id in session.scalars(query).all():
        try:
            state = apply_submission(session, submission_id)
        except Exception:
            log.exception("submission %s stays received: taking it in failed", submission_id)
            report.failed.append(submission_id)
            continue
        report.taken += 1
        report.states[state] = report.states.get(state, 0) + 1
    return report


@dataclass(frozen=True)
class Pacing:
    """When the worker gives way to the phones (see ``run_worker``)."""

    busy_rate: int = 20  # submissions received in the last second that make a burst (0: never)
    max_backlog: int = 5000  # past this many waiting, the worker takes in even during a burst


def in_burst(session: Session, pacing: Pacing) -> bool:
    """Phones are sending a burst, and the backlog is still small enough to wait."""
    if pacing.busy_rate <= 0:
        return False
    since = utcnow() - timedelta(seconds=1)
    recent = session.scalar(select(func.count()).select_from(Submission)
                            .where(Submission.received_at > since))
    if recent < pacing.busy_rate:
        return False
    backlog = session.scalar(select(func.count()).select_from(Submission)
                             .where(Submission.state == SubmissionState.RECEIVED))
    return backlog < pacing.max_backlog


def run_worker(sessions: Callable[[], Session], *, batch: int = 100, poll: float = 0.5,
               pacing: Pacing = Pacing(), stop: threading.Event | None = None,
               on_batch: Callable[[BatchReport], None] | None = None) -> None:
    """Take received submissions in until ``stop`` is set; sleep ``poll`` s when idle.

    Phones come first: while a burst is arriving (``pacing.busy_rate`` submissions in the last
    second) the worker waits, so that answering the phones gets the CPU and the disk, and takes
    the backlog in when the burst is over — or at once, when the backlog reaches
    ``pacing.max_backlog``. A trickle is taken in as it arrives.

    A submission that failed is not retried by this worker again (so one bad submission cannot
    spin it); it stays ``received`` for the next start or ``fangpin apply-pending``.
    """
    stop = stop or threading.Event()
    failed: set[int] = set()
    while not stop.is_set():
        with sessions() as session:
            waiting = in_burst(session, pacing)
        if waiting:
            stop.wait(poll)
            continue
        with writing(), sessions() as session, session.begin():
            report = take_in_batch(session, batch, frozenset(failed))
        failed.update(report.failed)
        if on_batch and (report.taken or report.failed):
            on_batch(report)
        if report.taken + len(report.failed) < batch:
            stop.wait(poll)
