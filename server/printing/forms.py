"""What each printed form shows, box by box (pure: no database, no PDF engine).

The read service (``printing.queries``) gathers a case, its events and signatures, the household
and its survey; this module holds the shapes the templates lay out and the few choices of what
goes in which box:

- 附件3 / 附件5: the household's heading, the numbered risks split into the “三保障”和饮水安全
  blank (①–⑤) and the 风险类型 blank (⑥–⑭), each row's signatures and the day of the approval
  that signed it, the county's seal line with the day of its approval; two copies (乡镇留存,
  村留存), each saying which it is.
- 附件4: one sheet per village review and public notice (评议时间, 公示时间 are the sheet's
  heading in the source), a row per household.
- 附件1: the applicant's heading, the numbered risks, the applicant's signature.
- 附件2: the collection form's seven parts laid out from the field registry, every option of a
  choice with its box ticked or not (``options``); a blank form has the same boxes, none ticked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from server.domain import codes, fields
from server.domain.fields import Field, Kind
from server.domain.printed import amount, chinese_date
from server.domain.sheets import shown_value

COPIES = ("乡镇留存", "村留存")  # 此表一式2份，乡镇和村委会各一份


@dataclass(frozen=True)
class Place:
    """Where the household lives, by name, from the top (市（州）, 县, 乡镇, 村, 组)."""

    city: str = ""
    county: str = ""
    township: str = ""
    village: str = ""
    group: str = ""


@dataclass(frozen=True)
class Heading:
    """The lines above 附件1/3/5: the head of household and the address (numbers as shown to
    the user: masked or in full by the one rule)."""

    head_name: str
    size: int | None
    id_number: str
    phone: str
    place: Place


@dataclass(frozen=True)
class Box:
    """A row's place for signatures: the media keys of the images, and the day signed."""

    signatures: tuple[str, ...] = ()
    day: date | None = None


@dataclass(frozen=True)
class ApprovalForm:
    """附件3 防止返贫监测对象识别审批表 of one identification case."""

    case_id: int
    heading: Heading
    security: str  # "②" — ①–⑤ found
    types: str  # "⑥⑭"
    verification: Box  # 入户核实人员 (the team's signatures on the phone)
    village: Box  # 村（居委会）支部书记
    township_secretary: Box
    township_head: Box
    county: Box  # the seal's day (盖章: no signature)
    county_name: str  # "衡阳县"
    legend: list[tuple[str, str]]
    copies: tuple[str, ...] = COPIES


@dataclass(frozen=True)
class EliminationForm:
    """附件5 防止返贫监测对象风险消除评估表 of one risk-elimination case."""

    case_id: int
    heading: Heading
    security: str  # the risks the household had (its identification's), ①–⑤
    types: str
    verification: Box
    household: Box  # 户主签名 (农户签字确认结果)
    village: Box
    township_secretary: Box
    township_head: Box
    county: Box
    county_name: str
    legend: list[tuple[str, str]]
    copies: tuple[str, ...] = COPIES


@dataclass(frozen=True)
class NoticeRow:
    """One household of 附件4."""

    number: int
    case_id: int
    head_name: str
    size: int | None
    phone: str
    risks: str  # "②⑥"
    measures: str
    effects: str
    contact_name: str
    contact_unit: str
    measures_done: str  # 民主评议帮扶措施是否落实
    risk_eliminated: str  # 民主评议返贫致贫风险是否消除
    remark: str


@dataclass(frozen=True)
class NoticeSheet:
    """附件4 防止返贫监测对象帮扶措施落实情况表: one village review and its public notice."""

    place: Place
    reviewed_on: date | None
    started_on: date
    ended_on: date | None  # the day the notice ended; None while it runs
    can_end_on: date
    rows: list[NoticeRow]
    verifiers: tuple[str, ...]  # the verification teams' signatures (media keys)
    households: tuple[str, ...]  # the monitored households' signatures (附件5 户主签名)


@dataclass(frozen=True)
class ApplicationForm:
    """附件1 防止返贫监测对象个人申请及承诺授权书 of one household."""

    heading: Heading
    risks: str  # "⑥⑭"
    other: str  # ⑭ 其他: the reason written out
    applicant: Box
    legend: list[tuple[str, str]]


# --- 附件2 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    label: str
    ticked: bool


@dataclass(frozen=True)
class Cell:
    """A field with its value as written, or its options with the ticked ones."""

    field: Field
    value: str = ""
    options: tuple[Option, ...] = ()

    @property
    def title(self) -> str:
        return self.field.header


@dataclass(frozen=True)
class MeasureGroup:
    title: str  # 增收类
    cells: list[Cell]


@dataclass(frozen=True)
class SurveyForm:
    """附件2 防止返贫监测对象信息采集表: filled from a survey, or blank."""

    blank: bool
    place: Place
    phone: str
    visit_date: date | None
    basic: list[Cell]  # 一、基本信息 (A1–A4)
    member_fields: list[Field]  # 二、家庭成员信息: the columns
    members: list[list[str]]  # a row of values per member (blank rows on a blank form)
    security: list[Cell]  # 三、“三保障”和饮水安全状况
    risk_types: list[Cell]  # 四、风险类型
    income: list[Cell]  # 五、收支情况
    measures: list[MeasureGroup] = field(default_factory=list)  # 六、帮扶措施
    elimination: list[Cell] = field(default_factory=list)  # 七、风险消除
    contact: list[Cell] = field(default_factory=list)  # A55


