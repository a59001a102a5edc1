"""Work that runs after a request's transaction has committed (DESIGN: "the job queue").

The default runner is inline: the job runs right after the commit, in a session of its own,
before the response leaves. A job that fails is logged and leaves what was committed intact —
a submission then stays ``received`` and the ``fangpin apply-pending`` command takes it in
later. A real queue can replace ``InlineJobs`` behind the same ``submit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


class InlineJobs:
    def __init__(self, sessions: Callable[[], Session]):
        self._sessions = sessions

    def submit(self, job: Callable[[Session], object], description: str) -> None:
        session = self._sessions()
        try:
            job(session)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("job failed: %s", description)
        finally:
            session.close()
