from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.api import HOUSEHOLD_ID, Text
from server.domain.codes import TABLES
from server.domain.pipeline import Action, Procedure, Status, Step

PROCEDURES = [p.value for p in Procedure]


class CaseSchema(Schema):
    id = fields.Integer(dump_only=True)
    procedure = fields.String(validate=validate.OneOf(PROCEDURES))
    step = fields.String(metadata={"enum": [s.value for s in Step]})
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    origin = fields.String(allow_none=True)
    area_code = fields.String()
    household_id = fields.String(allow_none=True)
    notice_started = fields.Date(allow_none=True)
    opened_at = fields.DateTime()
    step_entered_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    decided_on = fields.Date(allow_none=True, metadata={"description": "A54 风险消除时间"})


class CaseQueryArgsSchema(Schema):
    procedure = fields.String(validate=validate.OneOf(PROCEDURES))
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    step = fields.String(validate=validate.OneOf([s.value for s in Step]))


class CaseCreateSchema(Schema):
    procedure = fields.String(required=True, validate=validate.OneOf(PROCEDURES))
    household_id = fields.String(required=True, validate=HOUSEHOLD_ID)
    origin = fields.String(load_default=None,
                           validate=validate.OneOf(TABLES["case_origin"].codes_list()))


class CaseActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf([a.value for a in Action]))
    opinion = Text(load_default="", validate=validate.Length(max=2000))
