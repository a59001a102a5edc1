"""The export datasets' read services: one streamed query per dataset, inside the user's area.

``rows(session, user, dataset, filters, today)`` yields one plain mapping per row, keyed by the
columns of ``server.domain.datasets`` (stored values, unmasked: the export masks as it writes).
Each dataset is one SQLAlchemy Core SELECT read with ``yield_per`` (a server-side cursor on
PostgreSQL, so memory stays flat whatever the size), scoped by ``server.auth.within`` on the
row's own area and narrowed by the filters (``server.exports.schemas.FilterSchema``'s keys):

- ``area_code`` (any level inside the user's), ``monitoring_type`` (the household's A3),
  ``risk`` (a numbered risk ①–⑭ of its latest survey), ``objects`` (monitoring objects on
  ``today`` only) — on the row's household;
- ``procedure``, ``step``, ``status`` — on the case itself (cases, case events), else "the
  household has a case that is so";
- ``visit_from``/``visit_to`` — the dataset's own date (a measure's, an assessment's visit, an
  evaluation's), else the visit date of the household's latest survey;
- ``approved_from``/``approved_to`` — the county's approval (a finished case's closing day in
  Beijing): of the case itself, else of any of the household's cases.

Members are the roster of each household's latest survey (every A-field of a member is
there), one row per member, A6 from the ID number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from server.accounts.models import User
from server.areas.models import Area
from server.auth import Principal, within
from server.clock import day_start
from server.domain import codes
from server.domain.datasets import Dataset, sex_of
from server.domain.fields import (
    BY_NAME,
    DERIVED_INCOME,
    ELIMINATION_DATE,
    ELIMINATION_METHOD,
    ID_NUMBER,
    MEMBER_UNINSURED,
    MONITORING_TYPE,
    SEX,
)
from server.domain.pipeline import Status
from server.households.models import (
    EliminationAssessment,
    Household,
    MeasureRecord,
    Person,
    SurveyVersion,
    risk_pattern,
)
from server.monitoring.models import AssistanceEvaluation
from server.monitoring.services import monitored_households
from server.pipeline.models import Case, CaseEvent
from server.screening.models import WarningList, WarningRow

BATCH = 2000  # rows fetched at a time from the server-side cursor
_SIZE = BY_NAME["household_size"].name
_VISIT = BY_NAME["visit_date"].name
_MONITORING_TYPE = MONITORING_TYPE.name
_HEAD = aliased(Person, name="head")


def area_names(session: Session, user: Principal) -> dict[str, str]:
    """The names of the areas inside the user's (and of the user's own), by code: an export
    names each row's township, village and group from it (read once, not joined per row)."""
    return dict(session.execute(select(Area.code, Area.name).where(within(user, Area.code))).all())


def area_parts(names: Mapping[str, str], area_code: str | None) -> dict[str, str | None]:
    """The township's, village's and group's names of an area code (None where it has none)."""
    code = area_code or ""
    return {"township": names.get(code[:9]) if len(code) >= 9 else None,
            "village": names.get(code[:12]) if len(code) >= 12 else None,
            "group": names.get(code) if len(code) == 15 else None}


# --- filters -----------------------------------------------------------------------------


def _approved_between(filters: Mapping) -> list:
    conditions = [Case.status == Status.DONE.value]
    if "approved_from" in filters:
        conditions.append(Case.closed_at >= day_start(filters["approved_from"]))
    if "approved_to" in filters:
        conditions.append(Case.closed_at < day_start(filters["approved_to"] + timedelta(days=1)))
    return conditions


def _case_conditions(filters: Mapping) -> list:
    conditions = [getattr(Case, key) == filters[key] for key in ("procedure", "step", "status")
                  if key in filters]
    if "approved_from" in filters or "approved_to" in filters:
        conditions += _approved_between(filters)
    return conditions


