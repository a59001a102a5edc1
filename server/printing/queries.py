"""The read service of the printed forms: each form's data gathered from the services that own
it — the case, its events and signatures (``server.pipeline``), the household and its survey
(``server.households``), the numbered risks (``domain.notices.numbered_risks``, SPEC §4), the
measures and the village's public-notice list (``pipeline.queries.notice_list``) — within the
reader's area (NOT_FOUND outside), with ID and phone numbers as the reader may see them.

Choices where the source is silent, documented here:
- full numbers are a deliberate option (``full``) of a role that may see them (county, admin:
  ``domain.personal``); otherwise every printed ID and phone number is masked, whatever the
  role — paper leaves the system;
- a signature box shows the images of the latest approval that carried that signer's capacity
  (a step returned and approved again is signed again), the team's box the phone's team
  signatures of the submission that documents the verification; its day is that approval's;
- the risks on 附件3 are those of the survey that documents the verification; on 附件5 those
  the household was identified with (its survey in force when its identification was
  approved), the risks “now eliminated”; on 附件1 those of the household's latest survey;
- a village's batch is its cases of the procedure (rejected ones left out) that were open on
  any day of the period, or all when no period is given; its households for 附件1/附件2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.areas.queries import area_path, readable_area
from server.auth import Principal, within
from server.clock import day_start, local_day
from server.domain import fields, personal
from server.domain.figures import FigureKind, FigureMissing
from server.domain.idnumber import mask, mask_phone
from server.domain.notices import numbered_risks, risk_marks
from server.domain.pipeline import (
    PROCEDURE_NAMES,
    STEPS,
    Action,
    Procedure,
    Signer,
    Status,
    Step,
)
from server.domain.printed import risk_legend, security_marks, type_marks
from server.errors import AppError
from server.figures.services import figure_in_force
from server.households.models import (
    EliminationAssessment,
    Household,
    MeasureRecord,
    Person,
    SurveyVersion,
)
from server.households.queries import survey_values, survey_view
from server.pipeline import queries as case_queries
from server.pipeline.models import Case, CaseEvent
from server.pipeline.services import verification_submission
from server.pipeline.signatures import TEAM_SIGNER, case_signatures
from server.printing.forms import (
    ApplicationForm,
    ApprovalForm,
    Box,
    EliminationForm,
    Heading,
    NoticeRow,
    NoticeSheet,
    Place,
    SurveyForm,
    other_risk_text,
    survey_form,
)

DOCUMENTS = {Procedure.IDENTIFICATION: "附件3", Procedure.ELIMINATION: "附件5"}


@dataclass(frozen=True)
class Reader:
    """Who prints, and whether they asked for full numbers (allowed only to the roles that may
    see them: ``reader`` checks it)."""

    user: Principal
    full: bool = False

    def id_number(self, value: str | None) -> str:
        if not value:
            return ""
        return value if self.full and personal.sees_full_id_numbers(self.user.role) \
            else mask(value)

    def phone(self, value: str | None, household_area: str | None) -> str:
        if not value:
            return ""
        if self.full:
            return personal.shown_phone(value, self.user.role, self.user.area_code,
                                        household_area) or ""
        return mask_phone(value)


def reader(user: Principal, full: bool) -> Reader:
    """The reader; FORBIDDEN_ROLE when a role that may not see full numbers asks for them."""
    if full and not personal.sees_full_id_numbers(user.role):
        raise AppError("FORBIDDEN_ROLE", role=user.role.value)
    return Reader(user, full)


# --- the pieces every form shares -----------------------------------------------------------


def place_of(session: Session, area_code: str) -> Place:
    names = {area.level: area.name for area in area_path(session, area_code)}
    return Place(city=names.get("city", ""), county=names.get("county", ""),
                 township=names.get("township", ""), village=names.get("village", ""),
                 group=names.get("group", ""))


def _heading(session: Session, reader: Reader, household: Household, place: Place) -> Heading:
    head = session.get(Person, household.head_person_id) if household.head_person_id else None
    return Heading(head_name=head.name if head else "", size=household.size,
                   id_number=reader.id_number(head.id_number if head else None),
                   phone=reader.phone(household.phone, household.area_code), place=place)


def _line(session: Session, area_code: str, year: int) -> Decimal | None:
    try:
        return figure_in_force(session, area_code[:2], year, FigureKind.MONITORING_LINE).value
    except FigureMissing:
        return None


def _risks(session: Session, household: Household, survey: SurveyVersion | None
           ) -> tuple[str, ...]:
    if survey is None:
        return ()
    line = _line(session, household.area_code, survey.visit_date.year)
    below = (line is not None and survey.a34_net_income_per_capita is not None
             and survey.a34_net_income_per_capita < line)
    return numbered_risks(survey.household_values or {},
                          member_uninsured=survey.a26_member_uninsured, below_line=below)


def _latest_survey(session: Session, household_id: str,
                   until: datetime | None = None) -> SurveyVersion | None:
    query = select(SurveyVersion).where(SurveyVersion.household_id == household_id)
    if until is not None:
        query = query.where(SurveyVersion.created_at <= until)
    return session.scalar(query.order_by(SurveyVersion.number.desc()).limit(1))


def _boxes(session: Session, case: Case) -> tuple[dict[str, Box], Box]:
    """Each signer's box (by ``Signer`` value, plus the team's) and the county's (its day).

    A box holds the signatures of the approval that stands for its step: the latest one, unless
    a return has since taken the case back to that step or before it (then the step is to be
    done, and signed, again: the box is empty until it is)."""
    steps = STEPS[Procedure(case.procedure)]
    standing: dict[str, tuple[int, date]] = {}  # step -> (event id, day) of its approval
    for event_id, action, from_step, to_step, at in session.execute(
            select(CaseEvent.id, CaseEvent.action, CaseEvent.from_step, CaseEvent.to_step,
                   CaseEvent.at)
            .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)):
        if action == Action.APPROVE.value and from_step:
            standing[from_step] = (event_id, local_day(at))
        elif action == Action.RETURN.value and to_step in steps:
            for step in steps[steps.index(Step(to_step)):]:
                standing.pop(step.value, None)
    events = {event_id for event_id, _ in standing.values()}
    approved = {step: day for step, (_, day) in standing.items()}
    by_event: dict[str, list[str]] = {}
    phone: dict[str, list[str]] = {}
    for found in case_signatures(session, case):
        if found.signer is None:
            continue
        if found.source == "event":
            if found.event_id in events:
                by_event.setdefault(found.signer, []).append(found.key)
        else:
            phone.setdefault(found.signer, []).append(found.key)
    keys = dict(by_event)
    for signer, found in phone.items():
        keys.setdefault(signer, found)
    verified = approved.get(Step.VERIFICATION.value)
    days = {TEAM_SIGNER: verified, Signer.HOUSEHOLD_HEAD.value: verified,
            Signer.APPLICANT.value: approved.get(Step.APPLICATION.value)
            or approved.get(Step.PROPOSAL.value),
            Signer.VILLAGE_SECRETARY.value: approved.get(Step.PUBLIC_NOTICE.value),
            Signer.TOWNSHIP_SECRETARY.value: approved.get(Step.TOWNSHIP_REVIEW.value),
            Signer.TOWNSHIP_HEAD.value: approved.get(Step.TOWNSHIP_REVIEW.value)}
    boxes = {signer: Box(tuple(dict.fromkeys(keys.get(signer, ()))), day)
             for signer, day in days.items()}
    county = approved.get(Step.COUNTY_APPROVAL.value) if case.status == Status.DONE.value \
        else None
    return boxes, Box((), county)


def readable_case(session: Session, user: Principal, case_id: int,
                  procedure: Procedure) -> Case:
    """The case in the user's area (else NOT_FOUND), of ``procedure`` (else
    PRINT_WRONG_PROCEDURE) and of a household (a case without one has no form)."""
    case = case_queries.readable_case(session, user, case_id)
    if case.procedure != procedure.value:
        raise AppError("PRINT_WRONG_PROCEDURE", document=DOCUMENTS[procedure],
                       procedure_name=PROCEDURE_NAMES[procedure])
    if case.household_id is None:
        raise AppError("NOT_FOUND")
    return case


def latest_case(session: Session, household: Household, procedure: Procedure) -> Case:
    """The household's latest case of ``procedure`` (NOT_FOUND without one)."""
    case = session.scalar(select(Case).where(Case.household_id == household.id,
                                             Case.procedure == procedure.value)
                          .order_by(Case.id.desc()).limit(1))
    if case is None:
        raise AppError("NOT_FOUND")
    return case


