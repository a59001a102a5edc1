from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.domain.deadlines import MAX_LIMIT
from server.domain.monitoring import DUE_NAMES, HALF_YEAR, QUARTER, DueStatus
from server.domain.pipeline import STEPS, Procedure
from server.rest import AREA_CODE, HOUSEHOLD_ID, Text

STATUSES = [s.value for s in DueStatus]
STATUS_DESCRIPTION = "；".join(f"{s.value}：{DUE_NAMES[s]}" for s in DueStatus) + \
    "（期间结束仍无记录即为逾期）"
QUARTER_FIELD = validate.Regexp(QUARTER.pattern, error="季度应写作如 2026Q3")
HALF_YEAR_FIELD = validate.Regexp(HALF_YEAR.pattern, error="半年应写作如 2026H1（上半年）")


class EvaluationCreateSchema(Schema):
    household_id = fields.String(required=True, validate=HOUSEHOLD_ID)
    evaluated_on = fields.Date(required=True, metadata={"description": "评估日期"})
    evaluator = Text(required=True, validate=validate.Length(min=1, max=100),
                     metadata={"description": "评估人（姓名、单位）"})
    result = Text(required=True, validate=validate.Length(min=1, max=4000),
                  metadata={"description": "评估结果（帮扶措施落实情况和成效）"})


class EvaluationSchema(Schema):
    id = fields.Integer()
    household_id = fields.String()
    evaluated_on = fields.Date()
    quarter = fields.String(metadata={"description": "评估所属季度，如 2026Q3"})
    evaluator = fields.String()
    result = fields.String()
    recorded_by = fields.Integer(allow_none=True)
    recorded_at = fields.DateTime()


class EvaluationQueryArgsSchema(Schema):
    household_id = fields.String(validate=HOUSEHOLD_ID)


class EvaluationStatusQueryArgsSchema(Schema):
    quarter = fields.String(validate=QUARTER_FIELD,
                            metadata={"description": "季度，如 2026Q3；默认本季度"})
    status = fields.String(validate=validate.OneOf(STATUSES),
                           metadata={"description": STATUS_DESCRIPTION})
    area_code = fields.String(validate=AREA_CODE)


class EvaluationStatusSchema(Schema):
    household_id = fields.String()
    area_code = fields.String()
    head_name = fields.String(allow_none=True)
    monitored_since = fields.Date(metadata={"description": "识别认定为监测对象的日期"})
    quarter = fields.String(attribute="period")
    status = fields.String(metadata={"enum": STATUSES, "description": STATUS_DESCRIPTION})
    evaluations_in_quarter = fields.Integer(attribute="evaluations_in_period")
    last_evaluated_on = fields.Date(allow_none=True)


class SweepCreateSchema(Schema):
    area_code = fields.String(required=True, validate=AREA_CODE,
                              metadata={"description": "县（6位）或乡镇（9位）区划代码"})
    half_year = fields.String(required=True, validate=HALF_YEAR_FIELD,
                              metadata={"description": "如 2026H1（上半年）、2026H2（下半年）"})


class SweepSchema(Schema):
    id = fields.Integer()
    area_code = fields.String()
    half_year = fields.String(attribute="period")
    starts_on = fields.Date()
    ends_on = fields.Date()
    opened_by = fields.Integer(allow_none=True)
    opened_at = fields.DateTime()
    households = fields.Integer(metadata={"description": "应排查户数（本辖区）"})
    checked = fields.Integer(metadata={"description": "已登记台账户数（本辖区）"})
    status = fields.String(metadata={"enum": STATUSES, "description": STATUS_DESCRIPTION})


class SweepQueryArgsSchema(Schema):
    half_year = fields.String(validate=HALF_YEAR_FIELD)


class LedgerRowCreateSchema(Schema):
    household_id = fields.String(required=True, validate=HOUSEHOLD_ID)
    checked_on = fields.Date(required=True, metadata={"description": "核查日期（本半年内）"})
    finding = Text(required=True, validate=validate.Length(min=1, max=4000),
                   metadata={"description": "排查结果"})


class LedgerRowSchema(Schema):
    id = fields.Integer()
    sweep_id = fields.Integer()
    household_id = fields.String()
    checked_on = fields.Date()
    finding = fields.String()
    recorded_by = fields.Integer(allow_none=True)
    recorded_at = fields.DateTime()


class SweepHouseholdQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES),
                           metadata={"description": STATUS_DESCRIPTION})


class SweepHouseholdSchema(Schema):
    household_id = fields.String()
    area_code = fields.String()
    head_name = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": STATUSES, "description": STATUS_DESCRIPTION})
    rows = fields.Integer(metadata={"description": "本次排查的台账行数"})
    last_checked_on = fields.Date(allow_none=True)
    finding = fields.String(allow_none=True, metadata={"description": "最近一次排查结果"})


STEP_NAMES_ALL = sorted({s.value for steps in STEPS.values() for s in steps} | {"whole"})


class DeadlineSchema(Schema):
    province = fields.String(validate=validate.Regexp(r"^[0-9]{2}$"))
    procedure = fields.String(required=True,
                              validate=validate.OneOf([p.value for p in Procedure]))
    step = fields.String(required=True, validate=validate.OneOf(STEP_NAMES_ALL),
                         metadata={"description": "环节；whole 表示整个程序"})
    workdays = fields.Integer(required=True, allow_none=True,
                              validate=validate.Range(min=0, max=MAX_LIMIT),
                              metadata={"description": "时限（工作日）；null 表示取消时限"})
    document = Text(load_default="", validate=validate.Length(max=200),
                    metadata={"description": "依据（文件）"})
