"""When a stored submission is taken into the registry: in its own request, or by the worker.

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
  (``Pacing``), unless the backlog grows past a limit or its oldest has waited too long.
  ``fangpin worker --processes N`` runs N of them, one main and N - 1 *helpers*: a helper
  waits out every burst whatever the backlog, so that during a burst at most one process
  takes in (the phones keep the rest of the CPU), and once it is over all N drain the backlog
  together (one worker process uses about one core: its own Python, then PostgreSQL's).

ODK Central makes the same choice for its entities (a worker processes submission events after
the response); here it is a setting because a single-machine county server is simpler inline.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.concurrency import Coalescer
from server.db import Database, after_commit, unavailable, utcnow, writing
from server.intake.dispatch import take_in_many
from server.submissions.instance import Element
from server.submissions.models import QUEUED, Submission

log = logging.getLogger(__name__)
INLINE, QUEUE = "inline", "queue"
MODES = (INLINE, QUEUE)


@dataclass
class Stored:
    """What followed the commit of a newly stored submission: the state the take-in left it
    in, or None when it was not taken in (queue mode, or the take-in could not run)."""

    state: str | None = None


class InlineTakeIn:
    """``TAKE_IN=inline``: once the unit of work that stored a submission has committed, take it
    in, in a unit of work of its own (so what the phone sent is stored whatever follows).

    Submissions whose requests reach this point together are taken in together: one batch
    (``take_in_many``, as the worker's) for all of them, led by one of the requests while the
    others wait for it (``server.concurrency.Coalescer``: group commit). A lone request takes
    its own in as a batch of one; under a burst, the batch's fixed statements are shared, not
    repeated per submission. A batch is one unit of work: a submission whose take-in fails is
    rolled back alone and marked ``failed`` (as in a worker's batch); if the database fails the
    whole batch, each stays ``received`` for the worker or ``apply-pending``.
    """

    def __init__(self, database: Database, group_limit: int = 32):
        self.database = database
        self._group = Coalescer(self._take_in_group, limit=group_limit)

    def submission_stored(self, session: Session, submission_id: int,
                          root: Element | None = None) -> Stored:
        stored = Stored()

        def work() -> None:
            try:
                stored.state = self._group(submission_id, root)
            except Exception:  # the database: the submission stays received for the worker
                log.exception("submission %s stays received: taking it in failed",
                              submission_id)

        after_commit(session, work)
        return stored

    def _take_in_group(self, roots: dict[int, Element | None]) -> dict[int, str | Exception]:
        """The group's submissions taken in, in one unit of work: each one's new state, or
        the error of one whose take-in raised even after being marked failed (raised in its
        own request, which logs it; it stays received)."""
        with writing(), self.database.unit_of_work() as unit:
            taken = take_in_many(unit.session, sorted(roots), roots={
                submission_id: root for submission_id, root in roots.items()
                if root is not None})
        return {**taken.states, **taken.raised}


class QueueTakeIn:
    """``TAKE_IN=queue``: the request only stores; ``fangpin worker`` takes it in."""

    def submission_stored(self, session: Session, submission_id: int,
                          root: Element | None = None) -> Stored:
        return Stored()


TakeIn = InlineTakeIn | QueueTakeIn


def take_in_mode(mode: str, database: Database) -> TakeIn:
    """The take-in of the ``TAKE_IN`` setting, chosen once when the app is made."""
    if mode == INLINE:
        return InlineTakeIn(database)
    if mode == QUEUE:
        return QueueTakeIn()
    raise ValueError(f"TAKE_IN must be one of {MODES}, not {mode!r}")


@dataclass
class BatchReport:
    taken: int = 0
    states: dict[str, int] = field(default_factory=dict)
    failed: list[int] = field(default_factory=list)


def take_in_batch(session: Session, size: int, skip: frozenset[int] = frozenset()
                  ) -> BatchReport:
    """Claim up to ``size`` received submissions (oldest first) and take them in together
    (``take_in_many``: set-based for the everyday household surveys).

    A failing take-in is rolled back alone and marked ``failed`` (counted in ``states``); one
    that raises even so is reported in ``failed`` and left ``received``; the database's absence
    raises. The caller commits the batch.
    """
    report = BatchReport()
    taken = take_in_many(session, session.scalars(
        claim_query(size, skip, session.get_bind().dialect.name)).all())
    for state in taken.states.values():
        report.taken += 1
        report.states[state] = report.states.get(state, 0) + 1
    report.failed = sorted(taken.raised)
    return report


def claim_query(size: int, skip: frozenset[int] = frozenset(), dialect: str = "postgresql"):
    """The oldest ``size`` received submissions but ``skip``, locked on PostgreSQL (``SKIP
    LOCKED``: several workers each get their own)."""
    query = select(Submission.id).where(QUEUED).order_by(Submission.id).limit(size)
    if skip:
        query = query.where(Submission.id.not_in(skip))
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query


def pacing_queries(now: datetime, max_backlog: int):
    """What ``in_burst`` asks: how many arrived in the last second, when the oldest waiting one
    arrived, and how many wait (counted up to ``max_backlog``: past a long burst's lag the
    backlog holds tens of thousands, and a full count before every batch cost several ms)."""
    recent = (select(func.count()).select_from(Submission)
              .where(Submission.received_at > now - timedelta(seconds=1)))
    oldest = select(Submission.received_at).where(QUEUED).order_by(Submission.id).limit(1)
    backlog = select(func.count()).select_from(
        select(Submission.id).where(QUEUED).limit(max_backlog).subquery())
    return recent, oldest, backlog


@dataclass(frozen=True)
class Pacing:
    """When the worker gives way to the phones (see ``run_worker``)."""

    busy_rate: int = 20  # submissions received in the last second that make a burst (0: never)
    max_backlog: int = 5000  # past this many waiting, the worker takes in even during a burst
    max_lag: float = 30.0  # past this many seconds waited by the oldest, it takes in all the same

    def waits(self, recent: int, backlog: int, oldest_waited: float,
              helper: bool = False) -> bool:
        """Whether the worker waits, with ``recent`` submissions received in the last second,
        ``backlog`` waiting, the oldest of them for ``oldest_waited`` seconds; a ``helper``
        (one of ``--processes``' extra processes) waits out every burst, however long.

        A burst is waited out: the phones get the CPU and the disk, and its take-in comes after.
        But a burst ends, and a steady rate at or above ``busy_rate`` does not: waiting for it
        to end would leave the registry behind until the backlog reached ``max_backlog`` and
        keep it there (at 20/s, four minutes behind for as long as the rate holds). So the
        worker also takes in once the oldest waiting submission has waited ``max_lag`` seconds:
        a burst shorter than that is still waited out whole; under a rate that lasts, the
        registry lags the phones by about ``max_lag`` and no more.
        """
        if self.busy_rate <= 0 or recent < self.busy_rate:
            return False
        if helper:
            return True
        return backlog < self.max_backlog and oldest_waited < self.max_lag


def in_burst(session: Session, pacing: Pacing, helper: bool = False) -> bool:
    """Phones are sending a burst, and the backlog is still small and young enough to wait
    (for a ``helper``: phones are sending a burst)."""
    if pacing.busy_rate <= 0:
        return False
    now = utcnow()
    recent_query, oldest_query, backlog_query = pacing_queries(now, pacing.max_backlog)
    recent = session.scalar(recent_query)
    if recent < pacing.busy_rate:
        return False
    if helper:
        return pacing.waits(recent, 0, 0.0, helper=True)
    oldest = session.scalar(oldest_query)
    waited = (now - oldest).total_seconds() if oldest is not None else 0.0
    if waited >= pacing.max_lag:
        return False
    backlog = session.scalar(backlog_query)
    return pacing.waits(recent, backlog, waited)


@dataclass
class Backoff:
    """Waits between tries while the database is away: doubling from ``first`` up to
    ``longest`` seconds, with up to a quarter more at random so that workers do not all return
    at once."""

    first: float = 0.5
    longest: float = 30.0
    failures: int = 0

    def next(self) -> float:
        self.failures += 1
        delay = min(self.longest, self.first * 2 ** (self.failures - 1))
        return delay * (1 + random.random() / 4)

    def reset(self) -> None:
        self.failures = 0


def run_worker(database: Database, *, batch: int = 200, poll: float = 0.5,
               pacing: Pacing = Pacing(), stop: threading.Event | None = None,
               on_batch: Callable[[BatchReport], None] | None = None,
               helper: bool = False) -> None:
    """Take received submissions in until ``stop`` is set; sleep ``poll`` s when idle.

    Phones come first: while a burst is arriving (``pacing.busy_rate`` submissions in the last
    second) the worker waits, so that answering the phones gets the CPU and the disk, and takes
    the backlog in when the burst is over — or at once, when the backlog reaches
    ``pacing.max_backlog`` or its oldest submission has waited ``pacing.max_lag`` seconds (so
    that a steady rate above ``busy_rate`` cannot hold the take-in back for good; see
    ``Pacing.waits``). A trickle is taken in as it arrives. A ``helper`` waits out every
    burst (``fangpin worker --processes``).

    A take-in that raises marks its submission ``failed``; one whose take-in raised even so
    (not the database's absence) is not retried by this worker again (so one bad submission
    cannot spin it); it stays ``received`` for the next start or ``fangpin apply-pending``.
    Each batch is a unit of work. While the database is unreachable (a restart, a lost
    connection) the worker waits and tries again with ``Backoff``: it never exits for it.
    """
    stop = stop or threading.Event()
    failed: set[int] = set()
    outage = Backoff()
    while not stop.is_set():
        try:
            with database.unit_of_work() as unit:
                waiting = in_burst(unit.session, pacing, helper)
            if waiting:
                stop.wait(poll)
                continue
            with writing(), database.unit_of_work() as unit:
                report = take_in_batch(unit.session, batch, frozenset(failed))
        except Exception as error:
            if not unavailable(error):
                raise
            # A restart or a lost connection: the batch rolled back whole, and its submissions
            # are still received. Wait, longer each time, and try again; never exit.
            delay = outage.next()
            log.warning("database unavailable (%s); trying again in %.1f s",
                        type(error).__name__, delay)
            stop.wait(delay)
            continue
        if outage.failures:
            log.warning("database available again after %d tries", outage.failures)
            outage.reset()
        failed.update(report.failed)
        if on_batch and (report.taken or report.failed):
            on_batch(report)
        if report.taken + len(report.failed) < batch:
            stop.wait(poll)
