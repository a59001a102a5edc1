"""Take in the risk-elimination assessment (stage three, 附件4 + 附件5) for the household it
picked: the size and A33–A38 are the server's, from the registry's living members."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.services import record
from server.domain import fields
from server.domain.codes import YES
from server.domain.elimination import STANDARDS, elimination_findings
from server.domain.fields import BY_NAME
from server.domain.figures import FIGURE_NAMES, FigureKind
from server.domain.income import IncomeItems, derive
from server.domain.members import Severity, has_labour_capacity
from server.domain.survey import INCOME_FIELDS, Problem, blank, phone_differences, read_values
from server.households.models import EliminationAssessment, MeasureRecord, Person, SurveyVersion
from server.households.services import cents, plain
from server.intake.common import figure, finish, picked_household, visit_year
from server.submissions.models import Submission, SubmissionState


def take_in_elimination(session: Session, submission: Submission, values, today: date) -> str:
    """附件4/附件5 data. The household size and A33–A38 are the server's, from the registry's
    roster (its living members) — the form's size is only the phone's prefill, kept where it
    differs (SPEC §3, §6: the floor cannot be bypassed by a smaller size on the form)."""
    problems: list[Problem] = []
    household = picked_household(session, submission, values, problems)
    typed = read_values(values.household, list(values.household), today, problems)
    size = session.scalar(select(func.count()).select_from(Person).where(
        Person.household_id == household.id, Person.deceased.is_(False))) if household else 0
    if household is not None and not size:
        problems.append(Problem(Severity.ERROR, "HOUSEHOLD_NO_MEMBERS", "家庭人口"))
    for name in blank(values.household, INCOME_FIELDS):  # a bad value is already a problem
        problems.append(Problem(Severity.ERROR, "FIELD_REQUIRED", BY_NAME[name].code,
                                {"label": BY_NAME[name].label}))
    province = household.area_code[:2] if household else ""
    line = figure(session, province, values, today)
    floor = figure(session, province, values, today, kind=FigureKind.ELIMINATION_FLOOR)
    if line is None or floor is None:
        kind = FigureKind.MONITORING_LINE if line is None else FigureKind.ELIMINATION_FLOOR
        problems.append(Problem(Severity.ERROR, "FIGURE_MISSING",
                                fields.NET_INCOME_PER_CAPITA.code, {
            "year": visit_year(values, today), "figure": FIGURE_NAMES[kind]}))
    if household is None or any(p.severity is Severity.ERROR for p in problems):
        return finish(session, submission, SubmissionState.INVALID, problems)
    derived = derive(IncomeItems(*(typed[name] for name in INCOME_FIELDS)), size)
    differs = phone_differences(values.household, derived, size)
    if differs:
        problems.append(Problem(Severity.WARNING, "PHONE_DIFFERS",
                                f"家庭人口/{fields.code_span(fields.DERIVED_INCOME)}", {
            "differences": "；".join(f"{k} {a}→{b}" for k, (a, b) in differs.items())}))
    latest = session.get(SurveyVersion, household.latest_survey_id)
    members = latest.member_values if latest else []
    capable = has_labour_capacity(members)
    protected = any(fields.SOCIAL_PROTECTION.name in measures for measures in session.scalars(
        select(MeasureRecord.values).where(MeasureRecord.household_id == household.id)))
    for finding in elimination_findings(
            a34=derived.a34_net_income_per_capita, floor=floor, line=line,
            standards={name: typed.get(name) == YES for name in STANDARDS},
            labour_capacity=capable, social_protection=protected):
        problems.append(Problem(finding.severity, finding.code, finding.field, finding.params))
    eligible = not any(p.severity is Severity.ERROR for p in problems)
    session.add(EliminationAssessment(
        household_id=household.id, submission_id=submission.id,
        visit_date=typed.get("visit_date") or today, size=size,
        values={k: plain(v) for k, v in typed.items()},
        a33_net_income=derived.a33_net_income,
        a34_net_income_per_capita=cents(derived.a34_net_income_per_capita),
        a37_income_reference=derived.a37_income_reference,
        a38_income_reference_per_capita=cents(derived.a38_income_reference_per_capita),
        method=typed.get(fields.ELIMINATION_METHOD.name), eligible=eligible,
        phone_differs={k: list(v) for k, v in differs.items()}))
    submission.household_id = household.id
    record(session, "elimination.assessed", "household", household.id, None,
           submission_id=submission.id, eligible=eligible, size=size)
    # An assessment that a rule blocks is still the household's record: kept and applied,
    # with its findings; the pipeline refuses to eliminate on it.
    return finish(session, submission, SubmissionState.APPLIED, problems)
