"""A supervisor's review of submissions the registry could not take in as they were.

Invalid submissions (failed the server's checks) and held ones (dedup conflicts, resolved in
``server.dedup.services``) wait in the review queue of the area they belong to. A supervisor
corrects values — kept beside the XML, which stays as the phone sent it — and the submission is
taken in again, or rejects it with a reason. Both are in the audit log.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.audit.services import record
from server.domain.areas import contains
from server.errors import AppError
from server.submissions.models import REVIEWABLE, Submission, SubmissionState

_CORRECTION_KEY = re.compile(r"(members\[[1-9][0-9]*\]/)?[a-z][a-z0-9_]*")


def _reviewable(session: Session, submission_id: int, area_code: str) -> Submission:
    submission = session.get(Submission, submission_id)
    submitter_area = session.scalar(select(User.area_code).where(
        User.id == submission.submitter_id)) if submission else None
    if submission is None or not contains(area_code, submitter_area or ""):
        raise AppError("NOT_FOUND")
    if submission.state not in REVIEWABLE:
        raise AppError("SUBMISSION_NOT_REVIEWABLE", state=submission.state)
    return submission


def reject_submission(session: Session, submission_id: int, user_id: int, area_code: str,
                      reason: str) -> Submission:
    if not reason.strip():
        raise AppError("REASON_REQUIRED")
    submission = _reviewable(session, submission_id, area_code)
    submission.state, submission.review_note = SubmissionState.REJECTED, reason.strip()
    session.flush()
    record(session, "submission.rejected_by_reviewer", "submission", submission.id, user_id,
           reason=reason.strip())
    return submission


def correct_submission(session: Session, submission_id: int, user_id: int, area_code: str,
                       corrections: dict[str, str], note: str = "") -> Submission:
    """Record corrections and send the submission back to be taken in again."""
    if not corrections:
        raise AppError("CORRECTIONS_EMPTY")
    bad = [key for key in corrections if not _CORRECTION_KEY.fullmatch(key)]
    if bad:
        raise AppError("CORRECTION_KEY_INVALID", keys="、".join(bad))
    submission = _reviewable(session, submission_id, area_code)
    if submission.state == SubmissionState.HELD:
        raise AppError("SUBMISSION_NOT_REVIEWABLE", state=submission.state)
    before = dict(submission.corrections or {})
    submission.corrections = {**before, **{k: str(v) for k, v in corrections.items()}}
    submission.state, submission.review_note = SubmissionState.RECEIVED, note or None
    session.flush()
    record(session, "submission.corrected", "submission", submission.id, user_id,
           corrections=corrections, before={k: before.get(k) for k in corrections})
    return submission
