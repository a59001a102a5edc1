"""server.domain.notices: what a row of the public-notice list (附件4) shows (SPEC §4, §6)."""

from __future__ import annotations

from server.domain.notices import MeasureLine, measure_lines, numbered_risks, risk_marks


def test_the_numbered_risks_come_from_the_income_the_security_items_and_the_risk_types():
    """SPEC §4: ① A34 below the line, ②–④ A23–A25 是, ⑤ A26, ⑥–⑭ the A27 codes 01–09."""
    values = {"a23_housing_unsafe": "01", "a24_school_dropout": "02",
              "a25_water_unsafe": "01", "a27_risk_types": "01 09"}

    found = numbered_risks(values, member_uninsured=True, below_line=True)

    assert found == ("1", "2", "4", "5", "6", "14")
    assert risk_marks(found) == "①②④⑤⑥⑭"
    assert numbered_risks({}, member_uninsured=False, below_line=False) == ()


def test_a_measure_shows_its_latest_options_and_effect_and_a_tick_box_its_label():
    """附件4 帮扶措施 / 帮扶成效: a later record of a measure replaces the earlier; A44 is a tick
    box (是则勾选); measures in A-code order."""
    older = {"a40_employment": "01", "a39_industry": "01", "a39_effect": "种植"}
    newer = {"a39_industry": "01 03", "a39_effect": "发展养殖，年增收3000元",
             "a44_water": "01", "a44_effect": ""}

    lines = measure_lines([older, newer])

    assert [line.code for line in lines] == ["A39", "A40", "A44"]
    assert lines[0] == MeasureLine("A39", "产业帮扶", ("种植业", "养殖业"),
                                   "发展养殖，年增收3000元")
    assert lines[2] == MeasureLine("A44", "饮水安全保障", (), None)
