"""Read services of the cases of the two procedures: what the REST API lists and shows, and
what the console and the exports call with the same area scope.

A case is shown as a ``CaseView``: its columns, the first day its running public notice may
end, and its ``Timing`` (ages in working days, deadlines, overdue flags) — computed here for a
whole page at once (``case_views``: the deadlines read with one query), never by a schema field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from server.areas.queries import AreaView, area_labels, area_path, readable_area
from server.auth import Principal, within
from server.clock import local_day
from server.domain.deadlines import Timing
from server.domain.figures import FigureKind, FigureMissing
from server.domain.notices import MeasureLine, measure_lines, numbered_risks
from server.domain.pipeline import Status, Step, notice_closes_on
from server.errors import AppError
from server.figures.services import figure_in_force
from server.households.models import Household, MeasureRecord, Person, SurveyVersion
from server.listing import SortKey, sorted_by, where_equal, where_in_area
from server.pipeline import deadlines
from server.pipeline.models import Case, CaseEvent, MonitoringContact
from server.pipeline.services import notice_days

CASE_SORT = {"id": Case.id, "opened_at": Case.opened_at,
             "step_entered_at": Case.step_entered_at, "area_code": Case.area_code}
DEFAULT_SORT = (SortKey("id"),)


@dataclass(frozen=True)
class CaseView:
    """A case as it is shown, on a given day."""

    id: int
    procedure: str
    step: str
    status: str
    origin: str | None
    area_code: str
    household_id: str | None
    declaration_id: int | None
    notice_started: date | None
    notice_can_end_on: date | None  # the first day the running notice may be closed
    opened_at: datetime
    step_entered_at: datetime
    closed_at: datetime | None
    decided_on: date | None
    timing: Timing


def cases_query(session: Session, user: Principal, filters: Mapping, today: date) -> Select:
    """The cases (a Select of ``Case``) of the user's area, for ``case_views``; ``filters``:
    ``procedure``, ``status``, ``step``, ``household_id``, ``origin``, ``area_code``,
    ``monitoring_type`` (the household's A3), ``overdue`` (on ``today``, by the configured
    deadlines), ``sort`` (keys of ``CASE_SORT``; by id by default)."""
    query = sorted_by(select(Case).where(within(user, Case.area_code)),
                      filters.get("sort", DEFAULT_SORT), CASE_SORT, Case.id)
    query = where_equal(query, filters, Case, "procedure", "status", "step", "household_id",
                        "origin")
    query = where_in_area(query, filters, Case.area_code)
    if "monitoring_type" in filters:
        query = query.where(Case.household_id.in_(select(Household.id).where(
            Household.monitoring_type == filters["monitoring_type"])))
    if "overdue" in filters:
        late = deadlines.overdue_condition(session, today)
        query = query.where(late if filters["overdue"] else ~late)
    return query


def readable_case(session: Session, user: Principal, case_id: int) -> Case:
    """The case if it lies in the user's area (else NOT_FOUND); not locked (to act on a case,
    ``services.lock_case``)."""
    case = session.scalar(select(Case).where(Case.id == case_id, within(user, Case.area_code)))
    if case is None:
        raise AppError("NOT_FOUND")
    return case


def case_views(session: Session, cases: Sequence[Case], today: date) -> list[CaseView]:
    """The cases as shown on ``today``, timing and notice computed for them all at once."""
    timings = deadlines.case_timings(session, cases, today)
    notice_ends = deadlines.notice_ends(session, cases)
    return [CaseView(
        id=case.id, procedure=case.procedure, step=case.step, status=case.status,
        origin=case.origin, area_code=case.area_code, household_id=case.household_id,
        declaration_id=case.declaration_id, notice_started=case.notice_started,
        notice_can_end_on=notice_end, opened_at=case.opened_at,
        step_entered_at=case.step_entered_at, closed_at=case.closed_at,
        decided_on=case.decided_on, timing=timing)
        for case, timing, notice_end in zip(cases, timings, notice_ends, strict=True)]


def case_view(session: Session, case: Case, today: date) -> CaseView:
    return case_views(session, [case], today)[0]


# --- what the case lists show beside each case ---------------------------------------------


@dataclass(frozen=True)
class CaseHousehold:
    """A case's household as the case lists show it: stored values, unmasked (the caller
    masks the ID number and the phone by the one rule, ``server.domain.personal``)."""

    id: str
    area_code: str
    head_name: str | None
    head_id_number: str | None
    size: int
    phone: str | None
    monitoring_type: str | None


@dataclass(frozen=True)
class CaseListItem:
    """A row of a case list: the case as shown, where it lies, and its household."""

    case: CaseView
    area_name: str
    household: CaseHousehold | None


def case_households(session: Session, household_ids: Iterable[str]) -> dict[str, CaseHousehold]:
    """The households of cases (already read within the user's area), by id: one query."""
    ids = set(household_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Household, Person.name, Person.id_number)
        .outerjoin(Person, Person.id == Household.head_person_id)
        .where(Household.id.in_(ids)))
    return {household.id: CaseHousehold(
        id=household.id, area_code=household.area_code, head_name=name, head_id_number=number,
        size=household.size, phone=household.phone, monitoring_type=household.monitoring_type)
        for household, name, number in rows}


