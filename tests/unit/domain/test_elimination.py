"""server.domain.elimination: standards, floor and "not for now" (SPEC §6)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from server.domain.elimination import STANDARDS, elimination_findings
from server.domain.members import Severity

ALL_MET = dict.fromkeys(STANDARDS, True)
FLOOR, LINE = Decimal("5000"), Decimal("6500")


def codes(**kwargs) -> list[str]:
    args = dict(a34=Decimal("8000"), floor=FLOOR, line=LINE, standards=ALL_MET,
                labour_capacity=True, social_protection=False) | kwargs
    return [f.code for f in elimination_findings(**args)]


def test_a_household_meeting_everything_passes():
    assert codes() == []


def test_below_the_floor_blocks_and_below_the_line_warns():
    assert codes(a34=Decimal("4999.99")) == ["ELIMINATION_BELOW_FLOOR"]
    assert codes(a34=Decimal("6000")) == ["ELIMINATION_BELOW_LINE"]


def test_an_unmet_standard_is_named():
    [finding] = elimination_findings(a34=Decimal("8000"), floor=FLOOR, line=LINE,
                                     standards={**ALL_MET, "std_income_stable": False},
                                     labour_capacity=True, social_protection=False)

    assert finding.code == "ELIMINATION_STANDARDS"
    assert finding.params["unmet"] == "std_income_stable"


def test_no_labour_capacity_on_social_protection_is_not_for_now():
    assert codes(labour_capacity=False, social_protection=True) == ["ELIMINATION_NOT_FOR_NOW"]
    assert codes(labour_capacity=False, social_protection=False) == []


@given(st.decimals(min_value=-10000, max_value=100000, places=2, allow_nan=False))
def test_the_floor_is_a_hard_rule_for_every_income(a34):
    findings = elimination_findings(a34=a34, floor=FLOOR, line=LINE, standards=ALL_MET,
                                    labour_capacity=True, social_protection=False)

    blocked = any(f.severity is Severity.ERROR for f in findings)
    assert blocked == (a34 < FLOOR)
