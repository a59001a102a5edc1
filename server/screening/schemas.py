from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from server.domain.codes import TABLES
from server.rest import AREA_CODE, ShownIdNumber, Text
from server.screening.services import STATUSES

OUTCOMES = TABLES["warning_check_outcome"].codes_list()
ID_DESCRIPTION = "县级、管理员以外的角色看到的是脱敏号码"


class WarningListSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    uploaded_by = fields.Integer()
    uploaded_at = fields.DateTime()
    area_code = fields.String()
    total = fields.Integer(metadata={"description": "名单行数（空行除外）"})
    matched = fields.Integer(metadata={"description": "匹配到农户并交办核查任务的行"})
    joined = fields.Integer(metadata={
        "description": "该户同一部门、同一原因已有未反馈任务的行（计入该任务，不另交办）"})
    already_checked = fields.Integer(metadata={
        "description": "该户同一部门、同一原因的预警已核查、且日期不晚于核查日的行（不再交办）"})
    unmatched = fields.Integer(metadata={"description": "本辖区登记册中查无此人的行"})
    invalid = fields.Integer(metadata={"description": "身份证号码、日期等有误的行"})
    open_tasks = fields.Integer(metadata={"description": "尚未反馈核查结果的任务"})


class WarningRowSchema(Schema):
    id = fields.Integer()
    list_id = fields.Integer()
    row_number = fields.Integer(metadata={"description": "在上传文件中的行号"})
    department = fields.String()
    id_number = ShownIdNumber(metadata={"description": ID_DESCRIPTION})
    person_name = fields.String(allow_none=True, metadata={"description": "匹配到的人员姓名"})
    reason = fields.String(metadata={"description": "部门的预警原因"})
    reported_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    error = fields.String(allow_none=True, metadata={"description": "未匹配或无效的原因"})
    household_id = fields.String(allow_none=True)
    area_code = fields.String(allow_none=True)
    open = fields.Boolean(metadata={"description": "已匹配且尚未反馈核查结果"})
    check_result = fields.String(allow_none=True, metadata={"description": "入户核查情况"})
    outcome = fields.String(allow_none=True, metadata={"enum": OUTCOMES})
    outcome_label = fields.String(allow_none=True)
    checked_by = fields.Integer(allow_none=True)
    checked_at = fields.DateTime(allow_none=True)
    case_id = fields.Integer(allow_none=True, metadata={"description": "结果为02时开启的识别案件"})
    task_id = fields.Integer(allow_none=True, metadata={
        "description": "joined、already_checked 行计入的核查任务"})
    joined_rows = fields.Integer(metadata={
        "description": "任务：各名单中计入本任务的重复预警行数"})


class WarningListDetailSchema(WarningListSchema):
    rows = fields.List(fields.Nested(WarningRowSchema),
                       metadata={"description": "名单各行（可按状态筛选）"})


class RowProblemSchema(Schema):
    row_number = fields.Integer()
    department = fields.String()
    id_number = ShownIdNumber(metadata={"description": ID_DESCRIPTION})
    reason = fields.String()
    problem = fields.String(metadata={"description": "未匹配、无效或已核查的说明"})
    problem_code = fields.String(metadata={
        "description": "说明的代码（见 GET /api/v1/error-codes），如 WARNING_ROW_UNMATCHED、"
                       "ID_CHECKSUM、WARNING_ROW_ALREADY_CHECKED"})
    task_id = fields.Integer(allow_none=True, metadata={"description": "已核查的任务"})


class ImportReportSchema(Schema):
    list = fields.Nested(WarningListSchema)
    matched = fields.Integer()
    unmatched = fields.Integer()
    invalid = fields.Integer()
    joined = fields.Integer(metadata={"description": "计入已开启任务的重复行"})
    already_checked = fields.Integer(metadata={"description": "该任务已核查、不再交办的行"})
    unmatched_rows = fields.List(fields.Nested(RowProblemSchema))
    invalid_rows = fields.List(fields.Nested(RowProblemSchema))
    already_checked_rows = fields.List(fields.Nested(RowProblemSchema), metadata={
        "description": "已核查的行：日期不晚于该户同一部门、同一原因的核查日"})


class WarningUploadSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "CSV（UTF-8 或 GBK）或 XLSX，表头：部门、身份证号码、原因、日期"})


class WarningRowQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))


class WarningTaskQueryArgsSchema(Schema):
    open = fields.Boolean(metadata={"description": "true：未反馈；false：已反馈"})
    list_id = fields.Integer(validate=validate.Range(min=1, max=2147483647))
    area_code = fields.String(validate=AREA_CODE,
                              metadata={"description": "只看此区划（须在本人辖区内）"})
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))


class WarningCheckSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES), metadata={
        "description": "01 已核查，无返贫致贫风险；02 已核查，纳入监测识别程序（开启识别案件）；"
                       "03 无法核实（在 result 中写明原因）"})
    result = Text(required=True, validate=validate.Length(min=1, max=2000),
                  metadata={"description": "入户核查情况"})
