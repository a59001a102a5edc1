"""An export, from its arguments to the audited file: one service for the REST API, the
console and ``fangpin export``.

``prepare`` checks everything that can refuse an export before a byte is sent (the role, the
dataset, the arguments, the right to full numbers, the area) and returns an ``Export``.
``produce`` then yields the file's bytes: it reads the rows in a unit of work of its own (the
request's has ended by the time a streamed response is sent), and when the stream ends —
completely, or cut off by the client — records ``export.created`` in the audit log in a unit
of its own, with the row count known only then (SPEC §7: every export of personal data is
logged: who, when, what filter, how many rows, masked or not).

Who may export (SPEC §1, §7): county staff export the clean datasets; admin users too; a
township reviewer exports what lies in its own township (its ID numbers and phones are always
masked: the rule of ``server.domain.personal``). Village users and helpers do not export: they
see their households on the phone and in the console.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import User
from server.audit.services import record
from server.auth import Principal, check_role
from server.db import Database, writing
from server.domain import personal
from server.domain.areas import contains
from server.domain.datasets import (
    DATASETS,
    PROFILE_NAMES,
    Column,
    Dataset,
    Format,
    Masking,
    Profile,
    describe_filters,
    file_name,
    row_writer,
)
from server.domain.roles import ROLE_NAMES, Role
from server.errors import AppError
from server.exports import media, queries, writers
from server.exports.schemas import FILTER_KEYS, ExportArgsSchema, FilterSchema

EXPORTING_ROLES = frozenset({Role.COUNTY, Role.ADMIN, Role.TOWNSHIP})
AUDIT_ACTION = "export.created"
_SCHEMA = ExportArgsSchema()


@dataclass(frozen=True)
class Export:
    """One export, checked and ready to produce."""

    user: Principal
    user_name: str
    dataset: Dataset
    filters: dict
    format: Format
    labels: bool
    profile: Profile
    full: bool
    at: datetime
    area_name: str
    filter_text: list[tuple[str, str]]

    @property
    def today(self) -> date:
        return clock.local_day(self.at)

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.dataset.columns_of(self.profile)

    @property
    def masked(self) -> bool:
        return not self.full

    @property
    def file_name(self) -> str:
        return file_name(self.dataset, self.area_name, self.at, self.format)

    @property
    def content_type(self) -> str:
        return (writers.XLSX_CONTENT_TYPE if self.format is Format.XLSX
                else writers.CSV_CONTENT_TYPE)

    def info(self) -> list[tuple[str, str]]:
        """What the file says about itself (the XLSX's first sheet, the CSV's first line)."""
        local = self.at.astimezone(clock.CHINA)
        return [
            ("数据集", f"{self.dataset.title}（{self.dataset.name}）"),
            ("导出人", f"{self.user_name}（{self.user.username}，"
                       f"{ROLE_NAMES.get(self.user.role, self.user.role)}）"),
            ("导出时间", f"{local:%Y-%m-%d %H:%M:%S}（北京时间）"),
            ("辖区", f"{self.area_name}（{self.user.area_code}）"),
            *self.filter_text,
            ("口径", PROFILE_NAMES[self.profile]),
            ("代码", "写中文名称" if self.labels else "写代码（国家系统代码）"),
            ("身份证号码和电话", "完整（经授权，已记入审计日志）" if self.full
             else "已脱敏（身份证号码保留前6位和后4位，电话保留前3位和后4位）"),
            ("说明", "金额单位为元，保留两位小数；日期和时间为北京时间；本次导出已记入审计日志。"),
        ]

    def description(self) -> str:
        return "；".join(f"{name}：{value}" for name, value in self.info())

    def audit_details(self, rows: int, complete: bool) -> dict:
        return {"dataset": self.dataset.name, "format": self.format.value,
                "profile": self.profile.value, "labels": self.labels, "masked": self.masked,
                "filters": {k: v.isoformat() if isinstance(v, date) else v
                            for k, v in self.filters.items()},
                "rows": rows, "complete": complete, "file_name": self.file_name}


def prepare(session: Session, user: Principal, dataset_name: str,
            arguments: Mapping[str, object], at: datetime | None = None) -> Export:
    """The export ``user`` asks for, or a refusal: FORBIDDEN_ROLE (village users, helpers),
    EXPORT_DATASET_UNKNOWN, EXPORT_ARGUMENT_INVALID (naming the argument),
    EXPORT_FULL_FORBIDDEN (full numbers asked by a role that may not see them),
    AREA_OUTSIDE_SCOPE (an area filter outside the user's area)."""
    check_role(user, EXPORTING_ROLES)
    dataset = DATASETS.get(dataset_name)
    if dataset is None:
        raise AppError("EXPORT_DATASET_UNKNOWN", dataset=dataset_name,
                       datasets="、".join(DATASETS))
    loaded = _load(_SCHEMA, arguments)
    full = bool(loaded["full"])
    if full and not personal.may_export_full(user.role):
        raise AppError("EXPORT_FULL_FORBIDDEN", role=ROLE_NAMES.get(user.role, user.role))
    filters = {key: loaded[key] for key in FILTER_KEYS if key in loaded}
    if "area_code" in filters and not contains(user.area_code, filters["area_code"]):
        raise AppError("AREA_OUTSIDE_SCOPE", area_code=filters["area_code"])
    names = queries.area_names(session, user)
    account = session.get(User, user.id)
    return Export(
        user=user, user_name=account.full_name if account else user.username, dataset=dataset,
        filters=filters, format=Format(loaded["format"]), labels=bool(loaded["labels"]),
        profile=Profile(loaded["profile"]), full=full, at=at or clock.now(),
        area_name=names.get(user.area_code, user.area_code),
        filter_text=describe_filters(dataset, filters, names))


def _load(schema, arguments: Mapping[str, object]) -> dict:
    """The arguments loaded by ``schema``, or EXPORT_ARGUMENT_INVALID naming the first bad
    one."""
    try:
        return schema.load(dict(arguments))
    except ValidationError as error:
        argument, reasons = next(iter(error.messages.items()))
        reason = reasons[0] if isinstance(reasons, list) else str(reasons)
        raise AppError("EXPORT_ARGUMENT_INVALID", argument=argument,
                       reason="未知的参数" if reason == "Unknown field." else reason) from error


class _Counter:
    def __init__(self) -> None:
        self.rows = 0


def produce(database: Database, export: Export,
            progress: Callable[[int], object] | None = None) -> Iterator[bytes]:
    """The file's bytes, streamed; audited when the stream ends (see the module's note).
    ``progress`` is told of every thousand rows written (and of the rest at the end)."""
    counter = _Counter()
    complete = False
    try:
        if export.format is Format.CSV:
            with database.unit_of_work() as unit:
                yield from writers.csv_chunks(export.description(), export.columns,
                                              _cells(unit.session, export, counter, progress))
        else:
            with database.unit_of_work() as unit:
                yield from writers.xlsx_chunks(export.dataset.title, export.columns,
                                               _cells(unit.session, export, counter, progress),
                                               export.info())
        complete = True
    finally:
        audit(database, export, counter.rows, complete)


def _cells(session: Session, export: Export, counter: _Counter,
           progress: Callable[[int], object] | None) -> Iterator[list]:
    write = row_writer(export.columns, export.labels,
                       Masking(export.user.role, export.user.area_code, export.full))
    pending = 0
    for row in queries.rows(session, export.user, export.dataset, export.filters, export.today):
        yield write(row)
        counter.rows += 1
        if progress is not None:
            pending += 1
            if pending == 1000:
                progress(pending)
                pending = 0
    if progress is not None and pending:
        progress(pending)


def audit(database: Database, export: Export, rows: int, complete: bool) -> None:
    """``export.created`` with the row count, in a unit of work of its own."""
    with writing(), database.unit_of_work() as unit:
        record(unit.session, AUDIT_ACTION, "export", export.dataset.name, export.user.id,
               **export.audit_details(rows, complete))


def row_count(database: Database, export: Export) -> int:
    """How many rows the export will have (a progress bar's length)."""
    with database.unit_of_work() as unit:
        return queries.count(unit.session, export.user, export.dataset, export.filters,
                             export.today)


# --- the media ZIP --------------------------------------------------------------------------

MEDIA_ROLES = frozenset(Role(role) for role in personal.FULL_DATA_ROLES)
_FILTERS = FilterSchema()


@dataclass(frozen=True)
class MediaExport:
    """The photos and signatures of a selection, checked and ready to produce."""

    user: Principal
    user_name: str
    filters: dict
    at: datetime
    area_name: str
    filter_text: list[tuple[str, str]]

    @property
    def today(self) -> date:
        return clock.local_day(self.at)

    @property
    def file_name(self) -> str:
        local = self.at.astimezone(clock.CHINA)
        return f"照片和签名_{self.area_name}_{local:%Y%m%d-%H%M}.zip"

    content_type = "application/zip"

    def description(self) -> str:
        local = self.at.astimezone(clock.CHINA)
        return "；".join(f"{name}：{value}" for name, value in (
            ("内容", "照片和签名"),
            ("导出人", f"{self.user_name}（{self.user.username}，"
                       f"{ROLE_NAMES.get(self.user.role, self.user.role)}）"),
            ("导出时间", f"{local:%Y-%m-%d %H:%M:%S}（北京时间）"),
            ("辖区", f"{self.area_name}（{self.user.area_code}）"), *self.filter_text,
            ("说明", "照片含完整身份证号码；本次导出已记入审计日志")))


def prepare_media(session: Session, user: Principal, arguments: Mapping[str, object],
                  at: datetime | None = None) -> MediaExport:
    """The media ZIP ``user`` asks for, or a refusal: FORBIDDEN_ROLE (photos of ID cards show
    full numbers: county and admin only), EXPORT_ARGUMENT_INVALID, AREA_OUTSIDE_SCOPE."""
    check_role(user, MEDIA_ROLES)
    filters = _load(_FILTERS, arguments)
    if "area_code" in filters and not contains(user.area_code, filters["area_code"]):
        raise AppError("AREA_OUTSIDE_SCOPE", area_code=filters["area_code"])
    names = queries.area_names(session, user)
    account = session.get(User, user.id)
    return MediaExport(
        user=user, user_name=account.full_name if account else user.username, filters=filters,
        at=at or clock.now(), area_name=names.get(user.area_code, user.area_code),
        filter_text=describe_filters(DATASETS["households"], filters, names))


def produce_media(database: Database, store, export: MediaExport,
                  progress: Callable[[int], object] | None = None) -> Iterator[bytes]:
    """The ZIP's bytes, streamed; audited when the stream ends, with the files and bytes."""
    packed = media.Packed()
    complete = False
    try:
        with database.unit_of_work() as unit:
            yield from media.zip_chunks(unit.session, store, export.user, export.filters,
                                        export.today, export.description(), packed, progress)
        complete = True
    finally:
        with writing(), database.unit_of_work() as unit:
            record(unit.session, AUDIT_ACTION, "export", "media", export.user.id,
                   dataset="media", format="zip", masked=False,
                   filters={k: v.isoformat() if isinstance(v, date) else v
                            for k, v in export.filters.items()},
                   rows=packed.files, bytes=packed.bytes, complete=complete,
                   file_name=export.file_name)


def media_count(database: Database, export: MediaExport) -> int:
    """How many files the ZIP will list (a progress bar's length)."""
    with database.unit_of_work() as unit:
        query = media.files_query(export.user, export.filters, export.today).order_by(None)
        return int(unit.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