def approval_form(session: Session, reader: Reader, case: Case) -> ApprovalForm:
    """附件3 of an identification case."""
    household = session.get(Household, case.household_id)
    place = place_of(session, household.area_code)
    submission = verification_submission(session, case)
    survey = (session.scalar(select(SurveyVersion).where(
        SurveyVersion.submission_id == submission, SurveyVersion.household_id == household.id))
        if submission is not None else None) or _latest_survey(session, household.id)
    risks = _risks(session, household, survey)
    boxes, county = _boxes(session, case)
    return ApprovalForm(
        case_id=case.id, heading=_heading(session, reader, household, place),
        security=security_marks(risks), types=type_marks(risks),
        verification=boxes[TEAM_SIGNER], village=boxes[Signer.VILLAGE_SECRETARY.value],
        township_secretary=boxes[Signer.TOWNSHIP_SECRETARY.value],
        township_head=boxes[Signer.TOWNSHIP_HEAD.value], county=county,
        county_name=place.county, legend=_legend(session, household, survey))


def elimination_form(session: Session, reader: Reader, case: Case) -> EliminationForm:
    """附件5 of a risk-elimination case."""
    household = session.get(Household, case.household_id)
    place = place_of(session, household.area_code)
    identified = session.scalar(
        select(Case.closed_at).where(Case.household_id == household.id,
                                     Case.procedure == Procedure.IDENTIFICATION.value,
                                     Case.status == Status.DONE.value, Case.id < case.id)
        .order_by(Case.id.desc()).limit(1))
    survey = (_latest_survey(session, household.id, identified) if identified else None) \
        or _latest_survey(session, household.id)
    risks = _risks(session, household, survey)
    boxes, county = _boxes(session, case)
    return EliminationForm(
        case_id=case.id, heading=_heading(session, reader, household, place),
        security=security_marks(risks), types=type_marks(risks),
        verification=boxes[TEAM_SIGNER], household=boxes[Signer.HOUSEHOLD_HEAD.value],
        village=boxes[Signer.VILLAGE_SECRETARY.value],
        township_secretary=boxes[Signer.TOWNSHIP_SECRETARY.value],
        township_head=boxes[Signer.TOWNSHIP_HEAD.value], county=county,
        county_name=place.county, legend=_legend(session, household, survey))


