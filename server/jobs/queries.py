"""Read services of background jobs: a user reads their own jobs — the file of an export is
made under the asker's role and masking, so it is theirs alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.auth import Principal
from server.domain.jobs import JOB_STATE_NAMES, JobState, percent
from server.errors import AppError
from server.jobs.models import Job


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    title: str
    state: str
    state_name: str
    done: int
    total: int | None
    percent: int | None
    result_name: str | None
    result_size: int | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def jobs_query(user: Principal) -> Select:
    """The user's jobs, newest first (a Select of ``Job``)."""
    return select(Job).where(Job.user_id == user.id).order_by(Job.id.desc())


def readable_job(session: Session, user: Principal, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.user_id != user.id:
        raise AppError("NOT_FOUND")
    return job


def job_view(job: Job) -> JobView:
    state = JobState(job.state)
    return JobView(
        id=job.id, kind=job.kind, title=job.title, state=state.value,
        state_name=JOB_STATE_NAMES[state], done=job.done, total=job.total,
        percent=100 if state is JobState.DONE else percent(job.done, job.total),
        result_name=job.result_name, result_size=job.result_size, error_code=job.error_code,
        error_message=job.error_message, created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at)


def job_file(session: Session, user: Principal, job_id: int) -> Job:
    """A done job of the user, whose file may be downloaded (else JOB_NOT_DONE)."""
    job = readable_job(session, user, job_id)
    if job.state != JobState.DONE.value or not job.result_key:
        raise AppError("JOB_NOT_DONE", job_id=job_id,
                       state=JOB_STATE_NAMES[JobState(job.state)])
    return job