def household_filters(query: Select, filters: Mapping, today: date, *, own_case: bool = False,
                       own_date=None) -> Select:
    """``query`` (which reads ``Household``) narrowed by the filters; ``own_case``: the rows
    are cases (the case filters apply to ``Case`` directly); ``own_date``: the dataset's own
    date column for the visit-date filter."""
    if "monitoring_type" in filters:
        query = query.where(Household.monitoring_type == filters["monitoring_type"])
    if "risk" in filters:
        query = query.where(Household.numbered_risks.like(risk_pattern(str(filters["risk"]))))
    if filters.get("objects"):
        monitored = monitored_households(today)
        query = query.where(Household.id.in_(select(monitored.c.household_id)))
    cases = _case_conditions(filters)
    if cases and own_case:
        query = query.where(*cases)
    elif cases:
        query = query.where(exists().where(Case.household_id == Household.id, *cases)
                            .correlate(Household))
    if "visit_from" in filters or "visit_to" in filters:
        if own_date is not None:
            column, condition = own_date, None
        else:
            latest = aliased(SurveyVersion, name="latest_visit")
            column = latest.visit_date
            condition = latest.id == Household.latest_survey_id
        between = []
        if "visit_from" in filters:
            between.append(column >= filters["visit_from"])
        if "visit_to" in filters:
            between.append(column <= filters["visit_to"])
        if condition is None:
            query = query.where(*between)
        else:
            query = query.where(exists().where(condition, *between).correlate(Household))
    return query


def _scoped(query: Select, user: Principal, filters: Mapping, area_column) -> Select:
    query = query.where(within(user, area_column))
    if "area_code" in filters:
        query = query.where(within(filters["area_code"], area_column))
    return query


# --- the datasets' queries ---------------------------------------------------------------


def _household_columns():
    return (Household.id.label("household_id"), Household.area_code.label("area_code"),
            _HEAD.name.label("head_name"), _HEAD.id_number.label("head_id_number"))


def _with_head(query: Select) -> Select:
    return query.outerjoin(_HEAD, _HEAD.id == Household.head_person_id)


def households_query(user: Principal, filters: Mapping, today: date) -> Select:
    monitored = monitored_households(today)
    query = _with_head(
        select(*_household_columns(), Household.phone, Household.size,
               Household.monitoring_type, Household.updated_at, monitored.c.since,
               SurveyVersion.number, SurveyVersion.visit_date, SurveyVersion.household_values,
               SurveyVersion.a33_net_income, SurveyVersion.a34_net_income_per_capita,
               SurveyVersion.a37_income_reference, SurveyVersion.a38_income_reference_per_capita,
               SurveyVersion.a26_member_uninsured, SurveyVersion.size.label("survey_size"))
        .select_from(Household)
        .outerjoin(SurveyVersion, SurveyVersion.id == Household.latest_survey_id)
        .outerjoin(monitored, monitored.c.household_id == Household.id))
    query = _scoped(query, user, filters, Household.area_code)
    query = household_filters(query, filters, today)
    return query.order_by(Household.area_code, Household.id)


def _household_row(row, names) -> dict:
    values = dict(row.household_values or {})
    if row.number is not None:  # the server's own figures (the truth), as survey_values has them
        figures = (row.a33_net_income, row.a34_net_income_per_capita, row.a37_income_reference,
                   row.a38_income_reference_per_capita)
        values.update({spec.name: value for spec, value in zip(DERIVED_INCOME, figures,
                                                               strict=True)})
        values[MEMBER_UNINSURED.name] = codes.YES if row.a26_member_uninsured else codes.NO
        values[_SIZE] = row.survey_size
        values[_VISIT] = row.visit_date
    else:
        values[_SIZE] = row.size
    if row.monitoring_type:  # the registry's A3 (the county's decision) over the survey's
        values[_MONITORING_TYPE] = row.monitoring_type
    values["phone"] = row.phone or values.get("phone")
    values.update(household_id=row.household_id, area_code=row.area_code,
                  head_name=row.head_name, head_id_number=row.head_id_number,
                  monitored=row.since is not None, monitored_since=row.since,
                  survey_number=row.number, updated_at=row.updated_at,
                  **area_parts(names, row.area_code))
    return values


def members_query(user: Principal, filters: Mapping, today: date) -> Select:
    query = _with_head(
        select(*_household_columns(), SurveyVersion.visit_date, SurveyVersion.member_values)
        .select_from(Household)
        .join(SurveyVersion, SurveyVersion.id == Household.latest_survey_id))
    query = _scoped(query, user, filters, Household.area_code)
    query = household_filters(query, filters, today, own_date=SurveyVersion.visit_date)
    return query.order_by(Household.area_code, Household.id)


