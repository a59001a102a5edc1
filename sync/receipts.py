"""The answer to a stored submission: its state and the OpenRosaResponse the phone shows,
as the view (``sync.api``) and the short road (``sync.shortcut``) both give it."""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.submissions.models import Submission, SubmissionState
from server.submissions.services import IngestResult
from sync import openrosa


def answer(result: IngestResult, session: Callable[[], Session]) -> tuple[str, bytes]:
    """The state and the receipt of a stored submission, once its unit has committed.
    ``session()`` is called only when the receipt lists what the take-in found."""
    if result.created:
        state = result.taken.state or SubmissionState.RECEIVED  # queue mode: not taken in yet
        problems = [] if state in _NOTHING_TO_LIST else _outcome(session(),
                                                                 result.submission_id)[1]
    else:
        state, problems = _outcome(session(), result.submission_id)
    again = not (result.created or result.added_attachments)
    return state, _receipt(state, problems, again)


_NOTHING_TO_LIST = frozenset({SubmissionState.APPLIED, SubmissionState.IGNORED,
                              SubmissionState.RECEIVED})


def _outcome(session, submission_id: int) -> tuple[str, list]:
    """The submission's state and problems, as the request's take-in left them (one narrow
    primary-key read: the take-in's Submission object is no longer in the session by now)."""
    row = session.execute(select(Submission.state, Submission.problems)
                          .where(Submission.id == submission_id)).one()
    return row.state, row.problems or []


def _receipt(state: str, problems: list, again: bool) -> bytes:
    """The OpenRosaResponse of an accepted submission (``openrosa.submission_message``)."""
    if state in (SubmissionState.INVALID, SubmissionState.HELD) and problems:
        return openrosa.response(openrosa.submission_message(state, problems, again=again),
                                 "submit_success")
    return _fixed_receipt(state, again)


@functools.lru_cache(maxsize=32)
def _fixed_receipt(state: str, again: bool) -> bytes:
    """The receipt of a state whose message lists nothing: built once (the hot path)."""
    return openrosa.response(openrosa.submission_message(state, again=again), "submit_success")
