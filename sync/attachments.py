"""Form attachments the server generates for each user: what the phone's lists read.

``areas.csv`` holds the user's part of the area tree for the cascading address questions
(columns ``name,label,level,parent``; see xlsforms/README.md); ``figures.csv`` the yearly
monitoring line and elimination floor of the user's province. The content depends on who asks,
so its md5 does too, and Collect fetches it again when it changes.

This module renders CSV only: what goes in it is read by the services that own the data
(``server.areas.services``, ``server.figures.services``, ``server.households.queries``,
``server.screening.services``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import date

from sqlalchemy.orm import Session

from server import clock
from server.areas.services import area_names, form_areas
from server.auth import Principal
from server.domain.codes import NO, YES
from server.domain.fields import BY_NAME, ENTITY_FIELDS, MONITORING_TYPE, Kind
from server.domain.figures import FigureKind
from server.domain.members import has_labour_capacity
from server.domain.personal import shown_id_number, shown_phone
from server.domain.warnings import task_text
from server.figures.services import figures_by_year
from server.households.queries import streamed_surveyed_households
from server.lists import services as lists
from server.screening.services import HouseholdTasks, tasks_by_household


def areas_csv(session: Session, user: Principal) -> bytes:
    """The user's area, its ancestors down from the county, and everything below it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "label", "level", "parent"])
    for area in form_areas(session, user.area_code):
        writer.writerow([area.code, area.name, area.level, area.parent_code or ""])
    return out.getvalue().encode("utf-8")


def figures_csv(session: Session, user: Principal, today: date | None = None) -> bytes:
    """The yearly figures of the user's province, one row per year up to next year.

    Columns ``year,monitoring_line,elimination_floor,notice_days,year_used``: a year without
    figures of its own carries the latest earlier year's (``year_used`` says which), so the form
    can look its visit year up with a plain equality.
    """
    last = (today or clock.today()).year + 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["year", "monitoring_line", "elimination_floor", "notice_days", "year_used"])
    for year in figures_by_year(session, user.area_code[:2], last):
        writer.writerow([year.year, *(f"{year.values[kind].value.normalize():f}"
                                      for kind in FigureKind), year.year_used])
    return out.getvalue().encode("utf-8")


# The registry's fields of the list are ``fields.ENTITY_FIELDS``, in this order.
ENTITY_PROPERTIES = (
    "addr_county", "addr_township", "addr_village", "addr_group", "head_name", "head_id_masked",
    *(field.name for field in ENTITY_FIELDS), "labour_capacity",
)
# Phone numbers: shown by the one rule of personal data (SPEC §7, server.domain.personal).
PHONE_PROPERTIES = tuple(name for name in ENTITY_PROPERTIES
                         if name in BY_NAME and BY_NAME[name].kind is Kind.PHONE)
# Department warnings (server.screening): the open home-check tasks, after the form properties.
WARNING_TASK_PROPERTY = "warning_task"
TASK_LABEL_PREFIX = "【待核查】"


def households_csv_chunks(session: Session, user: Principal,
                          chunk: int = 64 * 1024) -> Iterator[bytes]:
    """The entity list ``households`` of the user's area, in ODK Central's CSV shape.

    Columns ``name,label,__version`` and the properties the follow-up forms prefill; ``name`` is
    the household id the submission carries back; then ``warning_task``.

    A household with an open department-warning task (部门筛查预警, a home check to do) has its
    label prefixed with ``【待核查】``, which the household pickers of the forms show, and the
    task in ``warning_task`` (department, date, reason; ``；`` between tasks; at most three,
    then how many in all; empty otherwise).
    ``__version`` is the number of the latest survey plus one for each task opened and each
    task closed: Collect takes a server entity only when its version is higher than the one it
    holds (LocalEntityUseCases.updateLocalEntitiesFromServer), so a changed label must come
    with a higher version. It never decreases, and equals the survey number while a household
    never had a task.

    Personal data follow the one rule of SPEC §7 (``server.domain.personal``, as the REST API):
    ``head_id_masked`` is the head's ID number as the user may see it (masked for every role that
    collects; the forms only show it, none matches on it), and ``phone`` and
    ``a55_contact_phone`` are in full for the users of the household's village, masked for a
    user bound to a wider area (a township's).

    Streamed: the rows are read in batches and written out in chunks of about ``chunk`` bytes
    (a township's 20 000 households are never one string in memory).
    """
    names = area_names(session, user.area_code[:12])
    tasks = tasks_by_household(session, user.area_code)
    rows = streamed_surveyed_households(session, user)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "label", "__version", *ENTITY_PROPERTIES, WARNING_TASK_PROPERTY])
    for row in rows:
        household, survey, head_name = row.household, row.survey, row.head_name
        task = tasks.get(household.id, HouseholdTasks())
        village, group = household.area_code[:12], household.area_code
        place = names.get(village, "") + (names.get(group, "") if group != village else "")
        values = survey.household_values
        capable = has_labour_capacity(survey.member_values)
        derived = {
            "head_name": head_name,
            "head_id_masked": shown_id_number(row.head_id_number, user.role),
            **{name: shown_phone(values.get(name), user.role, user.area_code,
                                 household.area_code) for name in PHONE_PROPERTIES},
            "household_size": str(survey.size),
            MONITORING_TYPE.name: (household.monitoring_type
                                   or values.get(MONITORING_TYPE.name)),
            "labour_capacity": YES if capable else NO,
        }
        label = f"{head_name} {place}".strip()
        writer.writerow([household.id, TASK_LABEL_PREFIX + label if task.open else label,
                         survey.number + task.changes,
                         *(derived.get(name, values.get(name, "")) or "" for name in
                           ENTITY_PROPERTIES), _task_text(task.open)])
        if out.tell() >= chunk:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def households_csv(session: Session, user: Principal) -> bytes:
    """``households_csv_chunks`` in one piece."""
    return b"".join(households_csv_chunks(session, user))


