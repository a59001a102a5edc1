"""server.domain.classification: the proposed monitoring type (SPEC §4)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from server.domain.classification import MonitoringType, propose, type_allowed

LINE = Decimal("6500")
money = st.decimals(min_value=-5000, max_value=30000, places=3, allow_nan=False)


def test_formerly_poor_below_the_line_is_unstable():
    p = propose(formerly_poor=True, a34=Decimal("6000"), a38=Decimal("6000"), line=LINE,
                has_risk=True, severe_difficulty=False)

    assert p.candidate and p.monitoring_type is MonitoringType.UNSTABLE


def test_not_formerly_poor_below_the_line_is_edge():
    p = propose(formerly_poor=False, a34=Decimal("6499.99"), a38=Decimal("7000"), line=LINE,
                has_risk=True, severe_difficulty=False)

    assert p.monitoring_type is MonitoringType.EDGE


def test_above_the_line_with_heavy_expenses_is_sudden_difficulty():
    p = propose(formerly_poor=False, a34=Decimal("9000"), a38=Decimal("3000"), line=LINE,
                has_risk=True, severe_difficulty=False)

    assert p.monitoring_type is MonitoringType.SUDDEN


def test_below_the_line_without_any_risk_is_not_a_candidate():
    p = propose(formerly_poor=False, a34=Decimal("5000"), a38=Decimal("5000"), line=LINE,
                has_risk=False, severe_difficulty=False)

    assert not p.candidate and p.monitoring_type is None


def test_a_recorded_severe_difficulty_makes_a_candidate_even_above_the_line():
    p = propose(formerly_poor=True, a34=Decimal("12000"), a38=Decimal("12000"), line=LINE,
                has_risk=False, severe_difficulty=True)

    assert p.candidate and p.monitoring_type is MonitoringType.SUDDEN


@given(st.booleans(), money, money, st.booleans(), st.booleans())
def test_below_the_line_is_never_sudden_difficulty(poor, a34, a38, risk, severe):
    """SPEC §4: a household with A34 < line is never 突发严重困难户."""
    p = propose(formerly_poor=poor, a34=a34, a38=a38, line=LINE, has_risk=risk,
                severe_difficulty=severe)

    if a34 < LINE:
        assert p.monitoring_type is not MonitoringType.SUDDEN
    if p.monitoring_type:
        assert type_allowed(p.monitoring_type, a34, LINE)
        assert p.candidate
