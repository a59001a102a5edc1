"""How the printed forms write dates, money and the numbered risks (pure; 附件1–5 of the source).

- A date as the paper forms write it: ``2026年12月4日`` (no leading zeros); a date not yet
  known leaves the blanks of the form: ``年　月　日``.
- Money with two places (``money.display``), as the source's 元 columns; an empty value stays
  empty (a form's blank), never ``0.00``.
- The numbered risks split as 附件3/附件5 ask for them: the “三保障”和饮水安全状况 (①–⑤) in one
  blank, the 风险类型 (⑥–⑭) in the other.
- The legend under the forms (说明), ① naming the configured monitoring line of the year
  (``codes.NUMBERED_RISK_1_TEMPLATE``), not the source's 6500 written in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum

from server.domain import codes
from server.domain.money import display
from server.domain.notices import risk_marks

BLANK_DATE = "年　　月　　日"
SECURITY_NUMBERS = frozenset({"1", "2", "3", "4", "5"})  # ①–⑤ “三保障”和饮水安全状况


def chinese_date(day: date | None) -> str:
    """``2026年12月4日``; the form's blanks when there is no date yet."""
    if day is None:
        return BLANK_DATE
    return f"{day.year}年{day.month}月{day.day}日"


def amount(value: Decimal | str | None) -> str:
    """A sum of yuan with two places; "" when there is none."""
    if value is None or value == "":
        return ""
    return display(Decimal(str(value)))


def security_marks(numbers: Iterable[str]) -> str:
    """The ①–⑤ of ``numbers``: "①②"."""
    return risk_marks(n for n in numbers if n in SECURITY_NUMBERS)


def type_marks(numbers: Iterable[str]) -> str:
    """The ⑥–⑭ of ``numbers``: "⑥⑭"."""
    return risk_marks(n for n in numbers if n not in SECURITY_NUMBERS)


def risk_legend(line: Decimal | None) -> list[tuple[str, str]]:
    """The numbered risks as the 说明 under 附件1/3/5 lists them: (mark, words); ① names the
    year's monitoring line (the source's 6500 when none is configured)."""
    found = []
    for item in codes.NUMBERED_RISKS.codes:
        label = item.label
        if item.code == "1" and line is not None:
            label = codes.NUMBERED_RISK_1_TEMPLATE.format(line=_whole(line))
        found.append((codes.NUMBERED_RISK_MARKS[item.code], label))
    return found


def _whole(value: Decimal) -> str:
    """6500 for 6500.00; 6500.5 stays."""
    text = format(value.normalize(), "f")
    return text


# The ends of area names that the forms print after their blanks ("____县（市区）____乡镇…"):
# the name goes in the blank without them, as a clerk writes it by hand ("衡阳" 县, "洪市" 乡镇,
# "第一" 组). A name with another end (洪罗庙社区, 雁峰区 …) is written whole.
_PRINTED_ENDS = {"city": ("市",), "county": ("县",), "township": ("镇", "乡"), "village": ("村",),
                 "group": ("村民小组", "组")}


def blank_name(name: str, level: str) -> str:
    """An area's name as it goes in the form's blank before the printed level word."""
    for end in _PRINTED_ENDS.get(level, ()):
        if name.endswith(end) and len(name) > len(end):
            return name[: -len(end)]
    return name


class PrintedForm(StrEnum):
    """The printed forms, by the ASCII name their URLs use."""

    APPLICATION = "application"  # 附件1 防止返贫监测对象个人申请及承诺授权书
    SURVEY = "survey"  # 附件2 防止返贫监测对象信息采集表
    APPROVAL = "approval"  # 附件3 防止返贫监测对象识别审批表
    MEASURES = "measures"  # 附件4 防止返贫监测对象帮扶措施落实情况表 (the public-notice sheet)
    ELIMINATION = "elimination"  # 附件5 防止返贫监测对象风险消除评估表


DOCUMENTS = {PrintedForm.APPLICATION: "附件1", PrintedForm.SURVEY: "附件2",
             PrintedForm.APPROVAL: "附件3", PrintedForm.MEASURES: "附件4",
             PrintedForm.ELIMINATION: "附件5"}
TITLES = {PrintedForm.APPLICATION: "防止返贫监测对象个人申请及承诺授权书",
          PrintedForm.SURVEY: "防止返贫监测对象信息采集表",
          PrintedForm.APPROVAL: "防止返贫监测对象识别审批表",
          PrintedForm.MEASURES: "防止返贫监测对象帮扶措施落实情况表",
          PrintedForm.ELIMINATION: "防止返贫监测对象风险消除评估表"}
