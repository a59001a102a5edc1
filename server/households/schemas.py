from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.api import AREA_CODE, HOUSEHOLD_ID, Sort, Text
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
    sort = Sort("area_code", "updated_at", "created_at", "size", "monitoring_type",
                "survey_number", default="area_code")


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    sex = fields.String(metadata={"description": "1 男，2 女（由身份证号码得出）"})
    birth_date = fields.Date()
    id_number = fields.String(metadata={"description": "县级以外角色看到的是脱敏号码"})
    disability_card = fields.String(allow_none=True,
                                    metadata={"description": "残疾人证号码（20位），同样脱敏"})
    household_id = fields.String()
    area_code = fields.String(metadata={"description": "所在户的区划"})
    relation = fields.String(allow_none=True, metadata={"description": "A8 与户主关系"})
    deceased = fields.Boolean()
    death_date = fields.Date(allow_none=True)


class PersonQueryArgsSchema(Schema):
    household_id = fields.String(validate=HOUSEHOLD_ID)
    id_number = Text(validate=validate.Length(min=1, max=40), metadata={
        "description": "按完整身份证号码（或20位残疾人证号码）精确查找；任何角色都可查，"
                       "返回结果仍按角色脱敏"})
    name = Text(validate=validate.Length(min=1, max=50), metadata={"description": "姓名（精确）"})
    area_code = fields.String(validate=AREA_CODE,
                              metadata={"description": "只看此区划（须在本人辖区内）"})
    deceased = fields.Boolean()
    sort = Sort("area_code", "household_id", "name", "birth_date", "id",
                default="area_code,household_id")
