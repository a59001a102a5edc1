"""server.domain.areas: levels, parents and containment by national code prefixes."""

from __future__ import annotations

import pytest

from server.domain.areas import AreaCodeError, AreaLevel, contains, level_of, parent_of


@pytest.mark.parametrize("code,level,parent", [
    ("4304", AreaLevel.CITY, None),
    ("430421", AreaLevel.COUNTY, "4304"),
    ("430421107", AreaLevel.TOWNSHIP, "430421"),
    ("430421107003", AreaLevel.VILLAGE, "430421107"),
    ("430421107003001", AreaLevel.GROUP, "430421107003"),
])
def test_levels_and_parents_follow_the_code_length(code, level, parent):
    assert level_of(code) == level
    assert parent_of(code) == parent


@pytest.mark.parametrize("code", ["43042", "4304211070031", "43042A", "", "４３０４"])
def test_codes_of_other_shapes_are_refused(code):
    with pytest.raises(AreaCodeError):
        level_of(code)


def test_an_area_contains_its_descendants_only():
    assert contains("430421", "430421107003001")
    assert not contains("430421107", "430421108001")
