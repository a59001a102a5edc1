from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.api import AREA_CODE
from server.domain.codes import TABLES


class HouseholdSchema(Schema):
    id = fields.String()
    area_code = fields.String()
    size = fields.Integer()
    head_name = fields.String(allow_none=True)
    head_id_number = fields.String(allow_none=True,
                                   metadata={"description": "县级以外角色看到的是脱敏号码"})
    phone = fields.String(allow_none=True, metadata={"description": "县级以外角色脱敏"})
    monitoring_type = fields.String(allow_none=True)
    survey_number = fields.Integer(allow_none=True)
    updated_at = fields.DateTime()


class HouseholdQueryArgsSchema(Schema):
    area_code = fields.String(validate=AREA_CODE,
                              metadata={"description": "只看此区划（须在本人辖区内）"})
    monitoring_type = fields.String(validate=validate.OneOf(
        TABLES["a3_monitoring_type"].codes_list()))
