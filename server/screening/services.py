"""Use cases of department warning lists: import (CSV or XLSX), village tasks, check results.

A county user uploads a list with the columns 部门, 身份证号码, 原因, 日期 (department, ID
number, reason, date). Each row's ID is validated (domain.idnumber) and matched to a person of
the registry inside the uploader's area; matched rows become tasks of the household's village,
rows that match nobody are reported back, invalid rows say which rule failed. The file itself is
kept in the media store.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from media.store import MediaStore
from server.accounts.models import Role
from server.audit.services import record
from server.auth import Principal
from server.db import utcnow
from server.domain.idnumber import IdNumberError, parse
from server.errors import AppError
from server.households.models import Household, Person
from server.screening.models import WarningList, WarningRow
from server.submissions.services import UploadedFile, store_media

COLUMNS = {"部门": "department", "身份证号码": "id_number", "原因": "reason", "日期": "date"}


@dataclass(frozen=True)
class ImportReport:
    list_id: int
    matched: int
    unmatched: list[int]  # row numbers
    invalid: dict[int, str]  # row number → what is wrong


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, with or without BOM) or XLSX file, by the Chinese headers."""
    if filename.lower().endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        lines = [["" if v is None else _cell(v) for v in row]
                 for row in sheet.iter_rows(values_only=True)]
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AppError("BAD_REQUEST", detail="文件应为 UTF-8 编码的 CSV 或 XLSX") from exc
        lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        raise AppError("BAD_REQUEST", detail="文件为空")
    header = [h.strip() for h in lines[0]]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise AppError("BAD_REQUEST", detail=f"缺少列：{'、'.join(missing)}")
    return [{COLUMNS[h]: (line[i].strip() if i < len(line) else "")
             for i, h in enumerate(header) if h in COLUMNS}
            for line in lines[1:] if any(cell.strip() for cell in line)]


def _cell(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def import_warning_list(session: Session, store: MediaStore, user: Principal, filename: str,
                        content: bytes, today: date) -> ImportReport:
    if user.role not in (Role.COUNTY, Role.ADMIN):
        raise AppError("FORBIDDEN_ROLE", role=user.role.value)
    rows = read_rows(filename, content)
    key = store_media(session, store, [UploadedFile("list", io.BytesIO(content),
                                                    "application/octet-stream")])["list"]
    warning_list = WarningList(filename=filename, uploaded_by=user.id,
                               area_code=user.area_code, media_sha256=key)
    session.add(warning_list)
    session.flush()
    matched, unmatched, invalid = 0, [], {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        entry = WarningRow(list_id=warning_list.id, row_number=number,
                           department=row.get("department", ""), reason=row.get("reason", ""),
                           id_number=row.get("id_number", "")[:20])
        try:
            person = parse(row.get("id_number", ""), today)
            entry.id_number = person.value
            entry.reported_on = date.fromisoformat(row["date"]) if row.get("date") else None
        except (IdNumberError, ValueError) as exc:
            entry.status = "invalid"
            entry.error = exc.message if isinstance(exc, IdNumberError) else "日期应为 YYYY-MM-DD"
            invalid[number] = entry.error
            session.add(entry)
            continue
        found = session.execute(
            select(Person.household_id, Household.area_code)
            .join(Household, Household.id == Person.household_id)
            .where(Person.id_number == person.value,
                   Household.area_code.startswith(user.area_code, autoescape=True))).first()
        if found:
            entry.status, entry.household_id, entry.area_code = "matched", *found
            matched += 1
        else:
            entry.status = "unmatched"
            unmatched.append(number)
        session.add(entry)
    session.flush()
    record(session, "warnings.imported", "warning_list", warning_list.id, user.id,
           filename=filename, rows=len(rows), matched=matched, unmatched=len(unmatched),
           invalid=len(invalid))
    return ImportReport(warning_list.id, matched, unmatched, invalid)


def open_tasks(session: Session, area_code: str) -> list[WarningRow]:
    """Matched rows not yet checked, inside ``area_code`` (a village's or helper's list)."""
    return list(session.scalars(select(WarningRow).where(
        WarningRow.status == "matched", WarningRow.check_result.is_(None),
        WarningRow.area_code.startswith(area_code, autoescape=True)).order_by(WarningRow.id)))


def record_check(session: Session, row_id: int, user: Principal, result: str) -> WarningRow:
    """The result of the home check, fed back to the department's list."""
    row = session.get(WarningRow, row_id)
    if row is None or row.status != "matched" or not (row.area_code or "").startswith(
            user.area_code):
        raise AppError("NOT_FOUND")
    if not result.strip():
        raise AppError("REASON_REQUIRED")
    row.check_result, row.checked_by, row.checked_at = result.strip(), user.id, utcnow()
    session.flush()
    record(session, "warnings.checked", "warning_row", row.id, user.id, result=result.strip())
    return row
