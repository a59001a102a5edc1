"""Household income (SPEC §3): the derived A33, A34, A37, A38 and the income period.

A33 = A28 + A29 + A30 + A31 − A32 (家庭纯收入); A34 = A33 ÷ household size;
A37 = A33 + A35 − A36; A38 = A37 ÷ household size. Sums are exact; the two quotients are
computed to 28 significant digits and compared with the line unrounded, so a household at
6 499.996 yuan is below a 6 500 line even though it displays as 6 500.00.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal

_DIVISION = Context(prec=28)


@dataclass(frozen=True)
class IncomeItems:
    a28_wages: Decimal
    a29_business_income: Decimal
    a30_property_income: Decimal
    a31_transfer_income: Decimal
    a32_business_expenses: Decimal
    a35_insurance_claims: Decimal
    a36_compliant_out_of_pocket: Decimal


@dataclass(frozen=True)
class DerivedIncome:
    a33_net_income: Decimal
    a34_net_income_per_capita: Decimal
    a37_income_reference: Decimal
    a38_income_reference_per_capita: Decimal


def derive(items: IncomeItems, household_size: int) -> DerivedIncome:
    if household_size < 1:
        raise ValueError("家庭人口数至少为1")
    a33 = (items.a28_wages + items.a29_business_income + items.a30_property_income
           + items.a31_transfer_income - items.a32_business_expenses)
    a37 = a33 + items.a35_insurance_claims - items.a36_compliant_out_of_pocket
    size = Decimal(household_size)
    return DerivedIncome(a33, _DIVISION.divide(a33, size), a37, _DIVISION.divide(a37, size))


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def income_period(visit: date) -> Period:
    """The twelve months before the month of the visit: May 2021 → 2020-05-01 … 2021-04-30."""
    end_year, end_month = (visit.year, visit.month - 1) if visit.month > 1 else (visit.year - 1, 12)
    end = date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    return Period(date(visit.year - 1, visit.month, 1), end)
