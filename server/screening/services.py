"""Use cases of department warning lists: import (CSV or XLSX), village tasks, check results.

A county user uploads a list with the columns 部门, 身份证号码, 原因, 日期 (department, ID
number, reason, date). Each row's ID is validated (domain.idnumber) and matched to a person of
the registry inside the uploader's area; matched rows become tasks of the household's village,
rows that match nobody are reported back, invalid rows say which rule failed. The file itself is
kept in the media store. A village (or township) user feeds back the result of the home check
with an outcome code (codes: warning_check_outcome); outcome 02 opens an identification case
whose origin is 部门筛查预警 (SPEC §6: 部门筛查、集中交办、入户核查、结果反馈).

The file comes from outside: it is read defensively. Choices (product decisions):
- the type is taken from the extension (.csv or .xlsx) and checked against the content (an
  XLSX is a ZIP); anything else, legacy .xls included, is refused with what to do instead;
- a CSV is UTF-8 (with or without BOM) or, failing that, GB18030/GBK: Excel on Chinese Windows
  saves "CSV (逗号分隔)" in GBK;
- the header is the first of the first ten rows that names every column (a title row above it
  is allowed); 身份证号 and 公民身份号码 are accepted for 身份证号码; row numbers are those of the
  file (as Excel shows them), blank rows skipped;
- at most ``MAX_LIST_BYTES`` per file and ``MAX_ROWS`` rows; an XLSX may unpack to at most
  ``MAX_XLSX_UNPACKED`` bytes in at most ``MAX_XLSX_PARTS`` parts (no zip bombs); openpyxl
  parses with defusedxml (no entities), and any failure of it is a 400, never a 500;
- a row needs a department and a reason; the date is optional, in YYYY-MM-DD, YYYY/MM/DD,
  YYYY.MM.DD, YYYYMMDD or YYYY年M月D日, not after today. What Excel makes of a date is read
  too: a date cell of an XLSX; a date-time as Excel writes it into a CSV (``2026/11/3 0:00``,
  any time of day ignored); a serial day number (``46329``: a date column formatted as a
  number), taken only for 2000-01-01 (serial 36526) or later so that a bare year is not read
  as one. A date that is there but cannot be read (``2021-13-01``) keeps the row out as
  invalid, with why: the county corrects it and uploads the list again, which no longer
  duplicates the tasks of the rows already taken;
- the original file is served with the charset it was read in (``utf-8``, ``gbk``, or
  ``gb18030`` for what GBK cannot encode).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import BinaryIO

from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from media.store import MediaNotFound, MediaStore
from media.uploads import UploadedFile
from server.areas.models import Area
from server.audit.services import record
from server.auth import Principal, check_role, within
from server.clock import local_day
from server.db import utcnow
from server.domain.areas import contains
from server.domain.catalogue import CatalogueError, Message
from server.domain.codes import WARNING_CHECK_OUTCOME
from server.domain.files import clean_filename
from server.domain.idnumber import IdNumberError, parse
from server.domain.pipeline import Procedure
from server.domain.roles import Role
from server.domain.warnings import covered_by_check, task_key
from server.errors import AppError
from server.households.models import Household, Person
from server.pipeline.services import open_case
from server.screening.models import WarningList, WarningRow
from server.submissions.media import store_media

# Header name → field; a column may go by more than one name.
COLUMNS = {"部门": "department", "身份证号码": "id_number", "身份证号": "id_number",
           "公民身份号码": "id_number", "原因": "reason", "日期": "date"}
REQUIRED = ("department", "id_number", "reason", "date")
HEADER_NAMES = {"department": "部门", "id_number": "身份证号码", "reason": "原因", "date": "日期"}

MAX_LIST_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_XLSX_UNPACKED = 50 * 1024 * 1024
MAX_XLSX_PARTS = 1_000
_MAX_COLUMNS = 64  # cells read per row: a list has four columns, a few more are tolerated
_MAX_SCANNED_ROWS = 3 * MAX_ROWS  # blank rows included (an XLSX can declare a million)
_HEADER_SEARCH = 10
DEPARTMENT_MAX = 100  # warning_rows.department is String(100)
REASON_MAX = 1_000
_MATCH_BATCH = 500

STATUSES = ("matched", "joined", "already_checked", "unmatched", "invalid")
CHECKING_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP})
OUTCOME_NOT_AT_RISK, OUTCOME_TO_IDENTIFICATION, OUTCOME_UNVERIFIABLE = "01", "02", "03"
ORIGIN_DEPARTMENT_WARNING = "03"  # codes: case_origin 部门筛查预警

CONTENT_TYPES = {"csv": "text/csv",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CSV_CHARSETS = ("utf-8", "gbk", "gb18030")  # tried in this order (UTF-8 with or without BOM)

_ZIP_MAGIC = b"PK\x03\x04"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE = re.compile(r"(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))"
                   r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_EXCEL_SERIAL = re.compile(r"(\d{5})(?:\.\d+)?")
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, past Excel's phantom 1900-02-29
_EXCEL_FIRST = 36526  # 2000-01-01: smaller numbers are not taken for serial dates
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


@dataclass(frozen=True)
class ImportReport:
    list_id: int
    matched: int  # rows that opened a task
    unmatched: list[int]  # row numbers (WARNING_ROW_UNMATCHED)
    invalid: dict[int, Message]  # row number → what is wrong
    joined: int = 0  # rows counted on a task already open (this list's or an earlier one)
    # row number → which check (WARNING_ROW_ALREADY_CHECKED)
    already_checked: dict[int, Message] = field(default_factory=dict)


def unreadable(reason: str, **params: object) -> AppError:
    """WARNING_LIST_UNREADABLE, saying why: a ``reason`` code of the catalogue, its values."""
    return AppError("WARNING_LIST_UNREADABLE", reason=Message(reason, **params))


def list_kind(filename: str, content: bytes) -> str:
    """``csv`` or ``xlsx`` from the extension, checked against the content."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    is_zip = content.startswith(_ZIP_MAGIC)
    if not content:
        raise unreadable("LIST_EMPTY")
    if extension == "xlsx":
        if not is_zip:
            raise unreadable("LIST_XLSX_NOT_ZIP")
        return "xlsx"
    if extension == "csv":
        if is_zip:
            raise unreadable("LIST_CSV_IS_ZIP")
        return "csv"
    if extension in ("xls", "et", "wps"):
        raise unreadable("LIST_LEGACY_EXCEL")
    raise unreadable("LIST_FILE_TYPE")


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(row number, values by field) of every non-blank row under the header."""
    kind = list_kind(filename, content)
    lines = _xlsx_lines(content) if kind == "xlsx" else _csv_lines(content)
    header_at, header = _find_header(lines)
    rows = []
    for number, line in lines:
        if number <= header_at or not any(cell.strip() for cell in line):
            continue
        if len(rows) == MAX_ROWS:
            raise unreadable("LIST_TOO_MANY_ROWS", limit=MAX_ROWS)
        rows.append((number, {name: _clean(line[i]) if i < len(line) else ""
                              for name, i in header.items()}))
    return rows


def _find_header(lines: Iterator[tuple[int, list[str]]]) -> tuple[int, dict[str, int]]:
    """The first row (of the first ten non-blank) naming every column: field → index."""
    seen, best = 0, {}
    for number, line in lines:
        if not any(cell.strip() for cell in line):
            continue
        header: dict[str, int] = {}
        for index, cell in enumerate(line):
            name = "".join(cell.split())
            if name in COLUMNS:
                header.setdefault(COLUMNS[name], index)
        if all(name in header for name in REQUIRED):
            return number, header
        best = max(best, header, key=len)
        seen += 1
        if seen == _HEADER_SEARCH:
            break
    if not seen:
        raise unreadable("LIST_EMPTY")
    missing = [HEADER_NAMES[name] for name in REQUIRED if name not in best]
    raise unreadable("LIST_HEADER_MISSING", columns="、".join(missing))


def csv_charset(content: bytes) -> str:
    """The charset a CSV is read in: UTF-8 (BOM or not), else GBK, else GB18030."""
    for charset in CSV_CHARSETS:
        try:
            content.decode(charset)
        except UnicodeDecodeError:
            continue
        return charset
    raise unreadable("LIST_CSV_ENCODING")


def _csv_lines(content: bytes) -> Iterator[tuple[int, list[str]]]:
    if b"\x00" in content:
        raise unreadable("LIST_CSV_NUL")
    charset = csv_charset(content)
    return _csv_records(content.decode("utf-8-sig" if charset == "utf-8" else charset))


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    scanned = 0
    while True:
        try:
            line = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise unreadable("LIST_CSV_MALFORMED", line=reader.line_num) from exc
        scanned += 1
        if scanned > _MAX_SCANNED_ROWS:
            raise unreadable("LIST_TOO_MANY_LINES", limit=_MAX_SCANNED_ROWS)
        yield scanned, line


def _xlsx_lines(content: bytes) -> Iterator[tuple[int, list[str]]]:
    """The first worksheet's rows as text, read only after the ZIP's sizes were checked.

    openpyxl is given untrusted bytes: whatever it raises means "not a readable workbook".
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise unreadable("LIST_XLSX_CORRUPT") from exc
    if len(parts) > MAX_XLSX_PARTS or sum(p.file_size for p in parts) > MAX_XLSX_UNPACKED:
        raise unreadable("LIST_XLSX_TOO_LARGE")
    lines: list[tuple[int, list[str]]] = []
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheets = workbook.worksheets
            if not sheets:
                raise unreadable("LIST_XLSX_NO_SHEET")
            sheet = workbook.active if workbook.active in sheets else sheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True,
                                                         max_col=_MAX_COLUMNS), start=1):
                if number > _MAX_SCANNED_ROWS:
                    raise unreadable("LIST_TOO_MANY_LINES", limit=_MAX_SCANNED_ROWS)
                lines.append((number, ["" if v is None else _cell(v) for v in row]))
        finally:
            workbook.close()
    except AppError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile file may make openpyxl raise anything
        if _caused_by(exc, DefusedXmlException):
            raise unreadable("LIST_XLSX_FORBIDDEN_XML") from exc
        raise unreadable("LIST_XLSX_INVALID") from exc
    return iter(lines)


