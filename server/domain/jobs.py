"""Background jobs (large exports, print batches): their states and how their progress reads.

A job is queued when asked for, running once a worker (or the server's own thread) takes it,
then done with its file or failed with its error; nothing else moves it.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATE_NAMES = {JobState.QUEUED: "排队中", JobState.RUNNING: "进行中",
                   JobState.DONE: "已完成", JobState.FAILED: "失败"}
FINISHED = frozenset({JobState.DONE, JobState.FAILED})


def percent(done: int, total: int | None) -> int | None:
    """Progress as a whole percentage (None while the total is not known), never past 100."""
    if not total:
        return None
    return max(0, min(100, done * 100 // total))
