"""Money is read strictly (issue 11, SPEC §2 and §3): a plain decimal of yuan with at most two
places; anything else is one located problem, never a guess.

Properties with hypothesis over ``server.domain.money`` and over the survey reader
(``server.domain.survey``), which turns a refused value into exactly one problem at its A-code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from server.domain.money import MoneyError, money, plain_decimal
from server.domain.survey import read_survey, read_values
from tests.support.households import CHILD, HEAD, SPOUSE, SURVEY_FIELDS

TODAY = date(2026, 11, 24)
LINE = Decimal("6500")
INCOME = ("a28_wages", "a29_business_income", "a30_property_income", "a31_transfer_income",
          "a32_business_expenses", "a35_insurance_claims", "a36_compliant_out_of_pocket")
CODES = dict(zip(INCOME, ("A28", "A29", "A30", "A31", "A32", "A35", "A36"), strict=True))

digits = st.text(alphabet="0123456789", min_size=1, max_size=12)


@st.composite
def plain(draw):
    """A plain decimal as written on a form: ASCII digits without leading zeros, an optional
    minus, 0–2 places."""
    whole = str(draw(st.integers(0, 10**13)))
    n = draw(st.integers(0, 2))
    fraction = "." + draw(st.text(alphabet="0123456789", min_size=n, max_size=n)) if n else ""
    return draw(st.sampled_from(["", "-"])) + whole + fraction


exponents = st.builds(lambda base, e, sign, power: f"{base}{e}{sign}{power}",
                      plain(), st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), digits)
separated = st.builds(lambda a, sep, b: f"{a}{sep}{b}", digits,
                      st.sampled_from([",", "，", " ", "_", "'", "\u00a0", "\u3000"]),
                      st.text(alphabet="0123456789", min_size=3, max_size=3))
non_ascii_digit = st.characters(categories=["Nd"]).filter(lambda c: not "0" <= c <= "9")
foreign_digits = st.builds(lambda a, d, b: f"{a}{d}{b}",
                           st.text(alphabet="0123456789", max_size=5), non_ascii_digit,
                           st.text(alphabet="0123456789", max_size=5))
three_places = st.builds(lambda whole, fraction: f"{whole}.{fraction}", digits,
                         st.text(alphabet="0123456789", min_size=3, max_size=8))
refused = st.one_of(exponents, separated, foreign_digits, three_places)

NAMED = ["1,000", "1e3", "1E3", "１０００", "12.345", "NaN", "Infinity", "-Infinity", "sNaN",
         " 1 000", "+5", "100元", "¥100", "12abc", "abc", "1.2.3", ".5", "5.", "--5", "0x10",
         "١٢٣", "1_000"]


def money_problems(raw: str, name: str = "a28_wages") -> list:
    problems: list = []
    read_values({name: raw}, [name], TODAY, problems)
    return problems


@given(plain())
@example("0")
@example("12000.0")
@example("-0.5")
@example("7.10")
def test_every_plain_decimal_with_at_most_two_places_round_trips_exactly(text):
    """SPEC §3: money is exact decimals — a plain decimal of ≤ 2 places is read as exactly
    the number written (same digits, same places; never through a float)."""
    amount = money(text)

    assert amount == Decimal(text) and str(amount) == text
    assert money("0" + text.lstrip("-")) == abs(amount)  # leading zeros: the same number


@given(refused, st.sampled_from(INCOME))
@example("1,000", "a28_wages")
@example("1e3", "a28_wages")
@example("１０００", "a28_wages")
@example("12.345", "a28_wages")
def test_an_exponent_separator_non_ascii_digit_or_three_places_is_one_problem(text, name):
    """SPEC §2/§3 (issue 11): an income item written with an exponent, a thousands separator,
    a non-ASCII digit or 3+ decimal places is refused — exactly one located problem at its
    A-code, never read as some other number."""
    with pytest.raises(MoneyError):
        money(text)

    [problem] = money_problems(text, name)

    assert (problem.code, problem.field, problem.member) == ("FIELD_INVALID", CODES[name], None)


@pytest.mark.parametrize("text", NAMED)
def test_named_malformed_amounts_are_refused_with_one_problem(text):
    """SPEC §2/§3 (issue 11): 1,000 / 1e3 / full-width digits / 12.345 / NaN / Infinity /
    " 1 000" / +5 / junk around the number: one FIELD_INVALID at A28 each."""
    with pytest.raises(MoneyError):
        money(text)

    assert [(p.code, p.field) for p in money_problems(text)] == [("FIELD_INVALID", "A28")]


@pytest.mark.parametrize("text", ["1,000", "1e3", "１０００", "12.345", "-5"])
def test_a_bad_income_item_is_one_problem_in_the_whole_survey(text):
    """SPEC §2 (no indicator empty) and issue 11: a bad A28 is one FIELD_INVALID, not also a
    FIELD_REQUIRED; nothing is computed from the other items."""
    result = read_survey({**SURVEY_FIELDS, "a28_wages": text}, [HEAD, SPOUSE, CHILD], LINE,
                         TODAY)

    assert [(p.code, p.field) for p in result.errors] == [("FIELD_INVALID", "A28")]
    assert result.derived is None


@pytest.mark.parametrize("name", INCOME)
def test_every_income_item_is_at_least_zero(name):
    """SPEC §2: A28–A32, A35, A36 are yuan ≥ 0. The field guide (附件6 items 25–29, 32–33)
    allows no negative either: A29 is what the household's business took in (its costs are
    A32), A30 is interest, rent, dividends — a loss is not an income item. So a negative
    A29/A30 stays refused, like every other item."""
    assert [(p.code, p.field) for p in money_problems("-1", name)] == [
        ("FIELD_INVALID", CODES[name])]
    assert money_problems("0", name) == []


def test_a_decimal_comma_in_work_months_is_refused_not_read_as_35():
    """SPEC §2: A16 months worked, 0–12 in steps of 0.5. "3,5" used to lose its comma and be
    read as 35 (then a range error); now it is one FIELD_INVALID at A16 for member 1."""
    result = read_survey(SURVEY_FIELDS, [{**HEAD, "a16_work_months": "3,5"}, SPOUSE], LINE,
                         TODAY)

    assert [(p.code, p.field, p.member) for p in result.errors] == [("FIELD_INVALID", "A16", 1)]


def test_numbers_without_a_places_limit_still_refuse_exponents_and_separators():
    """A phone-computed A34 (A33 ÷ size) has many places and is compared, not refused; an
    exponent or a separator is still no plain decimal."""
    assert plain_decimal("5166.666666666667") == Decimal("5166.666666666667")
    for text in ("1e3", "1,000", "１０"):
        with pytest.raises(MoneyError):
            plain_decimal(text)
