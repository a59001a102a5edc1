"""server.domain.idnumber: GB 11643 ID numbers and 20-digit disability cards (SPEC §3)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.idnumber import (
    IdNumberError,
    Sex,
    check_character,
    mask,
    normalise,
    one_digit_apart,
    parse,
)

TODAY = date(2026, 11, 24)
provinces = st.sampled_from(["11", "43", "65", "81"])
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@st.composite
def valid_ids(draw) -> str:
    body = (draw(provinces) + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
            + draw(births).strftime("%Y%m%d") + draw(st.from_regex(r"[0-9]{3}", fullmatch=True)))
    return body + check_character(body)


def test_a_known_good_number_parses_with_birth_date_and_sex():
    parsed = parse("11010519491231002X", today=TODAY)

    assert parsed.value == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex is Sex.FEMALE and parsed.sex.label == "女"


@given(valid_ids())
def test_every_well_formed_number_parses_and_round_trips(value):
    parsed = parse(value, today=TODAY)

    assert parsed.value == value
    assert parsed.sex is (Sex.MALE if int(value[16]) % 2 else Sex.FEMALE)
    assert parsed.birth_date.strftime("%Y%m%d") == value[6:14]


@given(valid_ids(), st.integers(min_value=0, max_value=16), st.integers(1, 9))
def test_any_single_digit_error_is_caught_by_some_rule(value, position, delta):
    """MOD 11-2 catches every single-digit substitution (or another rule fails first)."""
    digit = (int(value[position]) + delta) % 10
    wrong = value[:position] + str(digit) + value[position + 1:]

    with pytest.raises(IdNumberError):
        parse(wrong, today=TODAY)


@given(valid_ids())
def test_spaces_full_width_digits_and_lower_case_x_are_normalised(value):
    messy = " ".join(value).replace("X", "x")
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in messy)

    assert parse(full_width, today=TODAY).value == value


@pytest.mark.parametrize("raw,code", [
    ("", "ID_EMPTY"),
    ("430421800101001", "ID_FIRST_GENERATION"),
    ("43042119800101001", "ID_LENGTH"),
    ("4304211980010100111", "ID_LENGTH"),
    ("43042119800101001A", "ID_CHARACTERS"),
    ("99042119800101001" + check_character("99042119800101001"), "ID_PROVINCE"),
    ("43042119800230001" + check_character("43042119800230001"), "ID_BIRTH_DATE"),
    ("43042120991231001" + check_character("43042120991231001"), "ID_BIRTH_DATE"),
    ("430421198001010011", "ID_CHECKSUM"),
])
def test_each_broken_rule_is_named(raw, code):
    with pytest.raises(IdNumberError) as error:
        parse(raw, today=TODAY)

    assert error.value.code == code
    assert error.value.message  # Chinese, says which rule


def test_the_checksum_message_names_the_expected_character():
    body = "43042119800101001"
    wrong = "0" if check_character(body) != "0" else "1"

    with pytest.raises(IdNumberError) as error:
        parse(body + wrong, today=TODAY)

    assert error.value.params == {"expected": check_character(body), "given": wrong}


def test_a_disability_card_number_is_the_person_plus_category_and_level():
    body = "43042119800101001"
    card = body + check_character(body) + "42"

    parsed = parse(card, today=TODAY)

    assert parsed.value == card[:18]
    assert (parsed.disability_category, parsed.disability_level) == (4, 2)
    assert parsed.card_number == card


@pytest.mark.parametrize("suffix,code", [
    ("82", "DISABILITY_CATEGORY"), ("05", "DISABILITY_CATEGORY"),
    ("45", "DISABILITY_LEVEL"), ("40", "DISABILITY_LEVEL"),
])
def test_a_disability_card_with_a_bad_category_or_level_is_refused(suffix, code):
    body = "43042119800101001"

    with pytest.raises(IdNumberError) as error:
        parse(body + check_character(body) + suffix, today=TODAY)

    assert error.value.code == code


def test_age_counts_full_years():
    parsed = parse("11010519491231002X", today=TODAY)

    assert parsed.age_on(date(2021, 12, 30)) == 71
    assert parsed.age_on(date(2021, 12, 31)) == 72


def test_masking_keeps_the_area_and_the_last_four():
    assert mask("11010519491231002X") == "110105********002X"
    assert normalise("１１０１０５") == "110105"


def test_one_digit_apart_ignores_the_check_character_and_allows_a_swap():
    assert one_digit_apart("430421198001010011", "430421198001010029")
    assert one_digit_apart("430421198001010101", "430421198001011001")
    assert not one_digit_apart("430421198001010011", "430421198001010011")
    assert not one_digit_apart("430421198001010011", "430421198001012201")


def test_phones_are_masked_in_the_middle():
    from server.domain.idnumber import mask_phone

    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0734-1234567") == "073****4567"