def _legend(session: Session, household: Household, survey: SurveyVersion | None):
    year = survey.visit_date.year if survey is not None else date.today().year
    return risk_legend(_line(session, household.area_code, year))


# --- households: 附件1, 附件2 --------------------------------------------------------------


def readable_household(session: Session, user: Principal, household_id: str) -> Household:
    household = session.scalar(select(Household).where(Household.id == household_id,
                                                       within(user, Household.area_code)))
    if household is None:
        raise AppError("NOT_FOUND")
    return household


def application_form(session: Session, reader: Reader, household: Household) -> ApplicationForm:
    """附件1 of a household: its latest survey's risks, the applicant's signature of its
    latest identification (signed with the application, or on the phone)."""
    place = place_of(session, household.area_code)
    survey = _latest_survey(session, household.id)
    risks = _risks(session, household, survey)
    case = session.scalar(select(Case).where(
        Case.household_id == household.id, Case.procedure == Procedure.IDENTIFICATION.value)
        .order_by(Case.id.desc()).limit(1))
    applicant = _boxes(session, case)[0][Signer.APPLICANT.value] if case is not None else Box()
    if applicant.day is None and survey is not None:
        applicant = Box(applicant.signatures, survey.visit_date)
    other = other_risk_text(survey.household_values or {}) if survey is not None else ""
    return ApplicationForm(heading=_heading(session, reader, household, place),
                           risks=risk_marks(risks), other=other if "14" in risks else "",
                           applicant=applicant, legend=_legend(session, household, survey))


