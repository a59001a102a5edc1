"""Printing a form: gather (``printing.queries``), lay out and render (``printing.render``), and
record it in the audit log like an export of personal data (SPEC §7): ``print.created`` with
the user, the form, the object (a case, a household, an area, or a blank form), whether the
numbers were masked, the pages and the households printed.

Each view (REST, console) checks nothing itself: these functions read within the user's area
(NOT_FOUND outside) and refuse full numbers to a role that may not see them (FORBIDDEN_ROLE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from media.store import MediaStore
from server.audit.services import record
from server.auth import Principal
from server.domain.pipeline import Procedure
from server.domain.printed import DOCUMENTS, TITLES, PrintedForm
from server.errors import AppError
from server.printing import queries, render
from server.printing.render import Pdf

CASE_FORMS = {PrintedForm.APPROVAL: Procedure.IDENTIFICATION,
              PrintedForm.ELIMINATION: Procedure.ELIMINATION}
HOUSEHOLD_FORMS = (PrintedForm.APPLICATION, PrintedForm.SURVEY)
TEMPLATES = {PrintedForm.APPLICATION: "application.html", PrintedForm.SURVEY: "survey.html",
             PrintedForm.APPROVAL: "approval.html", PrintedForm.MEASURES: "notice.html",
             PrintedForm.ELIMINATION: "elimination.html"}


@dataclass(frozen=True)
class Printed:
    """A printed PDF and the name it is downloaded as."""

    pdf: Pdf
    filename: str

    @property
    def content(self) -> bytes:
        return self.pdf.content


def _name(form: PrintedForm, *parts: object) -> str:
    return "_".join([DOCUMENTS[form], TITLES[form].removeprefix("防止返贫监测对象"),
                     *(str(p) for p in parts if p)]) + ".pdf"


def _audit(session: Session, user: Principal, form: PrintedForm, object_type: str,
           object_id: object, reader: queries.Reader | None, pdf: Pdf, households: int,
           **details: object) -> None:
    record(session, "print.created", object_type, object_id, user.id, form=form.value,
           document=DOCUMENTS[form], masked=not (reader and reader.full), pages=pdf.pages,
           households=households, **details)


def _case_body(session: Session, reader: queries.Reader, form: PrintedForm, case) -> str:
    if form is PrintedForm.APPROVAL:
        return render.body(TEMPLATES[form], form=queries.approval_form(session, reader, case))
    return render.body(TEMPLATES[form], form=queries.elimination_form(session, reader, case))


def _household_body(session: Session, reader: queries.Reader, form: PrintedForm,
                    household) -> str:
    if form is PrintedForm.APPLICATION:
        return render.body(TEMPLATES[form],
                           form=queries.application_form(session, reader, household))
    return render.body(TEMPLATES[form], form=queries.filled_survey(session, reader, household))


def print_case(session: Session, store: MediaStore, user: Principal, case_id: int,
               form: PrintedForm, full: bool = False) -> Printed:
    """附件3 of an identification case or 附件5 of a risk elimination, both copies."""
    if form not in CASE_FORMS:
        raise AppError("NOT_FOUND")
    reader = queries.reader(user, full)
    case = queries.readable_case(session, user, case_id, CASE_FORMS[form])
    pdf = render.pdf([_case_body(session, reader, form, case)], store, TITLES[form])
    _audit(session, user, form, "case", case.id, reader, pdf, 1,
           household_id=case.household_id)
    return Printed(pdf, _name(form, f"案件{case.id}"))


def print_household(session: Session, store: MediaStore, user: Principal, household_id: str,
                    form: PrintedForm, full: bool = False) -> Printed:
    """附件1 or the filled 附件2 of a household; 附件3/附件5 of its latest case of the
    procedure."""
    reader = queries.reader(user, full)
    household = queries.readable_household(session, user, household_id)
    if form in CASE_FORMS:
        case = queries.latest_case(session, household, CASE_FORMS[form])
        body = _case_body(session, reader, form, case)
    elif form in HOUSEHOLD_FORMS:
        body = _household_body(session, reader, form, household)
    else:
        raise AppError("NOT_FOUND")
    pdf = render.pdf([body], store, TITLES[form])
    _audit(session, user, form, "household", household.id, reader, pdf, 1)
    return Printed(pdf, _name(form, household.id[:8]))


@dataclass(frozen=True)
class AreaPrinted:
    """A batch rendered, and its audit entry's details (written by ``audit_area``)."""

    printed: Printed
    audit: dict