def _member_rows(row, names) -> Iterator[dict]:
    shared = {"household_id": row.household_id, "area_code": row.area_code,
              "head_name": row.head_name, "visit_date": row.visit_date,
              **area_parts(names, row.area_code)}
    # each roster entry is a dict decoded for this row alone: completed in place
    for number, member in enumerate(row.member_values or (), start=1):
        member.update(shared)
        member["member_number"] = number
        member[SEX.name] = sex_of(member.get(ID_NUMBER.name))
        yield member


def measures_query(user: Principal, filters: Mapping, today: date) -> Select:
    query = _with_head(
        select(*_household_columns(), MeasureRecord.measure_date, MeasureRecord.green_channel,
               MeasureRecord.case_id, MeasureRecord.values, MeasureRecord.created_at)
        .select_from(MeasureRecord).join(Household, Household.id == MeasureRecord.household_id))
    query = _scoped(query, user, filters, Household.area_code)
    query = household_filters(query, filters, today, own_date=MeasureRecord.measure_date)
    return query.order_by(Household.area_code, Household.id, MeasureRecord.measure_date,
                          MeasureRecord.id)


def _measure_row(row, names) -> dict:
    values = dict(row.values or {})
    values.update(household_id=row.household_id, area_code=row.area_code,
                  head_name=row.head_name, head_id_number=row.head_id_number,
                  measure_date=row.measure_date,
                  green_channel=codes.YES if row.green_channel else codes.NO,
                  case_id=row.case_id, created_at=row.created_at,
                  **area_parts(names, row.area_code))
    return values


def eliminations_query(user: Principal, filters: Mapping, today: date) -> Select:
    a = EliminationAssessment
    query = _with_head(
        select(*_household_columns(), a.visit_date, a.size, a.values, a.a33_net_income,
               a.a34_net_income_per_capita, a.a37_income_reference,
               a.a38_income_reference_per_capita, a.method, a.eligible, a.created_at)
        .select_from(a).join(Household, Household.id == a.household_id))
    query = _scoped(query, user, filters, Household.area_code)
    query = household_filters(query, filters, today, own_date=a.visit_date)
    return query.order_by(Household.area_code, Household.id, a.visit_date, a.id)


def _elimination_row(row, names) -> dict:
    values = dict(row.values or {})
    figures = (row.a33_net_income, row.a34_net_income_per_capita, row.a37_income_reference,
               row.a38_income_reference_per_capita)
    values.update({spec.name: value for spec, value in zip(DERIVED_INCOME, figures,
                                                           strict=True)})
    values[_SIZE] = row.size
    values[_VISIT] = row.visit_date
    values[ELIMINATION_METHOD.name] = row.method or values.get(ELIMINATION_METHOD.name)
    values.update(household_id=row.household_id, area_code=row.area_code,
                  head_name=row.head_name, head_id_number=row.head_id_number,
                  eligible=row.eligible, created_at=row.created_at,
                  **area_parts(names, row.area_code))
    return values


def cases_query(user: Principal, filters: Mapping, today: date) -> Select:
    query = _with_head(
        select(Case.id.label("case_id"), Case.procedure, Case.step, Case.status, Case.origin,
               Case.area_code, Case.household_id, _HEAD.name.label("head_name"),
               _HEAD.id_number.label("head_id_number"), Household.monitoring_type,
               Case.decided_on, Case.opened_at, Case.step_entered_at, Case.notice_started,
               Case.closed_at)
        .select_from(Case).outerjoin(Household, Household.id == Case.household_id))
    query = _scoped(query, user, filters, Case.area_code)
    query = household_filters(query, filters, today, own_case=True)
    return query.order_by(Case.area_code, Case.id)


def _case_row(row, names) -> dict:
    values = dict(row._mapping)
    values[_MONITORING_TYPE] = row.monitoring_type
    values[ELIMINATION_DATE.name] = row.decided_on
    values.update(area_parts(names, row.area_code))
    return values