def _task_text(rows) -> str:
    """Bounded (server.domain.warnings.task_text): a few tasks, then how many in all."""
    return task_text([(row.department, row.reported_on, row.reason) for row in rows])


GENERATORS: dict[str, Callable[[Session, Principal], bytes]] = {
    "areas.csv": areas_csv,
    "figures.csv": figures_csv,
    "households.csv": households_csv,
}
# Attachments that are ODK entity lists (marked type="entityList" in the manifest), each
# streamed to the phone.
STREAMED: dict[str, Callable[[Session, Principal], Iterator[bytes]]] = {
    "households.csv": households_csv_chunks,
}
ENTITY_LISTS = frozenset(STREAMED)


# --- versions: what the manifest's hash comes from (docs/protocol.md, "The phones' lists") ---

# The shape of what the generators write: change it whenever one writes other columns or
# other values from the same rows, so that every phone takes the new list.
FORMAT = "1"
# The change counter (server.lists) each attachment follows.
COUNTER = {"areas.csv": lists.AREAS, "figures.csv": lists.FIGURES,
           "households.csv": lists.HOUSEHOLDS}


def version_key(name: str, user: Principal, counts: lists.ListCounts,
                today: date | None = None) -> str:
    """What attachment ``name`` shows ``user`` is a function of this key: the change count of
    its rows in the user's scope, and what of the user the content depends on besides — the
    area for all three; the role for the households (masking: ``shown_id_number``,
    ``shown_phone``); for the figures only the province, and the year (one row per year up to
    next year)."""
    if name == "households.csv":
        parts: tuple = (user.area_code, str(user.role))
    elif name == "figures.csv":
        parts = (user.area_code[:2], (today or clock.today()).year + 1)
    else:
        parts = (user.area_code,)
    return "|".join(str(part) for part in (name, FORMAT, *parts, counts.of(COUNTER[name])))


def version_hash(key: str) -> str:
    """The hash an entity list's version is named by in the manifest and the ETag (as ODK
    Central's is the md5 of its latest change, not of the content)."""
    return hashlib.md5(key.encode("utf-8")).hexdigest()


class ContentDigests:
    """The md5 of a plain attachment's content by its version key, built once per version (per
    process) and kept: Collect matches a plain media file by the md5 of the file it holds, so
    that one hash must be the content's (see docs/protocol.md). Bounded; thread-safe."""

    def __init__(self, size: int = 4096):
        self._size = size
        self._digests: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            digest = self._digests.get(key)
            if digest is not None:
                self._digests.move_to_end(key)
            return digest

    def put(self, key: str, digest: str) -> None:
        with self._lock:
            self._digests[key] = digest
            self._digests.move_to_end(key)
            while len(self._digests) > self._size:
                self._digests.popitem(last=False)


def generate(session: Session, name: str, user: Principal) -> bytes | None:
    """The content of attachment ``name`` for ``user``; None when the server has no such file."""
    generator = GENERATORS.get(name)
    return generator(session, user) if generator else None
