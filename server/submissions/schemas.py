from __future__ import annotations

from datetime import date

from marshmallow import Schema, fields, validate

from server.domain.fields import BY_NAME, ID_NUMBER, WAGES, Kind
from server.rest import (
    HOUSEHOLD_ID,
    ShownIdNumber,
    Sort,
    Text,
    shown_id_number,
    shown_phone,
)
from server.submissions.models import SubmissionState

STATES = [state.value for state in SubmissionState]
# Dates outside these bounds are refused (422) rather than overflowing the datetime arithmetic.
DAY_RANGE = validate.Range(min=date(2000, 1, 1), max=date(2999, 12, 31),
                           error="日期应在 2000-01-01 至 2999-12-31 之间")


class Corrections(fields.Dict):
    """A reviewer's corrections (field name or ``members[n]/field`` → value); ID numbers and
    phone numbers among them masked by role at dump time (SPEC §7). The household's area is the
    submission's, i.e. its submitter's (the dumped object's ``area_code``)."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        area = getattr(obj, "area_code", None)
        return {key: _shown(key, text, area) for key, text in value.items()}


def _shown(key: str, value: str, area_code: str | None) -> str:
    field = BY_NAME.get(key.rsplit("/", 1)[-1])
    if field is None or not value:
        return value
    if field.kind == Kind.ID_NUMBER:
        return shown_id_number(value)
    return shown_phone(value, area_code) if field.kind == Kind.PHONE else value


class ProblemSchema(Schema):
    severity = fields.String(metadata={"enum": ["error", "warning"]})
    code = fields.String()
    field = fields.String(allow_none=True)
    member = fields.Integer(allow_none=True, metadata={"description": "第几名成员（从1起）"})
    message = fields.String()


class AttachmentSchema(Schema):
    name = fields.String()
    field_path = fields.String(allow_none=True, metadata={
        "description": "文件所回答的题目路径；未被表单数据引用的文件为空"})
    referenced = fields.Boolean(metadata={
        "description": "表单数据是否引用此文件（否：手机随提交一并上传的其他文件，"
                       "如题目不再适用后留下的照片；保留备查，不作为表单取值）"})
    received = fields.Boolean(metadata={"description": "文件是否已上传到服务器"})
    size = fields.Integer(allow_none=True)
    content_type = fields.String(allow_none=True)
    url = fields.String(allow_none=True, metadata={"description": "下载地址（已上传时）"})


class SubmissionConflictSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    id_number = ShownIdNumber(metadata={"description": "县级以外角色脱敏"})
    status = fields.String()
    resolution = fields.String(allow_none=True)


class SubmissionSchema(Schema):
    id = fields.Integer()
    instance_id = fields.String()
    form_id = fields.String()
    form_version = fields.String()
    submitter_id = fields.Integer()
    submitter_username = fields.String()
    area_code = fields.String(metadata={"description": "提交人所在区划（提交按此归属辖区）"})
    device_id = fields.String(allow_none=True)
    received_at = fields.DateTime()
    complete = fields.Boolean(metadata={"description": "表单数据引用的文件是否都已收到"})
    state = fields.String(metadata={"enum": STATES})
    household_id = fields.String(allow_none=True)
    applied_at = fields.DateTime(allow_none=True)
    review_note = fields.String(allow_none=True)
    error_count = fields.Integer()
    warning_count = fields.Integer()


class SubmissionDetailSchema(SubmissionSchema):
    problems = fields.List(fields.Nested(ProblemSchema))
    corrections = Corrections(metadata={
        "description": "审核人的更正（字段名或 members[n]/字段名 → 值）；"
                       "身份证号码、电话按角色脱敏"})
    attachments = fields.List(fields.Nested(AttachmentSchema))
    conflicts = fields.List(fields.Nested(SubmissionConflictSchema))


class SubmissionQueryArgsSchema(Schema):
    form_id = Text(validate=validate.Length(min=1, max=64))
    state = fields.String(validate=validate.OneOf(STATES))
    reviewable = fields.Boolean(metadata={
        "description": "true：只看待审核的提交（校验未通过或因冲突暂停）"})
    submitter_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    household_id = fields.String(validate=HOUSEHOLD_ID)
    received_from = fields.Date(validate=DAY_RANGE,
                                metadata={"description": "接收日期起（含，北京时间）"})
    received_to = fields.Date(validate=DAY_RANGE,
                              metadata={"description": "接收日期止（含，北京时间）"})
    sort = Sort("received_at", "id", "state", "form_id", "applied_at", default="-received_at")


class CorrectionSchema(Schema):
    corrections = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=Text(validate=validate.Length(max=500)), required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": f"字段名（如 {WAGES.name}）或 members[n]/字段名（如 "
                                 f"members[2]/{ID_NUMBER.name}）→ 更正后的值"})
    note = Text(load_default="", validate=validate.Length(max=2000))


class RejectionSchema(Schema):
    reason = Text(required=True, validate=validate.Length(max=2000))