def _caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, kind):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _cell(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def _clean(text: str) -> str:
    return _CONTROL.sub("", text).strip()


def parse_date(text: str, today: date) -> date | None:
    if not text:
        return None
    text = text.strip()
    serial = _EXCEL_SERIAL.fullmatch(text)
    if serial and int(serial.group(1)) >= _EXCEL_FIRST:
        day_reported = _EXCEL_EPOCH + timedelta(days=int(serial.group(1)))
    else:
        found = _DATE.fullmatch(text)
        if not found:
            raise CatalogueError("WARNING_ROW_DATE_FORMAT")
        year, month, day = found.group(1), found.group(2) or found.group(4), \
            found.group(3) or found.group(5)
        try:
            day_reported = date(int(year), int(month), int(day))
        except ValueError as exc:
            raise CatalogueError("WARNING_ROW_DATE_INVALID", text=text) from exc
    if day_reported > today:
        raise CatalogueError("VALUE_DATE_FUTURE", date=day_reported.isoformat())
    return day_reported


def _row_problem(row: dict[str, str], today: date
                 ) -> tuple[Message | None, str | None, date | None]:
    """(what is wrong or None, the normalised ID, the date)."""
    raw_id = row.get("id_number", "")
    if _SCIENTIFIC.match(raw_id):
        return Message("ID_SCIENTIFIC_NOTATION"), None, None
    try:
        person = parse(raw_id, today)
    except IdNumberError as exc:
        return exc.as_message(), None, None
    if not row.get("department"):
        return Message("WARNING_ROW_DEPARTMENT_MISSING"), person.value, None
    if len(row["department"]) > DEPARTMENT_MAX:
        return Message("WARNING_ROW_DEPARTMENT_TOO_LONG", limit=DEPARTMENT_MAX), person.value, None
    if not row.get("reason"):
        return Message("WARNING_ROW_REASON_MISSING"), person.value, None
    if len(row["reason"]) > REASON_MAX:
        return Message("WARNING_ROW_REASON_TOO_LONG", limit=REASON_MAX), person.value, None
    try:
        reported = parse_date(row.get("date", ""), today)
    except CatalogueError as exc:
        return exc.as_message(), person.value, None
    return None, person.value, reported


def import_warning_list(session: Session, store: MediaStore, user: Principal, filename: str,
                        content: bytes, today: date) -> ImportReport:
    check_role(user, (Role.COUNTY, Role.ADMIN))
    if len(content) > MAX_LIST_BYTES:
        raise AppError("WARNING_LIST_TOO_LARGE", size=len(content), limit=MAX_LIST_BYTES)
    filename = clean_filename(filename, "名单")
    rows = read_rows(filename, content)
    kind = list_kind(filename, content)
    key = store_media(session, store, [UploadedFile("list", io.BytesIO(content),
                                                    content_type(kind, content))])["list"]
    warning_list = WarningList(filename=filename, uploaded_by=user.id,
                               area_code=user.area_code, media_sha256=key)
    session.add(warning_list)
    session.flush()
    entries: list[WarningRow] = []
    invalid: dict[int, Message] = {}
    for number, row in rows:
        problem, id_value, reported = _row_problem(row, today)
        entry = WarningRow(list_id=warning_list.id, row_number=number,
                           department=row.get("department", "")[:DEPARTMENT_MAX],
                           reason=row.get("reason", "")[:REASON_MAX],
                           id_number=id_value or row.get("id_number", "")[:20],
                           reported_on=reported)
        if problem:
            entry.status, entry.error = "invalid", problem.text
            invalid[number] = problem
        entries.append(entry)
    found = _households_of(session, [e.id_number for e in entries if e.status is None],
                           user.area_code)
    unmatched = []
    for entry in entries:
        if entry.status == "invalid":
            continue
        if entry.id_number in found:
            entry.household_id, entry.area_code = found[entry.id_number]
            entry.task_key = task_key(entry.household_id, entry.department, entry.reason)
        else:
            entry.status, entry.error = "unmatched", Message("WARNING_ROW_UNMATCHED").text
            unmatched.append(entry.row_number)
    tasks = [entry for entry in entries if entry.task_key is not None]
    matched, joined, already_checked = _assign_tasks(session, tasks, user.area_code)
    session.add_all(entry for entry in entries if entry.status != "matched")
    session.flush()
    record(session, "warnings.imported", "warning_list", warning_list.id, user.id,
           filename=filename, rows=len(rows), matched=matched, unmatched=len(unmatched),
           invalid=len(invalid), joined=joined, already_checked=len(already_checked))
    return ImportReport(warning_list.id, matched, unmatched, invalid, joined, already_checked)


def _assign_tasks(session: Session, entries: list[WarningRow], area_code: str
                  ) -> tuple[int, int, dict[int, Message]]:
    """Make each matched row a task, or count it on one (``server.domain.warnings``).

    A row joins the open task of its key (an earlier list's, or one an earlier row of this list
    opened); else, when a task of its key was checked on or after the row's date, it is
    reported as already checked; else it opens a task. Imports of one county are serialised
    on the county's area row, and the open tasks found are locked against a check being
    recorded meanwhile (PostgreSQL; SQLite writers are serialised anyway); the unique index
    on open task keys guards the rest. Returns (opened, joined, already checked rows).
    """
    session.scalar(select(Area.code).where(Area.code == area_code[:6])
                   .with_for_update(key_share=True))
    keys = sorted({entry.task_key for entry in entries})
    open_ids: dict[str, int] = {}
    checked: dict[str, tuple[date, int]] = {}  # key → (day of its latest check, that task)
    for start in range(0, len(keys), _MATCH_BATCH):
        batch = keys[start:start + _MATCH_BATCH]
        open_ids.update(session.execute(
            select(WarningRow.task_key, WarningRow.id)
            .where(WarningRow.task_key.in_(batch), WarningRow.status == "matched",
                   WarningRow.check_result.is_(None))
            .with_for_update()).all())
        for key, row_id, checked_at in session.execute(
                select(WarningRow.task_key, WarningRow.id, WarningRow.checked_at)
                .where(WarningRow.task_key.in_(batch), WarningRow.status == "matched",
                       WarningRow.checked_at.is_not(None))):
            day = local_day(checked_at)
            if key not in checked or (day, row_id) > checked[key]:
                checked[key] = (day, row_id)
    opened: dict[str, WarningRow] = {}
    already: dict[int, Message] = {}
    for entry in entries:
        key = entry.task_key
        if key in open_ids or key in opened:
            entry.status = "joined"
        elif key in checked and covered_by_check(entry.reported_on, checked[key][0]):
            day, entry.task_id = checked[key]
            entry.status = "already_checked"
            already[entry.row_number] = Message("WARNING_ROW_ALREADY_CHECKED",
                                                checked_on=day.isoformat(), task_id=entry.task_id)
            entry.error = already[entry.row_number].text
        else:
            entry.status = "matched"
            opened[key] = entry
    session.add_all(opened.values())
    session.flush()  # the new tasks' ids
    joined = 0
    for entry in entries:
        if entry.status == "joined":
            entry.task_id = open_ids.get(entry.task_key) or opened[entry.task_key].id
            joined += 1
    return len(opened), joined, already


def _households_of(session: Session, id_numbers: Iterable[str], area_code: str
                   ) -> dict[str, tuple[str, str]]:
    """ID number → (household id, household area) for the people of the area's registry."""
    wanted = sorted(set(id_numbers))
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), _MATCH_BATCH):
        found.update((number, (household, area)) for number, household, area in session.execute(
            select(Person.id_number, Person.household_id, Household.area_code)
            .join(Household, Household.id == Person.household_id)
            .where(Person.id_number.in_(wanted[start:start + _MATCH_BATCH]),
                   within(area_code, Household.area_code))))
    return found


