"""SPEC §7: personal data by role, the one rule (server.domain.personal)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.personal import redact, redact_all, shown_id_number, shown_phone
from tests.unit.domain.test_idnumber import valid_ids

ID = "430421198001010011"
PHONE = "13812345678"
VILLAGE = "430421107003"


@pytest.mark.parametrize("role,full", [("admin", True), ("county", True), ("township", False),
                                       ("village", False), ("helper", False)])
def test_id_numbers_are_in_full_for_county_and_admin_only(role, full):
    """SPEC §7: ID numbers in full for county and admin; the first 6 and last 4 for others."""
    assert shown_id_number(ID, role) == (ID if full else "430421********0011")
    assert shown_id_number(None, role) is None and shown_id_number("", role) == ""


@pytest.mark.parametrize("role,user_area,household_area,full", [
    ("county", "430421", VILLAGE + "001", True),
    ("admin", "43", None, True),
    ("helper", VILLAGE, VILLAGE + "001", True),  # the household's village
    ("helper", VILLAGE + "002", VILLAGE + "001", True),  # a group of that village
    ("village", VILLAGE, VILLAGE, True),
    ("helper", "430421107004", VILLAGE + "001", False),  # another village
    ("helper", "430421107", VILLAGE + "001", False),  # bound to the township
    ("township", "430421107", VILLAGE + "001", False),
    ("village", VILLAGE, None, False),  # a phone that is no household's: role only
])
def test_phones_are_in_full_for_those_who_call_the_household(role, user_area, household_area,
                                                              full):
    """SPEC §7: phones in full for the household's village users and helpers, county, admin."""
    shown = shown_phone(PHONE, role, user_area, household_area)
    assert shown == (PHONE if full else "138****5678")


# --- redact: what a log line may hold (issue 15, point 8) ---------------------------------------

# Text a log line is made of, without digits or the characters of a secret's pair: Chinese,
# letters, spaces and punctuation.
_PLAIN = st.text(alphabet=st.characters(
    categories=("L", "Zs", "P"), exclude_characters="=\"'/"), max_size=60)
_ANY = st.text(max_size=40)


@given(valid_ids(), _ANY, _ANY)
def test_a_valid_id_number_never_survives_redaction(number, before, after):
    """Whatever surrounds it (digits too), a valid ID number is not in the redacted text."""
    assert number not in redact(before + number + after)


@given(_PLAIN)
def test_plain_text_is_left_as_it_is(text):
    assert redact(text) == text


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), _PLAIN, _PLAIN)
def test_a_mobile_number_between_words_is_masked(phone, before, after):
    redacted = redact(f"{before} {phone} {after}")
    assert phone not in redacted and phone[:3] + "****" + phone[-4:] in redacted


@pytest.mark.parametrize(("line", "secret"), [
    ('"GET /key/Yk3-_tokenABC/formList HTTP/1.1" 200', "Yk3-_tokenABC"),
    ("POST /key/Yk3-_tokenABC/submission?deviceID=collect:x", "Yk3-_tokenABC"),
    ("username=county&password=correct horse", "correct"),
    ("?token=s3cr3t-t0ken&page=2", "s3cr3t-t0ken"),
    ('{"old_password": "hunter2-long", "new_password": "n\\"ew-pass"}', "hunter2-long"),
    ('{"old_password": "hunter2-long", "new_password": "n\\"ew-pass"}', "ew-pass"),
    ("Authorization: Basic Y291bnR5OmNvcnJlY3Q=", "Y291bnR5OmNvcnJlY3Q="),
])
def test_tokens_and_passwords_are_masked(line, secret):
    assert secret not in redact(line)


def test_what_stays_readable():
    """The area of a masked ID number, the time, the route, the status and sizes stay."""
    line = "2026-12-06T08:00:01Z GET /api/v1/people/<id:person_id> 200 1834 id 430421198001010012"
    assert redact(line) == ("2026-12-06T08:00:01Z GET /api/v1/people/<id:person_id> 200 1834 id "
                            "430421************")



# Pieces of what the patterns look for, so that random lines hold them (and near misses) often.
_PIECES = st.sampled_from([
    "password=", "PassWd=", '"new_password": "', "token=", '"token"', "csrf_token=", "secret",
    "/key/", "/key/<token>/", "Authorization: Basic ", "Bearer ", "13812345678", "1381234567",
    "43042119900101123", "430421199001011234", "X", "=", '"', " ", "中", ":"])


@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12).map("".join))
def test_the_first_search_only_skips_lines_the_patterns_leave_as_they_are(line):
    """``redact`` looks first for what any pattern needs; it must answer as every pattern."""
    assert redact(line) == redact_all(line)


_ASCII_PIECES = st.sampled_from([
    "password=", "PASSWORD=", "Passw0rd=", '"Secret"', "TOKEN=", "tOkEn\"", "AUTHORIZATION: ",
    "authorization", "/KEY/abc", "/key/", "/key/a", "13812345678", "1381234567",
    "43042119900101123X", "4304211990010112", "=", '"', " "])


@given(st.lists(st.one_of(_ASCII_PIECES, st.text(string.printable, max_size=8)),
                max_size=12).map("".join))
def test_the_first_search_of_an_ascii_line_answers_as_every_pattern(line):
    """ASCII lines (a request's, most) take the cheaper first search: the same answers."""
    assert line.isascii()
    assert redact(line) == redact_all(line)
