from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.domain.dedup import ConflictKind, Resolution
from server.rest import ShownIdNumber, Text

KINDS = [kind.value for kind in ConflictKind]
RESOLUTIONS = [resolution.value for resolution in Resolution]
CONFLICT_STATUSES = ["open", "resolved"]
FLAG_STATUSES = ["open", "same", "not_same"]


class ConflictSchema(Schema):
    id = fields.Integer()
    submission_id = fields.Integer()
    submission_state = fields.String(metadata={"description": "处理后提交的状态"})
    kind = fields.String(metadata={"enum": KINDS})
    kind_name = fields.String()
    id_number = ShownIdNumber(metadata={"description": "县级以外角色脱敏"})
    member_indexes = fields.List(fields.Integer(), metadata={"description": "提交中第几名成员"})
    households = fields.List(fields.String(), metadata={"description": "涉及的已登记户"})
    area_code = fields.String(metadata={
        "description": "由该区划（覆盖所有涉及区域的最小区划）及以上的审核人处理"})
    status = fields.String(metadata={"enum": CONFLICT_STATUSES})
    resolution = fields.String(allow_none=True, metadata={"description": "、".join(RESOLUTIONS)})
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    resolved_by = fields.Integer(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class ConflictQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(CONFLICT_STATUSES),
                           metadata={"description": "open：待处理（提交暂停中）"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    submission_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class ResolutionSchema(Schema):
    resolution = fields.String(required=True, validate=validate.OneOf(RESOLUTIONS), metadata={
        "description": "same_household 同一户（新登记户即该已登记户：按复查处理）；"
                       "moved 真实迁移（婚嫁、分户、轮流赡养、迁出、跨区域采集属实；须填写理由）；"
                       "entry_error 录入错误（驳回提交，由采集员更正后重发）。"
                       "同一提交中号码重复只能按录入错误处理；原有成员未列入不能按同一户处理"})
    note = Text(load_default="", validate=validate.Length(max=2000))


class FlaggedPersonSchema(Schema):
    """The registry's person behind one side of a flag, when inside the user's area."""

    id = fields.Integer()
    name = fields.String()
    birth_date = fields.Date()
    household_id = fields.String(allow_none=True)
    area_code = fields.String(allow_none=True)


class DuplicateFlagSchema(Schema):
    id = fields.Integer()
    id_number_a = ShownIdNumber(metadata={"description": "县级以外角色脱敏"})
    id_number_b = ShownIdNumber(metadata={"description": "县级以外角色脱敏"})
    person_a = fields.Nested(FlaggedPersonSchema, allow_none=True,
                             metadata={"description": "本辖区外的人员不显示"})
    person_b = fields.Nested(FlaggedPersonSchema, allow_none=True)
    submission_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": FLAG_STATUSES})
    created_at = fields.DateTime()
    decided_by = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class DuplicateFlagQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(FLAG_STATUSES))


class VerdictSchema(Schema):
    same_person = fields.Boolean(required=True, metadata={
        "description": "true：是同一人（须更正录入）；false：不是同一人（记住，不再标记）"})
