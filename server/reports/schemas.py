"""REST: the county's counts (``GET /api/v1/reports/counts``), dumped from
``server.reports.queries.Counts`` through ``counts_view``."""

from __future__ import annotations

from marshmallow import Schema, fields

from server.rest import AREA_CODE


class CountsQueryArgsSchema(Schema):
    area_code = fields.String(validate=AREA_CODE,
                              metadata={"description": "统计此区划（须在本辖区内；默认本辖区）"})


class TypeCountSchema(Schema):
    code = fields.String(allow_none=True, metadata={"description": "A3 监测对象类型代码"})
    label = fields.String()
    households = fields.Integer()
    people = fields.Integer(metadata={"description": "在册家庭成员（健在）"})


class RiskCountSchema(Schema):
    code = fields.String(metadata={"description": "风险序号 1–14（①–⑭）"})
    label = fields.String()
    households = fields.Integer()


class AreaCountSchema(Schema):
    area_code = fields.String()
    name = fields.String()
    monitored = fields.Integer()
    monitored_people = fields.Integer()
    eliminated = fields.Integer()
    open_cases = fields.Integer()
    overdue_cases = fields.Integer()


class StepCountSchema(Schema):
    procedure = fields.String()
    procedure_name = fields.String()
    step = fields.String()
    step_name = fields.String()
    open = fields.Integer()
    overdue = fields.Integer()
    by_age = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "在本环节的工作日数分组：0–5、6–10、11–20、20+"})


class MonthCountSchema(Schema):
    month = fields.String()
    identified = fields.Integer()
    eliminated = fields.Integer()


class ProgressSchema(Schema):
    monitored = fields.Integer()
    eliminating = fields.Integer()
    eliminated = fields.Integer()
    rate = fields.Decimal(as_string=True, allow_none=True,
                          metadata={"description": "风险消除率（%）"})


class EvaluationCountSchema(Schema):
    period = fields.String()
    households = fields.Integer()
    done = fields.Integer()
    missing = fields.Integer()
    missing_status = fields.String()


class CountsSchema(Schema):
    area_code = fields.String()
    on = fields.Date(metadata={"description": "统计日（北京时间）"})
    monitored = fields.Integer(metadata={"description": "监测对象户数"})
    monitored_people = fields.Integer()
    eliminated = fields.Integer(metadata={"description": "已消除风险户数"})
    surveyed = fields.Integer(
        metadata={"description": "有采集表的监测对象户数（风险按最近一次采集计）"})
    by_type = fields.List(fields.Nested(TypeCountSchema))
    by_risk = fields.List(fields.Nested(RiskCountSchema))
    by_area = fields.List(fields.Nested(AreaCountSchema))
    open_cases = fields.Integer()
    overdue_cases = fields.Integer()
    by_step = fields.List(fields.Nested(StepCountSchema))
    per_month = fields.List(fields.Nested(MonthCountSchema))
    progress = fields.Nested(ProgressSchema)
    evaluations = fields.List(fields.Nested(EvaluationCountSchema))
