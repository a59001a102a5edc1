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


# --- 村民小组: the areas a county names itself ------------------------------------------------

GROUP_DIGITS = 3
MAX_AREA_NAME = 40


def next_group_code(village_code: str, existing: list[str]) -> str:
    """The code of a new 村民小组 of ``village_code``: the village code and the next free local
    number after the highest one in use (a removed or renumbered group's number is never given
    again to another group, so a household's recorded group code keeps its meaning)."""
    if level_of(village_code) != AreaLevel.VILLAGE:
        raise AreaCodeError("AREA_GROUP_NOT_VILLAGE", area_code=village_code)
    numbers = [int(code[len(village_code):]) for code in existing
               if code.startswith(village_code) and len(code) == CODE_LENGTH[AreaLevel.GROUP]]
    number = max(numbers, default=0) + 1
    if number >= 10**GROUP_DIGITS:
        raise AreaCodeError("AREA_GROUPS_FULL", area_code=village_code)
    return f"{village_code}{number:0{GROUP_DIGITS}d}"


def area_name(name: str) -> str:
    """A name an area may have: the text without its outer blanks, 1 to 40 characters, no
    control characters (AREA_NAME_INVALID)."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_AREA_NAME or not cleaned.isprintable():
        raise AreaCodeError("AREA_NAME_INVALID", max_length=MAX_AREA_NAME)
    return cleaned


def is_national(code: str) -> bool:
    """Whether the area is one of the national table's (named by the import, not by hand)."""
    return level_of(code) != AreaLevel.GROUP
