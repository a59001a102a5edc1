"""Use cases of the area tree: import national codes, add and rename 村民小组; the tree a form
offers."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.audit.services import record
from server.auth import Principal, check_role, within
from server.domain import areas as rules
from server.domain.areas import AreaLevel, contains, level_of, parent_of
from server.domain.roles import Role
from server.errors import AppError
from server.progress import Tracker, tracker

BUNDLED_AREAS = Path(__file__).resolve().parent.parent / "data" / "areas-4304.csv"


def read_area_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a ``code,name,level,parent_code`` file (see server/data/README.md)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def import_areas(session: Session, rows: Iterable[dict[str, str]], under: str,
                 progress: Tracker | None = None) -> int:
    """Insert or update the areas inside ``under`` and the areas above it; returns the count.

    The codes must agree with their level and parent (domain.areas), so a file from another
    edition or a hand-edited one cannot break the tree. ``progress`` hears of each area.
    """
    progress = tracker(progress)
    ancestors = {under[:n] for n in (4, 6, 9, 12) if n < len(under)}
    chosen = sorted(
        (row for row in rows if contains(under, row["code"]) or row["code"] in ancestors),
        key=lambda row: len(row["code"]),
    )
    progress.start(len(chosen))
    for row in chosen:
        code = row["code"]
        if level_of(code) != row["level"] or (parent_of(code) or "") != row["parent_code"]:
            raise ValueError(f"区划代码 {code} 的级别或上级与编码规则不一致")
        session.merge(Area(code=code, name=row["name"], level=row["level"],
                           parent_code=row["parent_code"] or None))
        progress.advance()
    session.flush()
    return len(chosen)


def add_groups(session: Session, village: Area, names: Iterable[str]) -> list[Area]:
    """Add 村民小组 (local codes: the village code + 001, 002, …) that are not there yet."""
    if village.level != AreaLevel.VILLAGE:
        raise ValueError(f"{village.name} 不是村（社区），不能添加村民小组")
    groups = []
    for number, name in enumerate(names, start=1):
        code = f"{village.code}{number:03d}"
        groups.append(session.merge(Area(code=code, name=name, level=AreaLevel.GROUP,
                                         parent_code=village.code)))
    session.flush()
    return groups


# Who names the 村民小组 of their area (SPEC §1: the county keeps the tree; the admin too).
AREA_MANAGERS = (Role.COUNTY, Role.ADMIN)


def _managed_area(session: Session, actor: Principal, code: str) -> Area:
    check_role(actor, AREA_MANAGERS)
    try:
        level_of(code)
    except rules.AreaCodeError as error:
        raise AppError.of(error) from error
    area = session.get(Area, code)
    if area is None or not contains(actor.area_code, code):
        raise AppError("NOT_FOUND")
    return area


def add_group(session: Session, actor: Principal, village_code: str, name: str) -> Area:
    """A new 村民小组 of a village inside the actor's area, numbered after the village's last
    group (``domain.areas.next_group_code``); audited ``area.added``. Forms offer it from their
    next download (their area lists are made from the tree)."""
    village = _managed_area(session, actor, village_code)
    try:
        name = rules.area_name(name)
    except rules.AreaCodeError as error:
        raise AppError.of(error) from error
    for attempt in range(3):  # two requests adding to one village at once: the later renumbers
        taken = list(session.scalars(select(Area.code).where(Area.parent_code == village.code)))
        try:
            code = rules.next_group_code(village.code, taken)
        except rules.AreaCodeError as error:
            raise AppError.of(error) from error
        group = Area(code=code, name=name, level=AreaLevel.GROUP, parent_code=village.code)
        try:
            with session.begin_nested():
                session.add(group)
                session.flush()
            break
        except IntegrityError:
            if attempt == 2:
                raise
    record(session, "area.added", "area", code, actor.id, name=name, parent_code=village.code)
    return group


def rename_area(session: Session, actor: Principal, code: str, name: str) -> Area:
    """Rename a 村民小组 inside the actor's area (audited ``area.renamed`` with both names). The
    national table's areas are named by its import only (AREA_NATIONAL)."""
    area = _managed_area(session, actor, code)
    if rules.is_national(code):
        raise AppError("AREA_NATIONAL", name=area.name, area_code=code)
    try:
        name = rules.area_name(name)
    except rules.AreaCodeError as error:
        raise AppError.of(error) from error
    if name != area.name:
        record(session, "area.renamed", "area", code, actor.id, old_name=area.name, name=name)
        area.name = name
        session.flush()
    return area


# Levels the forms ask for (the city is implied by the county).
FORM_LEVELS = (AreaLevel.COUNTY, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE, AreaLevel.GROUP)


def form_areas(session: Session, area_code: str) -> list[Area]:
    """The areas a form's address questions offer a user bound to ``area_code``: the area, its
    ancestors down from the county, and everything below it, by code."""
    ancestors = [area_code[:n] for n in (6, 9, 12) if n < len(area_code)]
    return list(session.scalars(
        select(Area)
        .where((Area.code.in_(ancestors)) | within(area_code, Area.code))
        .where(Area.level.in_([level.value for level in FORM_LEVELS]))
        .order_by(Area.code)
    ))


def area_names(session: Session, under: str) -> dict[str, str]:
    """Code → name of ``under`` and every area below it."""
    return dict(session.execute(select(Area.code, Area.name).where(
        within(under, Area.code))).all())
