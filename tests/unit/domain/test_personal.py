"""SPEC §7: personal data by role, the one rule (server.domain.personal)."""

from __future__ import annotations

import pytest

from server.domain.personal import shown_id_number, shown_phone

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