BASIC_FIELDS = (fields.RESETTLEMENT_SITE, fields.SITE_NAME, fields.MONITORING_TYPE,
                fields.FORMERLY_POOR)
MEMBER_FIELDS = tuple(spec for spec in fields.in_code_order(fields.member_fields())
                      if spec.code and spec.kind is not Kind.IMAGE)
SECURITY_FIELDS = (*fields.SECURITY_RISKS, fields.MEMBER_UNINSURED)
RISK_TYPE_FIELDS = (fields.RISK_TYPES, fields.DISASTER_KINDS)
INCOME_CELLS = (*fields.INCOME_FIELDS[:5], fields.NET_INCOME, fields.NET_INCOME_PER_CAPITA,
                *fields.INCOME_FIELDS[5:], fields.INCOME_REFERENCE,
                fields.INCOME_REFERENCE_PER_CAPITA)
# The source's four groups of measures (六、帮扶措施).
MEASURE_GROUPS = (
    ("增收类", (fields.INDUSTRY, fields.EMPLOYMENT, fields.FINANCE, fields.WELFARE_JOB)),
    ("三保障和饮水安全类", (fields.HOUSING, fields.WATER, fields.HEALTH_ASSISTANCE,
                        fields.COMPULSORY_EDUCATION, fields.EDUCATION_ASSISTANCE)),
    ("兜底保障类", (fields.SOCIAL_PROTECTION,)),
    ("其他类", (fields.SOCIAL_HELP, fields.RELOCATION, fields.LIVING_CONDITIONS,
              fields.INFRASTRUCTURE)),
)
ELIMINATION_FIELDS = (fields.ELIMINATION_METHOD, fields.ELIMINATION_DATE)
CONTACT_FIELDS = (fields.CONTACT_NAME, fields.CONTACT_PHONE)
BLANK_MEMBER_ROWS = 6


def options(spec: Field, value: str | None) -> tuple[Option, ...]:
    """Every option of a choice field with the chosen ones ticked (a 是-only tick box: one box)."""
    chosen = set((value or "").split())
    table = codes.TABLES[spec.table]
    if table.codes_list() == [codes.YES]:
        return (Option("", codes.YES in chosen),)
    return tuple(Option(item.label, item.code in chosen) for item in table.codes)


def cell(spec: Field, value: str | None) -> Cell:
    if spec.kind in fields.SELECT_KINDS and spec.table in codes.TABLES:
        return Cell(spec, "", options(spec, value))
    if spec.kind is Kind.MONEY and value:
        return Cell(spec, amount(value))
    if spec.kind is Kind.DATE and value:
        try:
            return Cell(spec, chinese_date(date.fromisoformat(str(value)[:10])))
        except ValueError:
            return Cell(spec, str(value))
    return Cell(spec, str(value or ""))


def survey_form(values: Mapping[str, str] | None, members: Sequence[Mapping[str, str]],
                measures: Mapping[str, str], place: Place, phone: str,
                visit_date: date | None, shown_id) -> SurveyForm:
    """附件2 from a survey's values (by field name; the server's figures in place of the
    phone's: ``households.queries.survey_values``), the household's measures (the latest
    record's choice of each) and its elimination values; ``values`` None: a blank form.
    ``shown_id`` masks an ID number as the reader may see it."""
    blank = values is None
    values = values or {}

    def cells(specs) -> list[Cell]:
        return [cell(spec, values.get(spec.name)) for spec in specs]

    rows = []
    for member in members:
        row = []
        for spec in MEMBER_FIELDS:
            raw = str(member.get(spec.name) or "")
            row.append(shown_id(raw) if spec.kind is Kind.ID_NUMBER else shown_value(spec, raw))
        rows.append(row)
    if blank:
        rows = [[""] * len(MEMBER_FIELDS) for _ in range(BLANK_MEMBER_ROWS)]
    return SurveyForm(
        blank=blank, place=place, phone=phone, visit_date=visit_date,
        basic=cells(BASIC_FIELDS), member_fields=list(MEMBER_FIELDS), members=rows,
        security=cells(SECURITY_FIELDS), risk_types=cells(RISK_TYPE_FIELDS),
        income=cells(INCOME_CELLS),
        measures=[MeasureGroup(title, [cell(spec, measures.get(spec.name)) for spec in specs])
                  for title, specs in MEASURE_GROUPS],
        elimination=cells(ELIMINATION_FIELDS), contact=cells(CONTACT_FIELDS))


def other_risk_text(values: Mapping[str, str]) -> str:
    """⑭ 其他: the reason written out with the survey (A27 其他（文字备注）)."""
    return str(values.get(fields.OTHER_TEXT.name) or "").strip()