def case_list(session: Session, cases: Sequence[Case], today: date) -> list[CaseListItem]:
    """A page of cases as a list shows them on ``today``: ``case_views`` (timing, notice), the
    area's name and the household — a fixed number of queries for the whole page."""
    views = case_views(session, cases, today)
    households = case_households(session, (c.household_id for c in cases if c.household_id))
    names = area_labels(session, (c.area_code for c in cases))
    return [CaseListItem(view, names[view.area_code], households.get(view.household_id or ""))
            for view in views]


# --- a village's public-notice list (附件4) --------------------------------------------------


@dataclass(frozen=True)
class NoticeEntry:
    """One public notice of one case, as the village's list shows it (附件4's columns:
    评议时间, 公示时间, the household, its risks, measures and monitoring contact)."""

    case_id: int
    procedure: str
    step: str  # the case's step now
    status: str  # the case's status now
    household: CaseHousehold | None
    reviewed_on: date | None  # 评议时间: the village review that sent the case to the notice
    started_on: date  # the notice's first day (a return into the notice starts a new one)
    can_end_on: date  # the first day it may be closed (SPEC §6: its full days after the start)
    ended_on: date | None  # the day the case left the notice; None while it runs
    ended_by: str | None  # the action that ended it: approve, return, reject
    risks: tuple[str, ...]  # numbered risks '1'–'14' of the household's latest survey
    measures: list[MeasureLine]
    contact: MonitoringContact | None  # the household's current monitoring contact


@dataclass(frozen=True)
class NoticeList:
    area: list[AreaView]  # the area and those above it, from the top (县, 乡镇, 村)
    start: date
    end: date
    entries: list[NoticeEntry]


@dataclass(frozen=True)
class _Span:
    case_id: int
    reviewed_on: date | None
    started_on: date
    ended_on: date | None = None
    ended_by: str | None = None


def notice_list(session: Session, user: Principal, area_code: str, start: date,
                end: date) -> NoticeList:
    """The public notices of the cases of ``area_code`` (a village, or any area inside the
    user's; NOT_FOUND outside) that ran on any day from ``start`` to ``end``, by first day.

    A notice starts with the event that moves its case into the public-notice step (the
    village review's approval, or a return from the township) and ends with the next event
    that moves it out (approved to the township, returned, rejected); a running notice's first
    day is the case's ``notice_started``. Dates are calendar days in Asia/Shanghai."""
    path = area_path(session, readable_area(session, user, area_code).code)
    in_area = and_(within(user, Case.area_code), within(area_code, Case.area_code))
    notice = Step.PUBLIC_NOTICE.value
    events = session.execute(
        select(CaseEvent.case_id, CaseEvent.at, CaseEvent.action, CaseEvent.from_step,
               CaseEvent.to_step)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(in_area, or_(CaseEvent.to_step == notice, CaseEvent.from_step == notice))
        .order_by(CaseEvent.case_id, CaseEvent.id)).all()
    running = session.scalars(select(Case).where(
        in_area, Case.step == notice, Case.status == Status.OPEN.value)).all()
    spans = _spans(events, {case.id: case for case in running})
    spans = [s for s in spans if s.started_on <= end and (s.ended_on is None
                                                          or s.ended_on >= start)]
    cases = {case.id: case for case in session.scalars(
        select(Case).where(Case.id.in_({s.case_id for s in spans})))} if spans else {}
    households = case_households(session, (c.household_id for c in cases.values()
                                           if c.household_id))
    facts = _household_facts(session, households, end)
    days: dict[tuple[str, int], int] = {}
    entries = []
    for span in sorted(spans, key=lambda s: (s.started_on, s.case_id)):
        case = cases[span.case_id]
        key = (case.area_code[:2], span.started_on.year)
        if key not in days:
            days[key] = notice_days(session, case.area_code, span.started_on.year)
        risks, measures, contact = facts.get(case.household_id or "", ((), [], None))
        entries.append(NoticeEntry(
            case_id=case.id, procedure=case.procedure, step=case.step, status=case.status,
            household=households.get(case.household_id or ""), reviewed_on=span.reviewed_on,
            started_on=span.started_on, can_end_on=notice_closes_on(span.started_on, days[key]),
            ended_on=span.ended_on, ended_by=span.ended_by, risks=risks, measures=measures,
            contact=contact))
    return NoticeList(path, start, end, entries)


