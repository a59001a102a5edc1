from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from server.domain.codes import TABLES
from server.domain.fields import (
    ELIMINATION_DATE,
    MEASURES,
    MONITORING_TYPE,
    code_span,
    fields_of_stage,
)
from server.domain.pipeline import SIGNER_NAMES, Action, Procedure, Signer, Status, Step
from server.rest import AREA_CODE, HOUSEHOLD_ID, Sort, Text

PROCEDURES = [p.value for p in Procedure]


def _timing(field: type[fields.Field], name: str, description: str, **kwargs) -> fields.Field:
    """A dump-only field of the case's ``timing``: the dumped object is a
    ``server.pipeline.queries.CaseView``, whose timing the read service computed."""
    return field(attribute=f"timing.{name}", dump_only=True,
                 metadata={"description": description}, **kwargs)


class CaseSchema(Schema):
    id = fields.Integer(dump_only=True)
    procedure = fields.String(validate=validate.OneOf(PROCEDURES))
    step = fields.String(metadata={"enum": [s.value for s in Step]})
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    origin = fields.String(allow_none=True)
    area_code = fields.String()
    household_id = fields.String(allow_none=True)
    declaration_id = fields.Integer(allow_none=True,
                                    metadata={"description": "启动案件的自主申报"})
    notice_started = fields.Date(allow_none=True, metadata={
        "description": "公示开始日期（退回公示环节时重新开始）"})
    notice_can_end_on = fields.Date(dump_only=True, allow_none=True, metadata={
        "description": "公示最早可以结束的日期（公示期满后一日；不在公示环节时为空）"})
    opened_at = fields.DateTime()
    step_entered_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    decided_on = fields.Date(allow_none=True,
                             metadata={"description": ELIMINATION_DATE.caption})
    # Deadlines (server.domain.deadlines): working days; limits are per-province data.
    age_in_step_workdays = _timing(fields.Integer, "age_in_step",
                                   "在当前环节已停留的工作日数（已办结的算到办结日）")
    step_deadline = _timing(fields.Date, "step_deadline",
                            "当前环节办理时限的最后一个工作日（未设时限为空）", allow_none=True)
    step_overdue = _timing(fields.Boolean, "step_overdue", "当前环节已超时")
    age_workdays = _timing(fields.Integer, "age", "自开启以来的工作日数")
    case_deadline = _timing(fields.Date, "deadline",
                            "整个程序办理时限的最后一个工作日（未设时限为空）", allow_none=True)
    case_overdue = _timing(fields.Boolean, "overdue", "整个程序已超时")
    overdue = _timing(fields.Boolean, "any_overdue", "已超时（当前环节或整个程序）")
    workdays_estimated = _timing(
        fields.Boolean, "workdays_estimated",
        "工作日数或时限涉及国务院尚未公布节假日安排的年份：按法定节假日规则推算，"
        "不含当年的调休上班日")
    workdays_note = _timing(fields.String, "workdays_note",
                            "推算说明（workdays_estimated 为真时）", allow_none=True)


class CaseQueryArgsSchema(Schema):
    procedure = fields.String(validate=validate.OneOf(PROCEDURES))
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    step = fields.String(validate=validate.OneOf([s.value for s in Step]))
    household_id = fields.String(validate=HOUSEHOLD_ID, metadata={"description": "只看此户"})
    area_code = fields.String(validate=AREA_CODE, metadata={
        "description": "只看此区划及其下级（区划代码前缀，须在本人辖区内）"})
    origin = fields.String(validate=validate.OneOf(TABLES["case_origin"].codes_list()),
                           metadata={"description": "案件来源（代码表 case_origin）"})
    monitoring_type = fields.String(
        validate=validate.OneOf(TABLES[MONITORING_TYPE.table].codes_list()),
        metadata={"description": f"只看此类型（{MONITORING_TYPE.caption}）农户的案件"})
    sort = Sort("id", "opened_at", "step_entered_at", "area_code", default="id")
    overdue = fields.Boolean(metadata={
        "description": "只列出（true）或排除（false）超时的未办结案件：当前环节或整个程序超时"})


class CaseCreateSchema(Schema):
    procedure = fields.String(required=True, validate=validate.OneOf(PROCEDURES))
    household_id = fields.String(required=True, validate=HOUSEHOLD_ID)
    origin = fields.String(load_default=None,
                           validate=validate.OneOf(TABLES["case_origin"].codes_list()))


class CaseActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf([a.value for a in Action]))
    opinion = Text(load_default="", validate=validate.Length(max=2000))


# --- steps, signatures, objections, contacts, bulk actions, measures -----------------------

CASE_ID = validate.Range(min=1, max=2**31 - 1, error="案件编号无效")
_NOT_BLANK = validate.Regexp(r"\S", error="不能为空")


def _signature_part(signer: Signer) -> fields.List:
    """The multipart part ``signature_<signer>``: that signer's signature image(s)."""
    return fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}),
                       metadata={"description": f"{SIGNER_NAMES[signer]}的签名图片"})


class CaseActionFormSchema(CaseActionSchema):
    """The same action as multipart/form-data, with the signatures taken at the step and the
    documents that go with it."""

    signature = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        metadata={"description": "不指明签字人的签名图片（JPEG/PNG/WebP/GIF，可多个；"
                                 "与下列签名合计最多10个）；不计入签字要求"})
    signature_applicant = _signature_part(Signer.APPLICANT)
    signature_household_head = _signature_part(Signer.HOUSEHOLD_HEAD)
    signature_village_secretary = _signature_part(Signer.VILLAGE_SECRETARY)
    signature_township_secretary = _signature_part(Signer.TOWNSHIP_SECRETARY)
    signature_township_head = _signature_part(Signer.TOWNSHIP_HEAD)
    attachment = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        metadata={"description": "附件：公示照片、评议会议记录、盖章的附件3等（图片或 PDF，"
                                 "可多个，最多10个）"})


SIGNERS_DESCRIPTION = ("签字人：applicant 申请人、household_head 户主、"
                       "village_secretary 村支部书记、township_secretary 乡镇党委书记、"
                       "township_head 乡镇长；"
                       "verification_team 核实小组（手机表单）；未指明为空")


class SignatureLinkSchema(Schema):
    key = fields.String(metadata={"description": "文件的 SHA-256"})
    signer = fields.String(allow_none=True, metadata={"description": SIGNERS_DESCRIPTION})
    url = fields.String(metadata={"description": "下载地址"})


class AttachmentLinkSchema(Schema):
    key = fields.String(metadata={"description": "文件的 SHA-256"})
    name = fields.String(metadata={"description": "上传时的文件名"})
    content_type = fields.String(metadata={
        "description": "文件类型（按文件内容判定：image/jpeg、image/png、application/pdf 等）"})
    size = fields.Integer(metadata={"description": "字节数"})
    url = fields.String(metadata={"description": "下载地址（下载记入审计日志）"})


class ActorSchema(Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True, metadata={"description": "姓名"})
    role = fields.String(allow_none=True, metadata={"description": "角色"})


class CaseEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime(metadata={"description": "办理时间"})
    user = fields.Nested(ActorSchema, metadata={"description": "办理人"})
    action = fields.String(metadata={
        "enum": ["open", *[a.value for a in Action]],
        "description": "open 开启、approve 通过、return 退回、reject 驳回"})
    from_step = fields.String(allow_none=True)
    from_step_name = fields.String(allow_none=True)
    to_step = fields.String(allow_none=True)
    to_step_name = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    opinion = fields.String(allow_none=True, metadata={"description": "意见或理由"})
    signatures = fields.List(fields.Nested(SignatureLinkSchema))
    attachments = fields.List(fields.Nested(AttachmentLinkSchema), metadata={
        "description": "办理时上传的附件（公示照片、评议会议记录、盖章的附件3等）"})


class CaseSignatureSchema(Schema):
    key = fields.String()
    url = fields.String()
    source = fields.String(metadata={
        "enum": ["event", "submission"],
        "description": "event：办理时上传；submission：手机表单中的签名"})
    at = fields.DateTime(allow_none=True)
    event_id = fields.Integer(allow_none=True)
    submission_id = fields.Integer(allow_none=True)
    field = fields.String(allow_none=True, metadata={
        "description": "表单字段：team_signature 核实小组、sig_applicant 申请人、"
                       "photo_thumbprint 申请人手印照片、sig_head 户主"})
    signer = fields.String(allow_none=True, metadata={"description": SIGNERS_DESCRIPTION})


class ObjectionSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    raised_at = fields.DateTime()
    raised_by = fields.Integer(allow_none=True)
    text = fields.String(metadata={"description": "异议内容"})
    status = fields.String(metadata={"enum": ["open", "closed"]})
    result = fields.String(allow_none=True, metadata={"description": "核实结果"})
    closed_by = fields.Integer(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class ObjectionCreateSchema(Schema):
    text = Text(required=True, validate=[validate.Length(min=1, max=2000), _NOT_BLANK],
                metadata={"description": "异议内容"})


class ObjectionCloseSchema(Schema):
    result = Text(required=True, validate=[validate.Length(min=1, max=2000), _NOT_BLANK],
                  metadata={"description": "核实结果（必填）"})


class ContactSchema(Schema):
    id = fields.Integer()
    household_id = fields.String()
    name = fields.String()
    unit = fields.String(metadata={"description": "单位"})
    position = fields.String(metadata={"description": "职务"})
    phone = fields.String(allow_none=True, metadata={"description": "县级以外角色脱敏"})
    assigned_at = fields.DateTime()
    assigned_by = fields.Integer(allow_none=True)
    current = fields.Boolean(metadata={"description": "是否为现任联系人"})
    replaced_at = fields.DateTime(allow_none=True)
    replaced_reason = fields.String(allow_none=True, metadata={"description": "更换理由"})


class ContactAssignSchema(Schema):
    name = Text(required=True, validate=[validate.Length(min=1, max=50), _NOT_BLANK])
    unit = Text(required=True, validate=[validate.Length(min=1, max=100), _NOT_BLANK])
    position = Text(required=True, validate=[validate.Length(min=1, max=50), _NOT_BLANK])
    phone = fields.String(load_default=None, validate=validate.Regexp(
        r"^(1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8})$", error="电话应为11位手机号或带区号的固定电话"))
    reason = Text(load_default="", validate=validate.Length(max=2000), metadata={
        "description": "更换理由（已有联系人时必填：调动、退休、生病等）"})


def _unique(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("案件编号重复")


class BulkActionSchema(Schema):
    case_ids = fields.List(
        fields.Integer(strict=True, validate=CASE_ID), required=True,
        validate=[validate.Length(min=1, max=200, error="一次办理1–200件案件"), _unique])
    action = fields.String(required=True, validate=validate.OneOf([a.value for a in Action]))
    opinion = Text(load_default="", validate=validate.Length(max=2000))


class BulkOutcomeSchema(Schema):
    case_id = fields.Integer()
    ok = fields.Boolean()
    step = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    code = fields.String(allow_none=True, metadata={"description": "失败时的错误代码"})
    rule = fields.String(allow_none=True, metadata={
        "description": "规则拒绝时同 code（规则或阻止办理的问题，见 GET /api/v1/error-codes），"
                       "否则为空"})
    message = fields.String(allow_none=True, metadata={"description": "失败原因（中文）"})


class BulkResultSchema(Schema):
    action = fields.String()
    succeeded = fields.Integer()
    failed = fields.Integer()
    results = fields.List(fields.Nested(BulkOutcomeSchema))


MEASURE_FIELDS = [f.name for f in fields_of_stage(2)
                  if f.name not in ("measure_date", "green_channel")]


class MeasureSchema(Schema):
    id = fields.Integer()
    household_id = fields.String()
    source = fields.String(metadata={"enum": ["form", "api"],
                                     "description": "form：措施表单；api：在案件上登记"})
    submission_id = fields.Integer(allow_none=True)
    case_id = fields.Integer(allow_none=True)
    measure_date = fields.Date(metadata={"description": "帮扶措施录入日期"})
    green_channel = fields.Boolean(metadata={
        "description": "帮扶先行（绿色通道）：在识别程序办结前录入"})
    marked_green_channel = fields.Boolean(metadata={"description": "表单中是否勾选“帮扶先行”"})
    values = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": f"{code_span(MEASURES)} 及成效，按字段名（代码如表单：\"01 03\"）"})
    recorded_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class MeasureCreateSchema(Schema):
    measure_date = fields.Date(load_default=None, metadata={
        "description": "录入日期（默认今天；须在案件开启之日至今天之间）"})
    values = fields.Dict(
        keys=fields.String(validate=validate.OneOf(MEASURE_FIELDS)),
        values=Text(validate=validate.Length(max=500)), required=True,
        metadata={"description": f"{code_span(MEASURES)} 及成效，按字段名，"
                                 f"如 {{\"{MEASURES[0].name}\": \"01 03\"}}"})
