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
from server.domain.areas import CODE_LENGTH, LEVEL_NAMES, AreaLevel, parent_of
from server.errors import AppError
from server.listing import where_equal


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


VILLAGE_CODE_LENGTH = CODE_LENGTH[AreaLevel.VILLAGE]


def area_labels(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """How a list names each area code, with one query: a village by its name, a place below
    a village (a 村民小组) by its village's name and its own ("洪罗庙社区 第一村民小组"), an
    area above by its name. A code not in the tree is named by itself."""
    codes = set(codes)
    parts = {code: [code[:VILLAGE_CODE_LENGTH], code] if len(code) > VILLAGE_CODE_LENGTH
             else [code] for code in codes}
    wanted = {part for found in parts.values() for part in found}
    names = dict(session.execute(select(Area.code, Area.name)
                                 .where(Area.code.in_(wanted))).all()) if wanted else {}
    return {code: " ".join(names.get(part, part) for part in found)
            for code, found in parts.items()}


def area_path(session: Session, code: str) -> list[AreaView]:
    """The area and the areas above it, from the top (one query)."""
    chain = [code]
    while (parent := parent_of(chain[-1])) is not None:
        chain.append(parent)
    found = {area.code: area
             for area in session.scalars(select(Area).where(Area.code.in_(chain)))}
    return [area_view(found[c]) for c in reversed(chain) if c in found]
