"""The area tree: 市(州) → 县(市区) → 乡镇(街道) → 村(社区) → 村民小组.

Codes are the national statistical area codes (统计用区划代码) as 12 digits padded with zeros in
the source; we keep them at their significant length: city 4 digits (4304), county 6 (430421),
township 9 (430421100), village 12 (430421100201). 村民小组 are not in the national table; they get
the village code plus 3 local digits (430421100201001). So an area contains exactly the areas
whose code starts with its own: the area scope of a user is a prefix test.
"""

from __future__ import annotations

from enum import StrEnum

from server.domain.catalogue import CatalogueError


class AreaLevel(StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GROUP = "group"


CODE_LENGTH = {
    AreaLevel.CITY: 4,
    AreaLevel.COUNTY: 6,
    AreaLevel.TOWNSHIP: 9,
    AreaLevel.VILLAGE: 12,
    AreaLevel.GROUP: 15,
}
LEVEL_OF_LENGTH = {length: level for level, length in CODE_LENGTH.items()}
LEVEL_NAMES = {
    AreaLevel.CITY: "市（州）",
    AreaLevel.COUNTY: "县（市区）",
    AreaLevel.TOWNSHIP: "乡镇（街道）",
    AreaLevel.VILLAGE: "村（社区）",
    AreaLevel.GROUP: "村民小组",
}


class AreaCodeError(CatalogueError):
    """Not an area code of any level (AREA_CODE_INVALID)."""


def level_of(code: str) -> AreaLevel:
    """The level an area code stands for, by its significant length."""
    if not code.isascii() or not code.isdigit() or len(code) not in LEVEL_OF_LENGTH:
        raise AreaCodeError("AREA_CODE_INVALID", area_code=code)
    return LEVEL_OF_LENGTH[len(code)]


def parent_of(code: str) -> str | None:
    """The code of the area directly above, or None for a city."""
    level = level_of(code)
    levels = list(CODE_LENGTH)
    index = levels.index(level)
    return None if index == 0 else code[: CODE_LENGTH[levels[index - 1]]]


def contains(outer: str, inner: str) -> bool:
    """Whether area ``inner`` lies inside (or is) area ``outer``."""
    return inner.startswith(outer)


def common_area(*codes: str) -> str:
    """The smallest area containing every given area (empty codes ignored): the longest common
    prefix cut back to an area level; ``""`` (the whole country) when they share no city."""
    given = [code for code in codes if code]
    if not given:
        return ""
    shared = given[0]
    for code in given[1:]:
        length = 0
        while length < min(len(shared), len(code)) and shared[length] == code[length]:
            length += 1
        shared = shared[:length]
    for length in sorted(CODE_LENGTH.values(), reverse=True):
        if len(shared) >= length:
            return shared[:length]
    return ""