@dataclass
class HouseholdTasks:
    """A household's warning tasks as the phone's list shows them."""

    open: list[WarningRow] = field(default_factory=list)
    changes: int = 0  # task events so far (each task opens, then closes): bumps __version


def tasks_by_household(session: Session, area_code: str) -> dict[str, HouseholdTasks]:
    tasks: dict[str, HouseholdTasks] = defaultdict(HouseholdTasks)
    for row in session.scalars(select(WarningRow).where(
            WarningRow.status == "matched",
            within(area_code, WarningRow.area_code))
            .order_by(WarningRow.id)):
        entry = tasks[row.household_id]
        entry.changes += 1
        if row.check_result is None:
            entry.open.append(row)
        else:
            entry.changes += 1
    return dict(tasks)


def record_check(session: Session, row_id: int, user: Principal, result: str,
                 outcome: str) -> WarningRow:
    """The result of the home check, fed back to the department's list (once).

    Village users of the household's village and township users above it record it. Outcome
    02 opens an identification case (origin 部门筛查预警) or, when the household already has
    an open one, links that case.
    """
    check_role(user, CHECKING_ROLES)
    if outcome not in WARNING_CHECK_OUTCOME:
        raise AppError("WARNING_OUTCOME_UNKNOWN", outcome=outcome)
    row = session.get(WarningRow, row_id, with_for_update=True)
    if row is None or row.status != "matched" or not contains(user.area_code, row.area_code or ""):
        raise AppError("NOT_FOUND")
    if row.check_result is not None:
        raise AppError("WARNING_ALREADY_CHECKED", checked_at=row.checked_at.date().isoformat()
                       if row.checked_at else "?")
    result = _clean(result)
    if not result:
        raise AppError("WARNING_RESULT_REQUIRED")
    if outcome == OUTCOME_TO_IDENTIFICATION:
        row.case_id = _identification_case(session, row, user)
    row.check_result, row.outcome, row.checked_by, row.checked_at = (
        result, outcome, user.id, utcnow())
    session.flush()
    record(session, "warnings.checked", "warning_row", row.id, user.id, result=result,
           outcome=outcome, case_id=row.case_id, list_id=row.list_id)
    return row


