"""Exports as background jobs: the same export (``services.prepare``/``produce``, the same
refusals, the same audit entry when it ends), written to the job's file with its progress —
for exports too long to wait for in a browser (a county's members: about a minute a million).

``submit`` checks the export now (a refusal answers the request, nothing is queued) and queues
the job; the handler checks it again as the asker is when it runs."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from server.auth import Principal
from server.domain.datasets import DATASETS
from server.exports import services
from server.jobs.models import Job
from server.jobs.services import JobContext, JobResult, handler, submit_job

DATASET, MEDIA = "export", "export-media"


def submit(session: Session, user: Principal, dataset: str, arguments: Mapping[str, str],
           runner) -> Job:
    """Queue the export of ``dataset`` (or ``media``) with ``arguments`` for ``user``."""
    arguments = dict(arguments)
    if dataset == "media":
        export = services.prepare_media(session, user, arguments)
        return submit_job(session, user, MEDIA, f"导出照片和签名（{export.area_name}）",
                          {"arguments": arguments}, runner)
    export = services.prepare(session, user, dataset, arguments)
    return submit_job(session, user, DATASET,
                      f"导出{DATASETS[dataset].title}（{export.format.value.upper()}，"
                      f"{export.area_name}）", {"dataset": dataset, "arguments": arguments},
                      runner)


class _Progress:
    """The export's progress (rows or files written, a thousand at a time) told to the job."""

    def __init__(self, job: JobContext, total: int):
        self.job, self.total, self.done = job, total, 0
        job.report(0, total)

    def __call__(self, rows: int) -> None:
        self.done += rows
        self.job.report(self.done, self.total)


@handler(DATASET)
def run_export(session: Session, job: JobContext) -> JobResult:
    export = services.prepare(session, job.user, job.params["dataset"],
                              job.params["arguments"])
    progress = _Progress(job, services.row_count(job.database, export))
    for chunk in services.produce(job.database, export, progress):
        job.output.write(chunk)
    return JobResult(export.file_name, export.content_type, progress.done)


@handler(MEDIA)
def run_media_export(session: Session, job: JobContext) -> JobResult:
    export = services.prepare_media(session, job.user, job.params["arguments"])
    progress = _Progress(job, services.media_count(job.database, export))
    for chunk in services.produce_media(job.database, job.store, export, progress):
        job.output.write(chunk)
    return JobResult(export.file_name, export.content_type, progress.done)