def filled_survey(session: Session, reader: Reader, household: Household) -> SurveyForm:
    """附件2 filled from the household's latest survey (PRINT_NO_SURVEY without one), its
    measures (each measure as its latest record chose it) and its latest elimination."""
    latest = _latest_survey(session, household.id)
    if latest is None:
        raise AppError("PRINT_NO_SURVEY")
    values, members = survey_values(survey_view(latest))
    measures: dict[str, str] = {}
    for record in session.scalars(select(MeasureRecord.values)
                                  .where(MeasureRecord.household_id == household.id)
                                  .order_by(MeasureRecord.measure_date, MeasureRecord.id)):
        measures.update({name: str(value) for name, value in (record or {}).items() if value})
    assessment = session.scalar(select(EliminationAssessment)
                                .where(EliminationAssessment.household_id == household.id)
                                .order_by(EliminationAssessment.id.desc()).limit(1))
    if assessment is not None and assessment.method:
        values[fields.ELIMINATION_METHOD.name] = assessment.method
    eliminated = session.scalar(select(Case.decided_on).where(
        Case.household_id == household.id, Case.procedure == Procedure.ELIMINATION.value,
        Case.status == Status.DONE.value).order_by(Case.id.desc()).limit(1))
    if eliminated is not None:
        values[fields.ELIMINATION_DATE.name] = eliminated.isoformat()
    for name in (fields.CONTACT_PHONE.name,):
        if values.get(name):
            values[name] = reader.phone(values[name], household.area_code)
    return survey_form({**values, **measures}, members, measures,
                       place_of(session, household.area_code),
                       reader.phone(household.phone, household.area_code), latest.visit_date,
                       reader.id_number)


def blank_survey(session: Session, area_code: str | None = None) -> SurveyForm:
    """A blank 附件2 for a household surveyed on paper (no phone): the place filled in when
    printed for an area."""
    place = place_of(session, area_code) if area_code else Place()
    return survey_form(None, [], {}, place, "", None, lambda value: value)


# --- a village's batches ------------------------------------------------------------------

BATCH_LIMIT = 500  # households in one printed batch


def village_cases(session: Session, user: Principal, area_code: str, procedure: Procedure,
                  start: date | None, end: date | None) -> list[Case]:
    """The cases of ``procedure`` of the area (inside the user's; else NOT_FOUND), not
    rejected, of a household, open on any day from ``start`` to ``end`` (either may be None),
    by the household's place then case; PRINT_TOO_MANY over ``BATCH_LIMIT``."""
    readable_area(session, user, area_code)
    query = select(Case).where(within(user, Case.area_code), within(area_code, Case.area_code),
                               Case.procedure == procedure.value,
                               Case.status != Status.REJECTED.value,
                               Case.household_id.is_not(None))
    if end is not None:
        query = query.where(Case.opened_at < _day_after(end))
    if start is not None:
        query = query.where(or_(Case.closed_at.is_(None), Case.closed_at >= day_start(start)))
    found = session.scalars(query.order_by(Case.area_code, Case.id)).all()
    _check_count(len(found))
    return list(found)


