"""Use cases of deduplication that people drive: resolve a conflict, judge a likely duplicate,
and re-check the whole registry for likely duplicates."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth import Principal
from server.db import insert_ignoring_duplicates, utcnow
from server.dedup.models import Conflict, DuplicateFlag
from server.domain.dedup import (
    CONFLICT_NAMES,
    RESOLUTIONS,
    ConflictKind,
    Decision,
    PersonKey,
    Resolution,
    decides_flag,
    likely_same,
    pair,
)
from server.errors import AppError
from server.households.models import Household, Person
from server.progress import Tracker, tracker
from server.submissions.models import Submission, SubmissionState


def flag_areas(session: Session, flag: DuplicateFlag) -> tuple[str | None, str | None]:
    """The area codes of the households of a flag's two people (None: in no household)."""
    areas = dict(session.execute(
        select(Person.id_number, Household.area_code)
        .join(Household, Household.id == Person.household_id)
        .where(Person.id_number.in_((flag.id_number_a, flag.id_number_b)))).all())
    return areas.get(flag.id_number_a), areas.get(flag.id_number_b)


def may_judge(session: Session, user: Principal, flag_id: int) -> bool:
    """Whether ``user``'s area contains both people's households of a flag (``decides_flag``):
    who may judge it, not only read it."""
    flag = session.get(DuplicateFlag, flag_id)
    return flag is not None and decides_flag(user.area_code, *flag_areas(session, flag))


def judge_duplicate(session: Session, flag_id: int, same_person: bool,
                    user: Principal) -> None:
    """A reviewer's verdict on a likely duplicate; "not the same person" is remembered. A flag
    whose two people live in different areas is judged only by a user whose area contains both
    (403 DUPLICATE_OUTSIDE_AREA)."""
    flag = session.get(DuplicateFlag, flag_id)
    if flag is None:
        raise AppError("NOT_FOUND")
    area_a, area_b = flag_areas(session, flag)
    if not decides_flag(user.area_code, area_a, area_b):
        raise AppError("DUPLICATE_OUTSIDE_AREA", area_a=area_a or "—", area_b=area_b or "—")
    flag.status = "same" if same_person else "not_same"
    flag.decided_by, flag.decided_at = user.id, utcnow()
    session.flush()
    record(session, "duplicate.judged", "duplicate_flag", flag.id, user.id,
           status=flag.status, a=flag.id_number_a, b=flag.id_number_b)


def hold_submission(session: Session, submission: Submission, decision: Decision) -> None:
    """Hold a submission for a reviewer: one conflict row per conflict of the decision."""
    for conflict in decision.conflicts:
        session.add(Conflict(submission_id=submission.id, kind=conflict.kind.value,
                             id_number=conflict.id_number,
                             member_indexes=list(conflict.member_indexes),
                             households=list(conflict.households),
                             area_code=conflict.area_code))


def resolve_conflict(session: Session, conflict_id: int, resolution: Resolution, user_id: int,
                     note: str = "") -> Submission:
    """Close a conflict with a reviewer's resolution (SPEC §5).

    A resolution moves nobody by itself: once every conflict of the held submission is closed,
    the submission is taken in again, and each conflict resolved as a move (or as the same
    household) authorises that one change, which the take-in writes and names in the audit log.
    ENTRY_ERROR rejects the submission (the helper resends it corrected). A move needs its
    reason (分户, 婚迁, 死亡 …), which the audit keeps.
    """
    conflict = session.get(Conflict, conflict_id)
    if conflict is None:
        raise AppError("NOT_FOUND")
    if conflict.status != "open":
        raise AppError("CONFLICT_ALREADY_RESOLVED", conflict_id=conflict_id)
    kind = ConflictKind(conflict.kind)
    if resolution not in RESOLUTIONS[kind]:
        raise AppError("CONFLICT_RESOLUTION_NOT_APPLICABLE", resolution=resolution.value,
                       kind=CONFLICT_NAMES[kind])
    if resolution is Resolution.MOVED and not note.strip():
        raise AppError("REASON_REQUIRED")
    conflict.status, conflict.resolution, conflict.note = "resolved", resolution.value, note
    conflict.resolved_by, conflict.resolved_at = user_id, utcnow()
    submission = session.get(Submission, conflict.submission_id)
    still_open = session.scalar(select(Conflict.id).where(
        Conflict.submission_id == submission.id, Conflict.status == "open"))
    if resolution is Resolution.ENTRY_ERROR:
        submission.state = SubmissionState.REJECTED
    elif still_open is None and submission.state == SubmissionState.HELD:
        submission.state = SubmissionState.RECEIVED
    session.flush()
    record(session, "conflict.resolved", "conflict", conflict.id, user_id,
           resolution=resolution.value, submission_id=submission.id, kind=kind.value,
           id_number=conflict.id_number, note=note or None)
    return submission


@dataclass(frozen=True)
class RecheckReport:
    people: int
    groups: int  # same name and birth date, two or more people
    new_flags: int


_PROGRESS_STEP = 1000


def recheck_registry(session: Session, user_id: int | None = None,
                     batch: int = 50_000, progress: Tracker | None = None) -> RecheckReport:
    """Scan every person for likely duplicates.

    People are streamed in (name, birth date) order — the order of the index that backs the
    per-submission check — so only groups of two or more are kept in memory and compared.
    ``progress`` hears of the people scanned (a thousand at a time).
    """
    progress = tracker(progress)
    progress.start(session.scalar(select(func.count()).select_from(Person)))
    people = 0
    shared: list[list[PersonKey]] = []
    group: list[PersonKey] = []
    current = None
    rows = session.execute(
        select(Person.name, Person.birth_date, Person.id_number)
        .order_by(Person.name, Person.birth_date)
        .execution_options(yield_per=batch))
    for name, birth, id_number in rows:
        people += 1
        if people % _PROGRESS_STEP == 0:
            progress.advance(_PROGRESS_STEP)
        if (name, birth) != current:
            if len(group) > 1:
                shared.append(group)
            group, current = [], (name, birth)
        group.append(PersonKey(id_number, name))
    if len(group) > 1:
        shared.append(group)
    progress.advance(people % _PROGRESS_STEP)
    groups = len(shared)
    new_flags = sum(_flag_group(session, group) for group in shared)
    record(session, "registry.rechecked", "registry", "-", user_id, people=people,
           groups=groups, new_flags=new_flags)
    return RecheckReport(people, groups, new_flags)


def _flag_group(session: Session, group: list[PersonKey]) -> int:
    new = 0
    for i, a in enumerate(group):
        for b in group[i + 1:]:
            if likely_same(a, b):
                first, second = pair(a.id_number, b.id_number)
                new += insert_ignoring_duplicates(session, DuplicateFlag, id_number_a=first,
                                                  id_number_b=second, status="open",
                                                  created_at=utcnow())
    return new