def case_events_query(user: Principal, filters: Mapping, today: date) -> Select:
    query = _with_head(
        select(Case.id.label("case_id"), Case.procedure, Case.area_code, Case.household_id,
               _HEAD.name.label("head_name"), CaseEvent.id.label("event_id"), CaseEvent.at,
               User.full_name.label("user"), CaseEvent.action, CaseEvent.from_step,
               CaseEvent.to_step, CaseEvent.status, CaseEvent.opinion)
        .select_from(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(Household, Household.id == Case.household_id)
        .outerjoin(User, User.id == CaseEvent.user_id))
    query = _scoped(query, user, filters, Case.area_code)
    query = household_filters(query, filters, today, own_case=True)
    return query.order_by(Case.area_code, Case.id, CaseEvent.id)


def _event_row(row, names) -> dict:
    return {**row._mapping, **area_parts(names, row.area_code)}


_CHECKER = aliased(User, name="checker")


def warnings_query(user: Principal, filters: Mapping, today: date) -> Select:
    """The department warning tasks (rows matched to a household) with their results."""
    query = _with_head(
        select(WarningRow.list_id, WarningList.filename, WarningRow.row_number,
               WarningRow.department, WarningRow.id_number, WarningRow.reason,
               WarningRow.reported_on, WarningRow.household_id,
               WarningRow.area_code.label("area_code"), _HEAD.name.label("head_name"),
               _HEAD.id_number.label("head_id_number"), WarningRow.check_result,
               WarningRow.outcome, _CHECKER.full_name.label("checked_by"),
               WarningRow.checked_at, WarningRow.case_id)
        .select_from(WarningRow).join(WarningList, WarningList.id == WarningRow.list_id)
        .join(Household, Household.id == WarningRow.household_id)
        .outerjoin(_CHECKER, _CHECKER.id == WarningRow.checked_by)
        .where(WarningRow.status == "matched"))
    query = _scoped(query, user, filters, WarningRow.area_code)
    query = household_filters(query, filters, today)
    return query.order_by(WarningRow.area_code, WarningRow.list_id, WarningRow.row_number)


def _warning_row(row, names) -> dict:
    return {**row._mapping, **area_parts(names, row.area_code)}


def evaluations_query(user: Principal, filters: Mapping, today: date) -> Select:
    e = AssistanceEvaluation
    query = _with_head(
        select(*_household_columns(), e.evaluated_on, e.evaluator, e.result,
               User.full_name.label("recorded_by"), e.recorded_at)
        .select_from(e).join(Household, Household.id == e.household_id)
        .outerjoin(User, User.id == e.recorded_by))
    query = _scoped(query, user, filters, Household.area_code)
    query = household_filters(query, filters, today, own_date=e.evaluated_on)
    return query.order_by(Household.area_code, Household.id, e.evaluated_on, e.id)


def _evaluation_row(row, names) -> dict:
    return {**row._mapping, **area_parts(names, row.area_code)}


def _single(make):
    def rows(row, names):
        yield make(row, names)
    return rows


_READERS = {
    "households": (households_query, _single(_household_row)),
    "members": (members_query, _member_rows),
    "measures": (measures_query, _single(_measure_row)),
    "eliminations": (eliminations_query, _single(_elimination_row)),
    "cases": (cases_query, _single(_case_row)),
    "case_events": (case_events_query, _single(_event_row)),
    "warnings": (warnings_query, _single(_warning_row)),
    "evaluations": (evaluations_query, _single(_evaluation_row)),
}


def dataset_query(user: Principal, dataset: Dataset, filters: Mapping, today: date) -> Select:
    """The SELECT an export of ``dataset`` streams (the benchmark times it bare)."""
    return _READERS[dataset.name][0](user, filters, today)


def rows(session: Session, user: Principal, dataset: Dataset, filters: Mapping,
         today: date) -> Iterator[dict]:
    """The dataset's rows for ``user``, streamed (``yield_per``: a server-side cursor on
    PostgreSQL), as mappings keyed by the dataset's columns (plus ``area_code``)."""
    make_query, expand = _READERS[dataset.name]
    names = area_names(session, user)
    result = session.execute(make_query(user, filters, today),
                             execution_options={"yield_per": BATCH})
    for row in result:
        yield from expand(row, names)


def count(session: Session, user: Principal, dataset: Dataset, filters: Mapping,
          today: date) -> int:
    """How many rows ``rows`` will yield (members: the roster sizes), for a progress bar."""
    query = dataset_query(user, dataset, filters, today).order_by(None)
    if dataset.name == "members":
        sized = query.with_only_columns(func.coalesce(func.sum(SurveyVersion.size), 0),
                                        maintain_column_froms=True)
        return int(session.scalar(sized) or 0)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

