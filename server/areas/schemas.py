from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.domain.areas import AreaLevel
from server.rest import AREA_CODE

LEVELS = [level.value for level in AreaLevel]


class AreaSchema(Schema):
    code = fields.String(metadata={"description": "统计用区划代码（有效位数：市4、县6、乡9、村12、"
                                                  "村民小组15）"})
    name = fields.String()
    level = fields.String(metadata={"enum": LEVELS})
    level_name = fields.String(metadata={"description": "级别的中文名称"})
    parent_code = fields.String(allow_none=True)


class AreaQueryArgsSchema(Schema):
    parent_code = fields.String(validate=AREA_CODE, metadata={"description": "只看此区划的下级"})
    level = fields.String(validate=validate.OneOf(LEVELS), metadata={"description": "级别"})


class AreaNameSchema(Schema):
    name = fields.String(required=True, metadata={"description": "区划名称（1–40 个字符）"})