def _spans(events, running: Mapping[int, Case]) -> list[_Span]:
    """The notices of each case from its events (ordered by case, then event), and the one
    running now, whose first day is the case's ``notice_started``."""
    notice = Step.PUBLIC_NOTICE.value
    spans: list[_Span] = []
    for case_id, rows in groupby(events, key=lambda row: row.case_id):
        reviewed = current = None
        for row in rows:
            day = local_day(row.at)
            if row.from_step == notice and current is not None:
                spans.append(replace(current, ended_on=day, ended_by=row.action))
                current = None
            elif row.to_step == notice and row.from_step != notice:
                if row.from_step == Step.VILLAGE_REVIEW.value:
                    reviewed = day
                current = _Span(case_id, reviewed, day)
        if current is not None:
            case = running.get(case_id)
            if case is not None:  # still in its notice: the case's own first day
                spans.append(replace(current, started_on=case.notice_started or current.started_on))
    spanned = {s.case_id for s in spans if s.ended_on is None}
    for case_id, case in running.items():  # in the notice without the event (written so)
        if case_id not in spanned:
            spans.append(_Span(case_id, None, case.notice_started
                               or local_day(case.step_entered_at)))
    return spans


def _household_facts(session: Session, households: Mapping[str, CaseHousehold],
                     until: date) -> dict:
    """Per household: its numbered risks (latest survey; ① by its province's monitoring line
    of the survey's year), its measures recorded up to ``until``, its current contact."""
    household_ids = list(households)
    if not household_ids:
        return {}
    surveys = session.execute(
        select(Household.id, SurveyVersion)
        .join(SurveyVersion, SurveyVersion.id == Household.latest_survey_id)
        .where(Household.id.in_(household_ids))).all()
    lines: dict[tuple[str, int], Decimal | None] = {}
    risks: dict[str, tuple[str, ...]] = {}
    for household_id, survey in surveys:
        key = (households[household_id].area_code[:2], survey.visit_date.year)
        if key not in lines:
            try:
                lines[key] = figure_in_force(session, key[0], key[1],
                                             FigureKind.MONITORING_LINE).value
            except FigureMissing:
                lines[key] = None
        line = lines[key]
        below = (line is not None and survey.a34_net_income_per_capita is not None
                 and survey.a34_net_income_per_capita < line)
        risks[household_id] = numbered_risks(survey.household_values or {},
                                             member_uninsured=survey.a26_member_uninsured,
                                             below_line=below)
    records: dict[str, list[dict]] = {}
    for household_id, values in session.execute(
            select(MeasureRecord.household_id, MeasureRecord.values)
            .where(MeasureRecord.household_id.in_(household_ids),
                   MeasureRecord.measure_date <= until)
            .order_by(MeasureRecord.measure_date, MeasureRecord.id)):
        records.setdefault(household_id, []).append(values or {})
    contacts = {contact.household_id: contact for contact in session.scalars(
        select(MonitoringContact).where(MonitoringContact.household_id.in_(household_ids),
                                        MonitoringContact.replaced_at.is_(None)))}
    return {household_id: (risks.get(household_id, ()),
                           measure_lines(records.get(household_id, [])),
                           contacts.get(household_id))
            for household_id in household_ids}
