"""The county's export datasets (SPEC §7, issue 14): each one's columns, defined once, and the
rules that turn a stored value into the cell an export writes.

A dataset is an ordered tuple of ``Column``: the identity columns without A-code first (the
household's id, the area names 乡镇/村, the head), then the registry's fields in A-code order
with their headers ("A28 工资性收入(元)", ``fields.in_code_order``), then the dataset's own
columns (dates, case steps and statuses in Chinese). The read services
(``server.exports.queries``) yield one mapping per row keyed by ``Column.key``; ``cells``
turns it into the values a writer writes:

- codes of a code table as stored ("01", "01 03"), or their labels on request ("是",
  "种植业；养殖业") — a code the table does not know is written as stored;
- money as ``Decimal`` with two places, counts as ``int``, dates as ``date``, moments as naive
  ``datetime`` in Beijing time (the users' clock), so a writer can make real number and date
  cells;
- ID numbers and phone numbers masked unless the export asks for full numbers and the role may
  see them (``server.domain.personal``: one rule).

Profiles: ``full`` (every column) and ``national`` (the national system's dataset: the fields
the registry marks ``archive_only`` left out, SPEC §7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from zoneinfo import ZoneInfo

from server.domain import codes, fields, personal
from server.domain.codes import CodeTable
from server.domain.fields import Field, Kind
from server.domain.idnumber import Sex
from server.domain.pipeline import (
    ACTION_NAMES,
    PROCEDURE_NAMES,
    STATUS_NAMES,
    STEP_NAMES,
    Procedure,
    Status,
    Step,
)

CHINA = ZoneInfo("Asia/Shanghai")
CENTS = Decimal("0.01")


class Cell(StrEnum):
    """What kind of cell a column holds."""

    TEXT = "text"
    CODE = "code"  # one code of ``table``
    CODES = "codes"  # codes of ``table`` separated by spaces ("01 03")
    NAMED = "named"  # an internal value always shown by its Chinese name (``names``)
    MONEY = "money"  # Decimal, two places
    NUMBER = "number"  # Decimal as stored (months of work)
    INTEGER = "integer"
    DATE = "date"
    MOMENT = "moment"  # an aware datetime, written as Beijing time
    YES_NO = "yes_no"  # a stored boolean, as yes_no's code or label
    ID_NUMBER = "id_number"
    PHONE = "phone"


class Profile(StrEnum):
    FULL = "full"
    NATIONAL = "national"


PROFILE_NAMES = {Profile.FULL: "完整数据集",
                 Profile.NATIONAL: "国家系统数据集（不含仅纸质归档字段）"}


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True)
class Column:
    key: str  # the key of the value in a row mapping
    header: str
    cell: Cell
    table: CodeTable | None = None
    names: Mapping[str, str] | None = None  # Cell.NAMED
    archive_only: bool = False


# --- columns of the registry's fields ----------------------------------------------------

_KIND_CELLS = {
    Kind.TEXT: Cell.TEXT, Kind.ID_NUMBER: Cell.ID_NUMBER, Kind.PHONE: Cell.PHONE,
    Kind.INTEGER: Cell.INTEGER, Kind.DECIMAL: Cell.NUMBER, Kind.MONEY: Cell.MONEY,
    Kind.SELECT_ONE: Cell.CODE, Kind.SELECT_MULTIPLE: Cell.CODES, Kind.DATE: Cell.DATE,
    Kind.GEOPOINT: Cell.TEXT,
}
SEX_NAMES = {sex.value: sex.label for sex in Sex}


def field_column(field: Field) -> Column:
    """The column of a registry field: its name as key, its header, its code table."""
    if field is fields.SEX:  # A6: derived from the ID number, "1"/"2"
        return Column(field.name, field.header, Cell.NAMED, names=SEX_NAMES)
    table = codes.TABLES.get(field.table) if field.table else None
    return Column(field.name, field.header, _KIND_CELLS[field.kind], table,
                  archive_only=field.archive_only)


def _exported(field: Field) -> bool:
    """Fields written into tables: pictures and signatures go in the media ZIP instead."""
    return field.kind is not Kind.IMAGE


def _field_columns(selection: Iterable[Field]) -> tuple[Column, ...]:
    return tuple(field_column(f) for f in fields.in_code_order(
        [f for f in selection if _exported(f)]))


# --- the identity columns every dataset of households starts with ---------------------------

HOUSEHOLD_ID = Column("household_id", "户编号", Cell.TEXT)
TOWNSHIP = Column("township", "乡镇（街道）", Cell.TEXT)
VILLAGE = Column("village", "村（社区）", Cell.TEXT)
GROUP = Column("group", "村民小组", Cell.TEXT)
HEAD_NAME = Column("head_name", "户主姓名", Cell.TEXT)
HEAD_ID = Column("head_id_number", "户主身份证号码", Cell.ID_NUMBER)
WHERE = (HOUSEHOLD_ID, TOWNSHIP, VILLAGE, GROUP)
WHO = (*WHERE, HEAD_NAME, HEAD_ID)

# The address fields name the registered residence as area codes; the export names the area
# by the registry's area (the identity columns). The self-declaration's fields are the
# declaration's, not the household's.
_ADDRESS = frozenset({"addr_county", "addr_township", "addr_village", "addr_group"})


def _survey_household_field(field: Field) -> bool:
    return (field.scope is fields.Scope.HOUSEHOLD and field.stage == 1
            and field.name not in _ADDRESS and not field.name.startswith("decl_"))


_PROCEDURES = {p.value: name for p, name in PROCEDURE_NAMES.items()}
_STEPS = {s.value: name for s, name in STEP_NAMES.items()}
_STATUSES = {s.value: name for s, name in STATUS_NAMES.items()}
# What a case event did: the procedure's actions, the opening, and what a self-declaration
# does to a case (server.declarations.services).
EVENT_NAMES = {"open": "立案", **{a.value: name for a, name in ACTION_NAMES.items()},
               "declaration": "并入自主申报", "household": "关联农户", "merged": "合并案件"}


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str  # the Chinese name: the file's and the data sheet's
    columns: tuple[Column, ...]
    # Which date the visit-date filter (入户核实日期) reads: the row's own, or the household's
    # latest survey.
    date_label: str = "入户核实日期"

    def columns_of(self, profile: Profile) -> tuple[Column, ...]:
        if profile is Profile.NATIONAL:
            return tuple(c for c in self.columns if not c.archive_only)
        return self.columns


HOUSEHOLDS = Dataset("households", "农户", (
    *WHO,
    *_field_columns(f for f in fields.FIELDS if _survey_household_field(f)),
    Column("monitored", "是否监测对象", Cell.YES_NO),
    Column("monitored_since", "纳入监测时间", Cell.MOMENT),
    Column("survey_number", "最新调查序号", Cell.INTEGER),
    Column("updated_at", "更新时间", Cell.MOMENT),
))

MEMBERS = Dataset("members", "家庭成员", (
    *WHERE, HEAD_NAME,
    Column("member_number", "成员序号", Cell.INTEGER),
    *_field_columns(fields.member_fields()),
    Column("visit_date", fields.BY_NAME["visit_date"].header, Cell.DATE),
))

MEASURES = Dataset("measures", "帮扶措施", (
    *WHO,
    *_field_columns(fields.fields_of_stage(2)),
    Column("case_id", "案件编号", Cell.INTEGER),
    Column("created_at", "录入时间", Cell.MOMENT),
), date_label="帮扶措施录入日期")

_ELIMINATION_FIELDS = (
    fields.BY_NAME["visit_date"], fields.BY_NAME["household_size"], *fields.INCOME_FIELDS,
    *fields.DERIVED_INCOME,
    *(f for f in fields.fields_of_stage(3) if f is not fields.ELIMINATION_DATE),
)
ELIMINATIONS = Dataset("eliminations", "风险消除评估", (
    *WHO,
    *_field_columns(_ELIMINATION_FIELDS),
    Column("eligible", "是否符合风险消除标准", Cell.YES_NO),
    Column("created_at", "录入时间", Cell.MOMENT),
))

_CASE = (
    Column("case_id", "案件编号", Cell.INTEGER),
    Column("procedure", "程序", Cell.NAMED, names=_PROCEDURES),
)
CASES = Dataset("cases", "案件", (
    *_CASE,
    Column("step", "当前环节", Cell.NAMED, names=_STEPS),
    Column("status", "状态", Cell.NAMED, names=_STATUSES),
    Column("origin", "案件来源", Cell.CODE, codes.CASE_ORIGIN),
    *WHO,
    field_column(fields.MONITORING_TYPE),
    field_column(fields.ELIMINATION_DATE),  # the county's approval of a risk elimination
    Column("opened_at", "立案时间", Cell.MOMENT),
    Column("step_entered_at", "进入当前环节时间", Cell.MOMENT),
    Column("notice_started", "公示开始日期", Cell.DATE),
    Column("closed_at", "办结时间", Cell.MOMENT),
))

CASE_EVENTS = Dataset("case_events", "案件流转记录", (
    *_CASE,
    *WHERE, HEAD_NAME,
    Column("event_id", "记录编号", Cell.INTEGER),
    Column("at", "时间", Cell.MOMENT),
    Column("user", "经办人", Cell.TEXT),
    Column("action", "操作", Cell.NAMED, names=EVENT_NAMES),
    Column("from_step", "原环节", Cell.NAMED, names=_STEPS),
    Column("to_step", "新环节", Cell.NAMED, names=_STEPS),
    Column("status", "状态", Cell.NAMED, names=_STATUSES),
    Column("opinion", "意见", Cell.TEXT),
))

WARNINGS = Dataset("warnings", "部门筛查预警任务", (
    Column("list_id", "预警清单编号", Cell.INTEGER),
    Column("filename", "清单文件", Cell.TEXT),
    Column("row_number", "行号", Cell.INTEGER),
    Column("department", "预警部门", Cell.TEXT),
    Column("id_number", "身份证号码", Cell.ID_NUMBER),
    Column("reason", "预警原因", Cell.TEXT),
    Column("reported_on", "预警日期", Cell.DATE),
    *WHO,
    Column("check_result", "核查结果", Cell.TEXT),
    Column("outcome", "核查结论", Cell.CODE, codes.WARNING_CHECK_OUTCOME),
    Column("checked_by", "核查人", Cell.TEXT),
    Column("checked_at", "核查时间", Cell.MOMENT),
    Column("case_id", "识别案件编号", Cell.INTEGER),
))

EVALUATIONS = Dataset("evaluations", "帮扶成效评估", (
    *WHO,
    Column("evaluated_on", "评估日期", Cell.DATE),
    Column("evaluator", "评估人", Cell.TEXT),
    Column("result", "评估结果", Cell.TEXT),
    Column("recorded_by", "录入人", Cell.TEXT),
    Column("recorded_at", "录入时间", Cell.MOMENT),
), date_label="评估日期")

DATASETS: dict[str, Dataset] = {d.name: d for d in (
    HOUSEHOLDS, MEMBERS, MEASURES, ELIMINATIONS, CASES, CASE_EVENTS, WARNINGS, EVALUATIONS)}


# --- values to cells ---------------------------------------------------------------------

Value = str | int | Decimal | date | datetime | None


@dataclass(frozen=True)
class Masking:
    """Whether an export shows ID and phone numbers in full: only when it asks (``full``) and
    the role may see them (``personal``); the phone of a household also for its village's
    users (who cannot export, but the rule is one)."""

    role: str
    user_area: str
    full: bool

    def id_number(self, value: str) -> str:
        return personal.exported_id_number(value, self.role, self.full)

    def phone(self, value: str, household_area: str | None) -> str:
        return personal.exported_phone(value, self.role, self.user_area, household_area,
                                       self.full)


def cell_value(column: Column, raw: object, labels: bool, masking: Masking,
               household_area: str | None = None) -> Value:
    """The value ``column`` writes for the stored ``raw`` value (None or "" for an empty
    cell are both None)."""
    if raw is None or raw == "":
        return None
    kind = column.cell
    if kind is Cell.TEXT:
        return str(raw)
    if kind is Cell.CODE:
        return _label(column.table, str(raw)) if labels else str(raw)
    if kind is Cell.CODES:
        values = str(raw).split()
        return "；".join(_label(column.table, v) for v in values) if labels else " ".join(values)
    if kind is Cell.NAMED:
        return (column.names or {}).get(str(raw), str(raw))
    if kind is Cell.MONEY:
        return _money(raw)
    if kind is Cell.NUMBER:
        return _decimal(raw)
    if kind is Cell.INTEGER:
        try:
            return int(raw)
        except (TypeError, ValueError):
            return str(raw)
    if kind is Cell.DATE:
        return _date(raw)
    if kind is Cell.MOMENT:
        return _moment(raw)
    if kind is Cell.YES_NO:
        code = codes.YES if raw else codes.NO
        return codes.YES_NO.label(code) if labels else code
    if kind is Cell.ID_NUMBER:
        return masking.id_number(str(raw))
    if kind is Cell.PHONE:
        return masking.phone(str(raw), household_area)
    raise ValueError(f"unknown cell kind {kind!r}")


def cells(columns: Sequence[Column], row: Mapping[str, object], labels: bool,
          masking: Masking) -> list[Value]:
    """The cells of one row, in column order; a row's ``area_code`` is its household's area
    (for the phone rule)."""
    area = row.get("area_code")
    return [cell_value(c, row.get(c.key), labels, masking, area) for c in columns]


def row_writer(columns: Sequence[Column], labels: bool,
               masking: Masking) -> Callable[[Mapping[str, object]], list[Value]]:
    """``cells`` bound to one export's columns and choices: the same values, made by one
    function compiled for these columns (each column's conversion chosen once, no loop, no
    test of the column's kind per cell). It is the hot loop of an export — a million rows of
    thirty cells — and this is what keeps a CSV export within twice the time of the bare
    query. The source is made from the columns' keys (``repr``) and nothing else."""
    namespace: dict[str, object] = {"_phone": masking.phone}
    reads, cells_ = [], []
    for index, column in enumerate(columns):
        convert = _converter(column, labels, masking)
        value = f"v{index}"
        reads.append(f"    {value} = get({column.key!r})")
        if convert is str:  # text as stored: most cells
            cells_.append(f"({value} or None) if {value}.__class__ is str else "
                          f"(None if {value} is None else str({value}))")
        elif convert is None:  # a phone: masked by the household's area
            cells_.append(f"_phone(str({value}), get('area_code')) "
                          f"if {value} is not None and {value} != '' else None")
        elif isinstance(convert, dict):  # a code's label: looked up inline
            namespace[f"_n{index}"] = convert
            cells_.append(f"(_n{index}.get({value}, {value}) or None) "
                          f"if {value}.__class__ is str else "
                          f"(None if {value} is None else str({value}))")
        else:
            namespace[f"_c{index}"] = convert
            kept = _KEPT.get(column.cell)  # a value of the cell's own type is kept as it is
            if kept is not None:
                namespace[f"_t{index}"] = kept
                cells_.append(f"{value} if {value}.__class__ is _t{index} else "
                              f"(_c{index}({value}) if {value} is not None and {value} != '' "
                              "else None)")
            else:
                cells_.append(f"_c{index}({value}) if {value} is not None and {value} != '' "
                              "else None")
    source = ("def write(row):\n    get = row.get\n" + "\n".join(reads)
              + "\n    return [\n" + "".join(f"        {c},\n" for c in cells_) + "    ]\n")
    exec(compile(source, "<export row writer>", "exec"), namespace)  # noqa: S102
    return namespace["write"]  # type: ignore[return-value]


# Cells whose stored value may already be what is written (an int of the database, a date).
_KEPT = {Cell.INTEGER: int, Cell.DATE: date}


def _converter(column: Column, labels: bool, masking: Masking):
    """How ``row_writer`` converts a non-empty raw value of ``column``: ``str`` (text as
    stored), None (a phone), a dict (a code's label, the code when unknown), or a
    function."""
    kind = column.cell
    if kind is Cell.TEXT:
        return str
    if kind is Cell.CODE and not labels:
        return str
    if kind is Cell.CODE and labels and column.table is not None:
        return {item.code: item.label for item in column.table.codes}
    if kind is Cell.NAMED:
        return dict(column.names or {})
    if kind is Cell.PHONE:
        return None
    if kind is Cell.ID_NUMBER:
        shown = personal.id_numbers_in_export(masking.role, masking.full)
        return lambda raw: shown(str(raw))
    if kind is Cell.MONEY:  # a cell per member and household: called directly
        return _money
    if kind is Cell.NUMBER:
        return _decimal
    if kind is Cell.DATE:
        return _date
    if kind is Cell.MOMENT:
        return _moment
    return lambda raw: cell_value(column, raw, labels, masking)


def _label(table: CodeTable | None, code: str) -> str:
    if table is None:
        return code
    try:
        return table.label(code)
    except KeyError:
        return code


def _decimal(raw: object, places: Decimal | None = None) -> Decimal | str:
    # Decimal() itself ignores surrounding blanks; an int or float goes through its text
    try:
        value = raw if raw.__class__ is Decimal else Decimal(
            raw if raw.__class__ is str else str(raw))
    except InvalidOperation:
        return str(raw)
    if not value.is_finite():
        return str(raw)
    return value.quantize(places) if places is not None else value


def _money(raw: object) -> Decimal | str:
    return _decimal(raw, CENTS)


def _date(raw: object) -> date | str:
    if isinstance(raw, datetime):
        return _moment(raw).date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        return str(raw)


def _moment(raw: object) -> datetime | str:
    if not isinstance(raw, datetime):
        try:
            raw = datetime.fromisoformat(str(raw))
        except ValueError:
            return str(raw)
    if raw.tzinfo is None:
        raw = raw.replace(tzinfo=UTC)
    return raw.astimezone(CHINA).replace(tzinfo=None, microsecond=0)


def sex_of(id_number: object) -> str | None:
    """A6 from a stored ID number (or a disability card number, which begins with the ID):
    the parity of digit 17 (SPEC §3), "1" male, "2" female; None when there is none. A stored
    number was checked when the survey was taken in, so it is read, not checked again (the
    export reads a million of them)."""
    text = str(id_number) if id_number else ""
    if len(text) < 17 or not text[16].isdigit():
        return None
    return Sex.MALE.value if int(text[16]) % 2 else Sex.FEMALE.value


# --- what the file says about itself -------------------------------------------------------

FILTER_NAMES = {
    "area_code": "区划", "monitoring_type": "监测对象类型", "risk": "返贫致贫风险",
    "procedure": "程序", "step": "环节", "status": "状态",
    "visit_from": "起始日期", "visit_to": "截止日期",
    "approved_from": "审定日期起", "approved_to": "审定日期止", "objects": "范围",
}


def describe_filters(dataset: Dataset, filters: Mapping[str, object],
                     area_names: Mapping[str, str]) -> list[tuple[str, str]]:
    """The filter of an export in words, one (name, value) per filter given, in a fixed order;
    ``[("筛选", "无（本辖区全部）")]`` for none."""
    shown: list[tuple[str, str]] = []
    for key, name in FILTER_NAMES.items():
        if key not in filters:
            continue
        value = filters[key]
        if key == "area_code":
            text = f"{area_names.get(str(value), '')}（{value}）"
        elif key == "monitoring_type":
            text = _label(codes.MONITORING_TYPE, str(value))
        elif key == "risk":
            text = f"{value} {_label(codes.NUMBERED_RISKS, str(value))}"
        elif key == "procedure":
            text = _PROCEDURES.get(str(value), str(value))
        elif key == "step":
            text = _STEPS.get(str(value), str(value))
        elif key == "status":
            text = _STATUSES.get(str(value), str(value))
        elif key == "objects":
            text = "仅监测对象" if value else "全部农户"
        elif key in ("visit_from", "visit_to"):
            name = f"{dataset.date_label}{'起' if key == 'visit_from' else '止'}"
            text = value.isoformat() if isinstance(value, date) else str(value)
        else:
            text = value.isoformat() if isinstance(value, date) else str(value)
        shown.append((name, text))
    return shown or [("筛选", "无（本辖区全部）")]


def file_name(dataset: Dataset, area_name: str, at: datetime, fmt: Format) -> str:
    """The download's name: "农户_衡阳县_20261205-1930.xlsx" (Beijing time)."""
    local = at.astimezone(CHINA)
    return f"{dataset.title}_{area_name}_{local:%Y%m%d-%H%M}.{fmt.value}"


# The steps, statuses and procedures the filters accept (their stored values).
PROCEDURE_VALUES = tuple(p.value for p in Procedure)
STEP_VALUES = tuple(s.value for s in Step)
STATUS_VALUES = tuple(s.value for s in Status)
