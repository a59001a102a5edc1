"""The photos and signatures of a selection of households as one ZIP, streamed (issue 14).

Named so that a person finds a household's files: ``<乡镇>/<村>/<户主姓名>_<户编号>/<字段>_<n>.jpg``
— the field by its Chinese label (户口簿照片, 申请人签字, 身份证照片 …), ``n`` counting that
household's files of the field from the oldest submission — with ``manifest.csv`` at the root
(UTF-8 with a BOM, a description line like the CSV exports, then one row per file: its path in
the ZIP, the household, the field, the submission, the form, when it was received, the phone's
file name, SHA-256, size, and 已打包 or why not: 手机未上传 when the phone has not sent it yet,
存储中缺失 when the store lacks it).

The files are the attachments of the submissions taken in for the households (surveys, risk
elimination, self-declaration; ``Submission.household_id``, state applied), read from the media
store a megabyte at a time and written *stored* (photos do not deflate) into a ZIP that is
itself streamed (``zipfile`` over a non-seekable sink): constant memory, at about the disk's
speed. Photos of ID cards and the household register show full ID numbers, so only roles that
see full numbers (county, admin) may download them (SPEC §7).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from media import MediaNotFound
from server.auth import Principal, within
from server.clock import CHINA
from server.exports.queries import area_names, area_parts, household_filters
from server.exports.xlsx import StreamSink
from server.forms.models import Form, FormVersion
from server.households.models import Household, Person
from server.households.queries import file_label
from server.submissions.models import (
    MediaObject,
    Submission,
    SubmissionAttachment,
    SubmissionState,
)

CHUNK = 1 << 20
MANIFEST = "manifest.csv"
_HEAD = aliased(Person, name="media_head")
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
               "application/pdf": "pdf"}
# What cannot be in a path component of a ZIP opened on Windows or Linux.
_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')
MANIFEST_HEADERS = ("文件", "乡镇（街道）", "村（社区）", "户编号", "户主姓名", "字段", "字段名",
                    "提交编号", "表单", "接收时间", "原文件名", "SHA-256", "字节数", "状态")


def files_query(user: Principal, filters: Mapping, today: date) -> Select:
    """The attachments of the applied submissions of the user's households that the filters
    keep, by household (area, id), then submission (oldest first), then name."""
    query = (select(Household.id.label("household_id"), Household.area_code,
                    _HEAD.name.label("head_name"), Submission.id.label("submission_id"),
                    Submission.received_at, Form.title.label("form_title"),
                    SubmissionAttachment.name, SubmissionAttachment.field_path,
                    SubmissionAttachment.media_sha256, MediaObject.size,
                    MediaObject.content_type)
             .select_from(SubmissionAttachment)
             .join(Submission, Submission.id == SubmissionAttachment.submission_id)
             .join(FormVersion, FormVersion.id == Submission.form_version_id)
             .join(Form, Form.id == FormVersion.form_id)
             .join(Household, Household.id == Submission.household_id)
             .outerjoin(_HEAD, _HEAD.id == Household.head_person_id)
             .outerjoin(MediaObject, MediaObject.sha256 == SubmissionAttachment.media_sha256)
             .where(Submission.state == SubmissionState.APPLIED.value,
                    SubmissionAttachment.field_path != "",
                    within(user, Household.area_code)))
    if "area_code" in filters:
        query = query.where(within(filters["area_code"], Household.area_code))
    query = household_filters(query, filters, today)
    return query.order_by(Household.area_code, Household.id, Submission.received_at,
                          Submission.id, SubmissionAttachment.name)


def _part(text: str | None, fallback: str) -> str:
    cleaned = _UNSAFE.sub("_", (text or "").strip()).strip(". ")
    return cleaned[:60] or fallback


@dataclass
class Packed:
    files: int = 0
    bytes: int = 0


def zip_chunks(session: Session, store, user: Principal, filters: Mapping, today: date,
               description: str, packed: Packed,
               progress: Callable[[int], object] | None = None) -> Iterator[bytes]:
    """The ZIP's bytes: every file of the selection, then ``manifest.csv``; ``packed`` counts
    the files and bytes written as they go."""
    names = area_names(session, user)
    sink = StreamSink()
    book = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    manifest = io.StringIO()
    writer = csv.writer(manifest, lineterminator="\r\n")
    writer.writerow([f"# {description}"])
    writer.writerow(MANIFEST_HEADERS)
    counts: dict[tuple[str, str], int] = {}
    rows = session.execute(files_query(user, filters, today),
                           execution_options={"yield_per": 1000})
    for row in rows:
        where = area_parts(names, row.area_code)
        field = row.field_path.rsplit("/", 1)[-1]
        label = file_label(field)
        key = (row.household_id, field)
        counts[key] = counts.get(key, 0) + 1
        extension = _EXTENSIONS.get(row.content_type or "") or (
            row.name.rsplit(".", 1)[-1].lower() if "." in row.name else "bin")
        folder = "/".join((_part(where["township"], row.area_code[:9]),
                           _part(where["village"], row.area_code[:12]),
                           f"{_part(row.head_name, '无户主')}_{row.household_id}"))
        path = f"{folder}/{_part(label, field)}_{counts[key]}.{_part(extension, 'bin')}"
        state = "已打包"
        if row.media_sha256 is None:
            state = "手机未上传"
        else:
            try:
                source = store.open(row.media_sha256)
            except MediaNotFound:
                state = "存储中缺失"
            else:
                with source, book.open(path, "w", force_zip64=True) as entry:
                    while chunk := source.read(CHUNK):
                        entry.write(chunk)
                        packed.bytes += len(chunk)
                        data = sink.take()
                        if data:
                            yield data
                packed.files += 1
        if progress is not None:
            progress(1)
        received = row.received_at.astimezone(CHINA) if isinstance(
            row.received_at, datetime) else row.received_at
        writer.writerow((path if state == "已打包" else "", where["township"] or "",
                         where["village"] or "", row.household_id, row.head_name or "", label,
                         field, row.submission_id, row.form_title,
                         f"{received:%Y-%m-%d %H:%M:%S}" if received else "", row.name,
                         row.media_sha256 or "", row.size if row.size is not None else "",
                         state))
    book.writestr(MANIFEST, "\ufeff" + manifest.getvalue())
    book.close()
    data = sink.take()
    if data:
        yield data
