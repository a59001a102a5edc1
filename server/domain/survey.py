"""Read a household survey (the stage-one form) on the server, whatever the phone computed.

The phone's checks can be old or bypassed, so the server validates every value again, computes
A6, A26, A33–A38 and the household size itself (its values are the truth) and notes where the
phone's differ. Each finding names the field (A-code and member) and the rule: a code of the
catalogue (``server.domain.catalogue``) with its values, worded by the catalogue.
Input is plain strings by XLSForm field name (see fields.py); output is typed values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from server.domain import codes, fields
from server.domain.catalogue import CatalogueError, render
from server.domain.classification import MonitoringType, Proposal, propose, type_allowed
from server.domain.fields import BY_NAME, Field, Kind
from server.domain.figures import FIGURE_NAMES, FigureKind
from server.domain.idnumber import IdNumber, IdNumberError
from server.domain.idnumber import parse as parse_id
from server.domain.income import DerivedIncome, IncomeItems, Period, derive, income_period
from server.domain.members import Finding, Severity, labour_skill_findings
from server.domain.money import MoneyError, display, money, plain_decimal

PHONE = re.compile(r"1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8}")
INCOME_FIELDS = tuple(spec.name for spec in fields.INCOME_FIELDS)
DERIVED_BY_PHONE = tuple(spec.name for spec in fields.DERIVED_INCOME)
MEMBER_REQUIRED = (fields.NAME.name, fields.ID_NUMBER.name, fields.RELATION.name)


@dataclass(frozen=True)
class Problem:
    """A finding located in the survey: the field, the member (1-based) if any, the rule."""

    severity: Severity
    code: str  # a code of the catalogue
    field: str  # A-code or field name
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    member: int | None = None

    @property
    def message(self) -> str:
        return render(self.code, self.params)

    @property
    def text(self) -> str:
        where = f"第{self.member}名成员 " if self.member else ""
        return f"{where}{self.field}：{self.message}"


@dataclass
class Member:
    index: int
    name: str
    id_number: IdNumber | None
    relation: str
    deceased: bool
    values: dict[str, object]

    @property
    def is_head(self) -> bool:
        return self.relation == codes.HEAD_OF_HOUSEHOLD


@dataclass
class Survey:
    visit_date: date
    household: dict[str, object]
    members: list[Member]
    size: int
    derived: DerivedIncome | None
    a26_member_uninsured: bool
    line: Decimal | None
    proposal: Proposal | None
    problems: list[Problem] = field(default_factory=list)
    phone_differs: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def income_period(self) -> Period:
        return income_period(self.visit_date)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def head(self) -> Member | None:
        heads = [m for m in self.members if m.is_head]
        return heads[0] if len(heads) == 1 else None


class ValueInvalid(CatalogueError):
    """A form value that is not of its kind: the catalogue code of the reason."""


def parse_value(spec: Field, raw: str, today: date) -> object:
    """One form value as its kind; a ``CatalogueError`` naming the reason when it is not one
    (``IdNumberError`` for an ID number, ``MoneyError`` for a number, else ``ValueInvalid``)."""
    text = raw.strip()
    if spec.kind is Kind.MONEY:
        amount = money(text)
        if amount < 0:
            raise ValueInvalid("VALUE_NEGATIVE")
        return amount
    if spec.kind in (Kind.DECIMAL, Kind.INTEGER):
        number = plain_decimal(text)
        if spec.kind is Kind.INTEGER and number != number.to_integral_value():
            raise ValueInvalid("VALUE_NOT_INTEGER")
        return int(number) if spec.kind is Kind.INTEGER else number
    if spec.kind is Kind.SELECT_ONE and spec.table:
        if text not in codes.TABLES[spec.table]:
            raise ValueInvalid("VALUE_CODE_UNKNOWN", codes=text,
                               table=codes.TABLES[spec.table].title)
        return text
    if spec.kind is Kind.SELECT_MULTIPLE and spec.table:
        chosen = tuple(text.split())
        unknown = [c for c in chosen if c not in codes.TABLES[spec.table]]
        if unknown:
            raise ValueInvalid("VALUE_CODE_UNKNOWN", codes="、".join(unknown),
                               table=codes.TABLES[spec.table].title)
        return chosen
    if spec.kind is Kind.DATE:
        try:
            value = date.fromisoformat(text[:10])
        except ValueError as exc:
            raise ValueInvalid("VALUE_DATE_FORMAT") from exc
        if value > today:
            raise ValueInvalid("VALUE_DATE_FUTURE", date=value.isoformat())
        return value
    if spec.kind is Kind.PHONE:
        if not PHONE.fullmatch(text):
            raise ValueInvalid("VALUE_PHONE")
        return text
    if spec.kind is Kind.ID_NUMBER:
        return parse_id(text, today)
    return text


def read_values(values: Mapping[str, str], names: Sequence[str], today: date,
                problems: list[Problem], member: int | None = None) -> dict[str, object]:
    """The registry fields among ``names``, typed; each bad value becomes a located Problem."""
    typed: dict[str, object] = {}
    for name in names:
        spec = BY_NAME.get(name)
        raw = values.get(name, "")
        if spec is None or not raw.strip() or spec.derived or spec.archive_only:
            continue
        try:
            typed[name] = parse_value(spec, raw, today)
        except IdNumberError as exc:
            problems.append(Problem(Severity.ERROR, exc.code, spec.code or name, exc.params,
                                    member))
        except CatalogueError as exc:  # ValueInvalid, MoneyError
            problems.append(Problem(Severity.ERROR, "FIELD_INVALID", spec.code or name,
                                    {"value": raw, "reason": exc.as_message()}, member))
    return typed


def blank(values: Mapping[str, str], names: Sequence[str]) -> list[str]:
    """The fields among ``names`` left empty (absent or only blanks) in the raw ``values``."""
    return [name for name in names if not values.get(name, "").strip()]


def read_survey(household: Mapping[str, str], members: Sequence[Mapping[str, str]],
                line: Decimal | None, today: date,
                deaths_on_record: frozenset[str] = frozenset()) -> Survey:
    """Validate and compute a household survey.

    ``line`` is the visit year's monitoring line of the household's province (None when there
    is none: a located ``FIGURE_MISSING`` error). ``deaths_on_record`` are the ID numbers the
    registry already holds as deceased: a deceased member counts in the household size of the
    survey that records the death and not in later ones (SPEC §2, a product choice).
    """
    problems: list[Problem] = []
    values = read_values(household, list(household), today, problems)
    visit = values.get("visit_date")
    visit_date = visit if isinstance(visit, date) else today
    roster = [_member(i + 1, raw, visit_date, today, problems) for i, raw in enumerate(members)]
    _check_roster(roster, problems)
    size = len([m for m in roster if not (m.deceased and m.id_number is not None
                                         and m.id_number.value in deaths_on_record)])
    derived = None
    # Left blank is "required"; a value that is there but unreadable already has its one
    # FIELD_INVALID problem from read_values (one problem per bad value).
    missing = [name for name in INCOME_FIELDS if name not in values]
    for name in blank(household, INCOME_FIELDS):
        problems.append(Problem(Severity.ERROR, "FIELD_REQUIRED", BY_NAME[name].code,
                                {"label": BY_NAME[name].label}))
    if not missing and size:
        derived = derive(IncomeItems(*(values[name] for name in INCOME_FIELDS)), size)
    insured = [m.values.get(fields.BASIC_MEDICAL_INSURANCE.name) for m in roster
               if not m.deceased]
    a26 = any(value == codes.NO for value in insured)
    proposal = None
    if line is None:
        problems.append(Problem(Severity.ERROR, "FIGURE_MISSING",
                                fields.NET_INCOME_PER_CAPITA.code, {
            "year": visit_date.year, "figure": FIGURE_NAMES[FigureKind.MONITORING_LINE]}))
    elif derived is not None:
        has_risk = _has_risk(values, a26)
        proposal = propose(
            formerly_poor=values.get(fields.FORMERLY_POOR.name) == codes.YES,
            a34=derived.a34_net_income_per_capita, a38=derived.a38_income_reference_per_capita,
            line=line, has_risk=has_risk,
            severe_difficulty=values.get("severe_difficulty") == codes.YES)
        chosen = values.get(fields.MONITORING_TYPE.name)
        if chosen and not type_allowed(MonitoringType(chosen), derived.a34_net_income_per_capita,
                                       line):
            problems.append(Problem(Severity.ERROR, "MONITORING_TYPE_SUDDEN_BELOW_LINE",
                                    fields.MONITORING_TYPE.code))
    survey = Survey(visit_date, values, roster, size, derived, a26, line, proposal, problems)
    survey.phone_differs = _phone_differences(household, survey)
    return survey


def _member(index: int, raw: Mapping[str, str], visit: date, today: date,
            problems: list[Problem]) -> Member:
    for name in MEMBER_REQUIRED:
        if not raw.get(name, "").strip():
            problems.append(Problem(Severity.ERROR, "FIELD_REQUIRED", BY_NAME[name].code,
                                    {"label": BY_NAME[name].label}, index))
    values = read_values(raw, list(raw), today, problems, index)
    person = values.get(fields.ID_NUMBER.name)
    person = person if isinstance(person, IdNumber) else None
    deceased = values.get("deceased") == codes.YES
    if person is not None and fields.LABOUR_SKILL.name in values:
        for finding in labour_skill_findings(
                str(values[fields.LABOUR_SKILL.name]), person.age_on(visit),
                disabled=values.get(fields.HEALTH.name) == "04",
                disability_category=person.disability_category,
                disability_level=person.disability_level):
            problems.append(_located(finding, index))
    death = values.get("death_date")
    if isinstance(death, date) and person is not None and death < person.birth_date:
        problems.append(Problem(Severity.ERROR, "DEATH_BEFORE_BIRTH", "死亡日期", {}, index))
    months = values.get(fields.WORK_MONTHS.name)
    if isinstance(months, Decimal) and not (0 <= months <= 12 and (months * 2) % 1 == 0):
        problems.append(Problem(Severity.ERROR, "WORK_MONTHS_RANGE",
                                fields.WORK_MONTHS.code, {}, index))
    return Member(index, str(values.get(fields.NAME.name, "")), person,
                  str(values.get(fields.RELATION.name, "")), deceased, values)


def _located(finding: Finding, member: int) -> Problem:
    return Problem(finding.severity, finding.code, finding.field, finding.params, member)


def _check_roster(roster: list[Member], problems: list[Problem]) -> None:
    if not roster:
        problems.append(Problem(Severity.ERROR, "NO_MEMBERS", fields.NAME.code))
        return
    heads = [m.index for m in roster if m.is_head]
    if len(heads) != 1:
        problems.append(Problem(Severity.ERROR, "HEAD_COUNT",
                                fields.RELATION.code, {"count": len(heads)}))


def _has_risk(values: Mapping[str, object], a26: bool) -> bool:
    """Any of the numbered risks ②–⑭ (SPEC §4)."""
    yes = [values.get(spec.name) == codes.YES for spec in fields.SECURITY_RISKS]
    return any(yes) or a26 or bool(values.get(fields.RISK_TYPES.name))


def _phone_differences(raw: Mapping[str, str], survey: Survey) -> dict[str, tuple[str, str]]:
    return phone_differences(raw, survey.derived, survey.size, survey.a26_member_uninsured)


def phone_differences(raw: Mapping[str, str], derived: DerivedIncome | None, size: int,
                      a26: bool | None = None) -> dict[str, tuple[str, str]]:
    """Where the phone's computed values (size, A26, A33, A34, A37, A38) disagree with the
    server's: field name -> (phone's, server's). Both are kept; the server's count."""
    ours: dict[str, str] = {}
    if derived is not None:
        for name in DERIVED_BY_PHONE:
            ours[name] = display(getattr(derived, name))
    if a26 is not None:
        ours[fields.MEMBER_UNINSURED.name] = codes.YES if a26 else codes.NO
    ours["household_size"] = str(size)
    differs = {}
    for name, server_value in ours.items():
        phone_value = raw.get(name, "").strip()
        if not phone_value:
            continue
        try:
            same = (display(plain_decimal(phone_value)) == server_value
                    if name in DERIVED_BY_PHONE else phone_value == server_value)
        except MoneyError:
            same = False
        if not same:
            differs[name] = (phone_value, server_value)
    return differs
