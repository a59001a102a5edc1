"""Print batches as background jobs: a village's forms as one PDF (up to a minute for 200
households) made by ``services.render_area`` in the job, audited with the job's completion
(``print.created``, the asker's). ``submit`` checks now what can be checked before rendering —
the area inside the user's, the right to full numbers — so a refusal answers the request."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from server.areas.queries import readable_area
from server.auth import Principal
from server.domain.printed import DOCUMENTS, TITLES, PrintedForm
from server.jobs.models import Job
from server.jobs.services import JobContext, JobResult, handler, submit_job
from server.printing import queries, services

AREA = "print-area"


def submit(session: Session, user: Principal, area_code: str, form: PrintedForm, full: bool,
           start: date | None, end: date | None, runner) -> Job:
    queries.reader(user, full)  # FORBIDDEN_ROLE: full numbers below the county
    place = readable_area(session, user, area_code)
    return submit_job(
        session, user, AREA, f"打印{DOCUMENTS[form]}{TITLES[form]}（{place.name}）",
        {"area_code": area_code, "form": form.value, "full": full,
         "from": start.isoformat() if start else None, "to": end.isoformat() if end else None},
        runner)


@handler(AREA)
def run_area_print(session: Session, job: JobContext) -> JobResult:
    params = job.params
    printed = services.render_area(session, job.store, job.user, params["area_code"],
                                   PrintedForm(params["form"]), params["full"],
                                   _day(params["from"]), _day(params["to"]))
    job.output.write(printed.printed.content)
    return JobResult(printed.printed.filename, "application/pdf",
                     rows=printed.audit["households"], audit=printed.audit)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