def village_households(session: Session, user: Principal, area_code: str,
                       surveyed: bool = False) -> list[Household]:
    """The households of the area (inside the user's; else NOT_FOUND), by place; with a
    survey only if ``surveyed``; PRINT_TOO_MANY over ``BATCH_LIMIT``."""
    readable_area(session, user, area_code)
    query = select(Household).where(within(user, Household.area_code),
                                    within(area_code, Household.area_code))
    if surveyed:
        query = query.where(Household.latest_survey_id.is_not(None))
    found = session.scalars(query.order_by(Household.area_code, Household.created_at,
                                           Household.id)).all()
    _check_count(len(found))
    return list(found)


def _check_count(count: int) -> None:
    if count > BATCH_LIMIT:
        raise AppError("PRINT_TOO_MANY", limit=BATCH_LIMIT, count=count)


def _day_after(day: date) -> datetime:
    return day_start(day + timedelta(days=1))


# --- 附件4: the village's public-notice sheets --------------------------------------------


def notice_sheets(session: Session, reader: Reader, area_code: str, start: date,
                  end: date) -> list[NoticeSheet]:
    """附件4 of an area for a period: ``pipeline.queries.notice_list`` grouped into one sheet
    per village, review day and notice (the source's heading holds one 评议时间 and one
    公示时间), each with the verification teams' and the households' signatures."""
    listed = case_queries.notice_list(session, reader.user, area_code, start, end)
    cases = {case.id: case for case in session.scalars(
        select(Case).where(Case.id.in_({e.case_id for e in listed.entries})))} \
        if listed.entries else {}

    def key(entry):
        return (cases[entry.case_id].area_code[:12], entry.reviewed_on or entry.started_on,
                entry.started_on, entry.ended_on or date.max)

    sheets = []
    for (village, _, started, _), group in groupby(sorted(listed.entries, key=key), key=key):
        entries = list(group)
        rows, verifiers, households = [], [], []
        for number, entry in enumerate(entries, start=1):
            case = cases[entry.case_id]
            boxes, _ = _boxes(session, case)
            verifiers += boxes[TEAM_SIGNER].signatures
            households += boxes[Signer.HOUSEHOLD_HEAD.value].signatures
            rows.append(_notice_row(reader, number, entry))
        first = entries[0]
        sheets.append(NoticeSheet(
            place=place_of(session, village), reviewed_on=first.reviewed_on,
            started_on=started, ended_on=first.ended_on, can_end_on=first.can_end_on,
            rows=rows, verifiers=tuple(dict.fromkeys(verifiers)),
            households=tuple(dict.fromkeys(households))))
    return sheets


def _notice_row(reader: Reader, number: int, entry) -> NoticeRow:
    h = entry.household
    measures = "；".join(m.label + ("：" + "、".join(m.chosen) if m.chosen else "")
                        for m in entry.measures)
    effects = "；".join(m.effect for m in entry.measures if m.effect)
    elimination = entry.procedure == Procedure.ELIMINATION.value
    passed = entry.ended_by in (None, Action.APPROVE.value)
    remark = {Action.APPROVE.value: "公示期满", Action.RETURN.value: "退回重新评议",
              Action.REJECT.value: "已驳回"}.get(entry.ended_by or "", "公示中")
    return NoticeRow(
        number=number, case_id=entry.case_id, head_name=(h.head_name or "") if h else "",
        size=h.size if h else None, phone=reader.phone(h.phone, h.area_code) if h else "",
        risks=risk_marks(entry.risks), measures=measures, effects=effects,
        contact_name=entry.contact.name if entry.contact else "",
        contact_unit=(f"{entry.contact.unit} {entry.contact.position}" if entry.contact
                      else ""),
        measures_done="是" if entry.measures and passed else ("否" if entry.measures else ""),
        risk_eliminated=("是" if passed else "否") if elimination else "",
        remark=f"{PROCEDURE_NAMES[Procedure(entry.procedure)]}，{remark}")

