"""server.domain.income and money: exact yuan, A33–A38, the income period (SPEC §3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.income import IncomeItems, derive, income_period
from server.domain.money import MoneyError, display, money

amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)


def items(**overrides) -> IncomeItems:
    values = dict(a28_wages=Decimal("20000"), a29_business_income=Decimal("3000"),
                  a30_property_income=Decimal("0"), a31_transfer_income=Decimal("1500.50"),
                  a32_business_expenses=Decimal("1000"), a35_insurance_claims=Decimal("2000"),
                  a36_compliant_out_of_pocket=Decimal("8000"))
    return IncomeItems(**{**values, **overrides})


def test_the_derived_values_follow_the_field_guide():
    derived = derive(items(), household_size=4)

    assert derived.a33_net_income == Decimal("23500.50")
    assert derived.a34_net_income_per_capita == Decimal("5875.125")
    assert derived.a37_income_reference == Decimal("17500.50")
    assert derived.a38_income_reference_per_capita == Decimal("4375.125")


@given(amounts, amounts, amounts, amounts, amounts, amounts, amounts, st.integers(1, 20))
def test_per_capita_times_size_gives_back_the_total(a28, a29, a30, a31, a32, a35, a36, size):
    derived = derive(IncomeItems(a28, a29, a30, a31, a32, a35, a36), size)

    assert derived.a33_net_income == a28 + a29 + a30 + a31 - a32
    assert derived.a37_income_reference == derived.a33_net_income + a35 - a36
    assert abs(derived.a34_net_income_per_capita * size - derived.a33_net_income) < Decimal("1e-15")


def test_a_quotient_just_under_the_line_stays_under_it():
    """Rounded only for display: 19 499.99 / 3 = 6 499.996… is below a 6 500 line."""
    derived = derive(items(a28_wages=Decimal("19499.99"), a29_business_income=Decimal(0),
                           a31_transfer_income=Decimal(0), a32_business_expenses=Decimal(0)), 3)

    assert derived.a34_net_income_per_capita < Decimal("6500")
    assert display(derived.a34_net_income_per_capita) == "6500.00"


def test_a_household_of_nobody_is_refused():
    with pytest.raises(ValueError):
        derive(items(), 0)


@pytest.mark.parametrize("raw,expected", [("1234.5", "1234.5"), ("12000.0", "12000"),
                                          (7, "7"), (Decimal("0.10"), "0.10")])
def test_money_is_read_exactly(raw, expected):
    assert money(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", [0.1, True, "abc", "NaN", "Infinity", "", " 1,200 "])
def test_floats_and_non_numbers_are_refused(raw):
    with pytest.raises(MoneyError):
        money(raw)


@pytest.mark.parametrize("visit,start,end", [
    (date(2021, 5, 12), date(2020, 5, 1), date(2021, 4, 30)),
    (date(2022, 1, 3), date(2021, 1, 1), date(2021, 12, 31)),
    (date(2024, 3, 31), date(2023, 3, 1), date(2024, 2, 29)),
])
def test_the_income_period_is_the_twelve_months_before_the_visit_month(visit, start, end):
    period = income_period(visit)

    assert (period.start, period.end) == (start, end)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_the_income_period_always_spans_twelve_whole_months(visit):
    period = income_period(visit)

    assert period.start.day == 1
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
    assert months == 11
    assert period.end < visit
