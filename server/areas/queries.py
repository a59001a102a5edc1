"""Read services of the area tree: what the REST API lists and shows, and what the console and
the exports call. A user sees their own area and everything inside it, never the areas above
(SPEC §1): an area outside is not found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.auth import Principal, within
from server.domain.areas import CODE_LENGTH, LEVEL_NAMES, AreaLevel
from server.errors import AppError
from server.listing import where_equal

VILLAGE_LENGTH = CODE_LENGTH[AreaLevel.VILLAGE]  # a group's code starts with its village's


@dataclass(frozen=True)
class AreaView:
    code: str
    name: str
    level: str
    level_name: str
    parent_code: str | None


def areas_query(user: Principal, filters: Mapping) -> Select:
    """The areas inside the user's, by code (a Select of ``Area``); ``filters``:
    ``parent_code``, ``level``."""
    query = select(Area).where(within(user, Area.code)).order_by(Area.code)
    return where_equal(query, filters, Area, "parent_code", "level")


def readable_area(session: Session, user: Principal, code: str) -> Area:
    """The area ``code`` if it lies inside the user's (else NOT_FOUND)."""
    area = session.scalar(select(Area).where(Area.code == code, within(user, Area.code)))
    if area is None:
        raise AppError("NOT_FOUND")
    return area


def area_view(area: Area) -> AreaView:
    return AreaView(code=area.code, name=area.name, level=area.level,
                    level_name=LEVEL_NAMES.get(area.level, area.level),  # StrEnum keys
                    parent_code=area.parent_code)


def place_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Code → where it is, as people say it: the village and the group ("洪罗庙社区第一村民
    小组"), a township or a village by its name; a code not in the tree is left out. For the
    area codes a page shows (households, submissions): one query for them all."""
    wanted = {code for code in codes if code}
    keys = wanted | {code[:VILLAGE_LENGTH] for code in wanted if len(code) > VILLAGE_LENGTH}
    if not keys:
        return {}
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(keys))).all())
    out = {}
    for code in wanted:
        if code not in names:
            continue
        village = names.get(code[:VILLAGE_LENGTH]) if len(code) > VILLAGE_LENGTH else None
        out[code] = f"{village}{names[code]}" if village else names[code]
    return out
