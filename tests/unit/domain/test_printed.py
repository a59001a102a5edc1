"""How the printed forms write dates, money, area names and the numbered risks (附件1–5 of the
source; SPEC §4 numbers ①–⑭, §7 printed forms)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from server.domain.printed import (
    BLANK_DATE,
    amount,
    blank_name,
    chinese_date,
    risk_legend,
    security_marks,
    type_marks,
)


def test_dates_are_written_as_on_paper_without_leading_zeros():
    """2026-12-04 is 2026年12月4日; a date not yet known leaves the form's blanks."""
    assert chinese_date(date(2026, 12, 4)) == "2026年12月4日"
    assert chinese_date(date(2027, 1, 9)) == "2027年1月9日"
    assert chinese_date(None) == BLANK_DATE and "年" in BLANK_DATE and "日" in BLANK_DATE


def test_money_has_two_places_and_an_empty_value_stays_blank():
    assert amount(Decimal("4000")) == "4000.00"
    assert amount("1666.665") == "1666.67"  # half up, for display only
    assert amount(None) == "" and amount("") == ""


def test_risks_split_into_the_two_blanks_of_the_forms():
    """附件3/附件5: “三保障”和饮水安全 (①–⑤) in one blank, 风险类型 (⑥–⑭) in the other."""
    numbers = ("1", "2", "6", "14")
    assert security_marks(numbers) == "①②"
    assert type_marks(numbers) == "⑥⑭"
    assert security_marks(()) == "" and type_marks(("5",)) == ""


def test_the_legend_names_the_configured_line():
    """① names the year's monitoring line (data), not the source's 6500 written in."""
    legend = risk_legend(Decimal("7000.00"))
    assert legend[0] == ("①", "监测户当年人均纯收入低于7000元")
    assert [mark for mark, _ in legend] == list("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭")
    assert risk_legend(None)[0][1] == "监测户当年人均纯收入低于6500元"


def test_area_names_lose_the_level_word_the_form_prints_after_the_blank():
    """"____县（市区）" takes 衡阳 for 衡阳县; a name with another ending is written whole."""
    assert blank_name("衡阳县", "county") == "衡阳"
    assert blank_name("雁峰区", "county") == "雁峰区"
    assert blank_name("洪市镇", "township") == "洪市"
    assert blank_name("洪罗庙社区", "village") == "洪罗庙社区"
    assert blank_name("第一村民小组", "group") == "第一"
    assert blank_name("县", "county") == "县"