def _identification_case(session: Session, row: WarningRow, user: Principal) -> int:
    try:
        case = open_case(session, Procedure.IDENTIFICATION, row.area_code, user,
                         row.household_id, origin=ORIGIN_DEPARTMENT_WARNING)
    except AppError as error:
        if error.code != "CASE_ALREADY_OPEN":
            raise
        return int(error.params["case_id"])
    return case.id


def list_file(session: Session, store: MediaStore, list_id: int, user: Principal
              ) -> tuple[WarningList, str, BinaryIO]:
    """The uploaded file as received, with its content type (a CSV's in the charset it was
    read in); an export of personal data: logged."""
    warning_list = session.get(WarningList, list_id)
    if warning_list is None or warning_list.media_sha256 is None or \
            not contains(user.area_code, warning_list.area_code):
        raise AppError("NOT_FOUND")
    try:
        stream = store.open(warning_list.media_sha256)
    except MediaNotFound as exc:
        raise AppError("NOT_FOUND") from exc
    try:
        content = stream.read()  # at most MAX_LIST_BYTES: the charset is read from it
    finally:
        stream.close()
    kind = "xlsx" if warning_list.filename.lower().endswith(".xlsx") else "csv"
    record(session, "warnings.downloaded", "warning_list", warning_list.id, user.id,
           filename=warning_list.filename)
    return warning_list, content_type(kind, content), io.BytesIO(content)


def content_type(kind: str, content: bytes) -> str:
    """The media type of a list file: a CSV names the charset it is read in (one parameter)."""
    if kind == "xlsx":
        return CONTENT_TYPES["xlsx"]
    try:
        charset = csv_charset(content)
    except AppError:
        charset = "utf-8"
    return f"text/csv; charset={charset}"
