"""The numbering and naming of 村民小组 (domain.areas): a new group's code follows the
village's last, is never one in use, and stays inside the village."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.areas import AreaCodeError, area_name, next_group_code

VILLAGE = "430421107003"


@given(st.sets(st.integers(min_value=1, max_value=998), max_size=30))
def test_a_new_group_follows_the_last_and_is_never_taken(numbers):
    taken = [f"{VILLAGE}{n:03d}" for n in numbers]

    code = next_group_code(VILLAGE, [*taken, "430421107004001", VILLAGE])

    assert code.startswith(VILLAGE) and len(code) == 15
    assert code not in taken
    assert int(code[12:]) == max(numbers, default=0) + 1


def test_groups_go_under_villages_and_end_at_999():
    with pytest.raises(AreaCodeError) as township:
        next_group_code("430421107", [])
    with pytest.raises(AreaCodeError) as full:
        next_group_code(VILLAGE, [f"{VILLAGE}999"])

    assert township.value.code == "AREA_GROUP_NOT_VILLAGE"
    assert full.value.code == "AREA_GROUPS_FULL"


@pytest.mark.parametrize(("given_name", "kept"), [
    ("第一村民小组", "第一村民小组"), ("  新屋  组 ", "新屋 组"), ("组" * 40, "组" * 40)])
def test_a_name_is_kept_without_its_outer_blanks(given_name, kept):
    assert area_name(given_name) == kept


@pytest.mark.parametrize("bad", ["", "  ", "组" * 41, "一\x00组", "一\u200b组\x07"])
def test_an_empty_long_or_control_name_is_refused(bad):
    with pytest.raises(AreaCodeError) as refused:
        area_name(bad)
    assert refused.value.code == "AREA_NAME_INVALID"