def render_area(session: Session, store: MediaStore, user: Principal, area_code: str,
                form: PrintedForm, full: bool = False, start: date | None = None,
                end: date | None = None) -> AreaPrinted:
    """A village's (or any area's inside the user's) forms as one PDF: 附件4 for the notices of
    the period (``start`` to ``end``, both needed), 附件3/附件5 of its cases open in the period,
    附件1/附件2 of its households. Reads only: a batch takes up to a minute, and on SQLite a
    reading transaction holds no lock; ``audit_area`` records it after."""
    reader = queries.reader(user, full)
    if form is PrintedForm.MEASURES:
        if start is None or end is None:
            raise AppError("NOT_FOUND")
        sheets = queries.notice_sheets(session, reader, area_code, start, end)
        bodies = [render.body(TEMPLATES[form], sheets=sheets,
                              place=queries.place_of(session, area_code), start=start, end=end)]
        count = sum(len(sheet.rows) for sheet in sheets)
    elif form in CASE_FORMS:
        cases = queries.village_cases(session, user, area_code, CASE_FORMS[form], start, end)
        bodies = [_case_body(session, reader, form, case) for case in cases]
        count = len(cases)
    else:
        households = queries.village_households(session, user, area_code,
                                                surveyed=form is PrintedForm.SURVEY)
        bodies = [_household_body(session, reader, form, h) for h in households]
        count = len(households)
    if not bodies:
        bodies = [render.body("empty.html", title=TITLES[form], document=DOCUMENTS[form],
                              place=queries.place_of(session, area_code), start=start, end=end)]
    pdf = render.pdf(bodies, store, TITLES[form])
    audit = {"action": "print.created", "object_type": "area", "object_id": area_code,
             "form": form.value, "document": DOCUMENTS[form], "masked": not reader.full,
             "pages": pdf.pages, "households": count,
             "from": start.isoformat() if start else None,
             "to": end.isoformat() if end else None}
    return AreaPrinted(Printed(pdf, _name(form, area_code, start, end)), audit)


def audit_area(session: Session, user: Principal, printed: AreaPrinted) -> None:
    details = dict(printed.audit)
    record(session, details.pop("action"), details.pop("object_type"),
           details.pop("object_id"), user.id, **details)


def print_area(session: Session, store: MediaStore, user: Principal, area_code: str,
               form: PrintedForm, full: bool = False, start: date | None = None,
               end: date | None = None) -> Printed:
    """``render_area`` and its audit entry in the caller's transaction."""
    printed = render_area(session, store, user, area_code, form, full, start, end)
    audit_area(session, user, printed)
    return printed.printed


def print_blank(session: Session, user: Principal, form: PrintedForm,
                area_code: str | None = None) -> Printed:
    """A blank 附件2 for a household surveyed on paper (no phone), the place filled in when
    printed for an area inside the user's."""
    if form is not PrintedForm.SURVEY:
        raise AppError("NOT_FOUND")
    if area_code is not None:
        queries.readable_area(session, user, area_code)
    body = render.body(TEMPLATES[form], form=queries.blank_survey(session, area_code))
    pdf = render.pdf([body], None, TITLES[form])
    _audit(session, user, form, "blank", area_code or "", None, pdf, 0)
    return Printed(pdf, _name(form, "空白表"))
