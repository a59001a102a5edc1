from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from server.clock import CHINA
from server.rest import Sort, Text

# Times outside these bounds are refused (422) rather than overflowing datetime arithmetic.
TIME_RANGE = validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC),
                            max=datetime(2999, 12, 31, tzinfo=UTC),
                            error="时间应在 2000 年至 2999 年之间")


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    user_id = fields.Integer(allow_none=True, metadata={"description": "空：系统（如提交入库）"})
    username = fields.String(allow_none=True)
    action = fields.String(metadata={"description": "如 submission.corrected、user.created"})
    object_type = fields.String()
    object_id = fields.String()
    details = fields.Dict(keys=fields.String())


class AuditQueryArgsSchema(Schema):
    action = Text(validate=validate.Length(min=1, max=64))
    object_type = Text(validate=validate.Length(min=1, max=32),
                       metadata={"description": "对象类型，如 submission、user、conflict"})
    object_id = Text(validate=validate.Length(min=1, max=64))
    user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    since = fields.AwareDateTime(data_key="from", default_timezone=CHINA, validate=TIME_RANGE,
                                 metadata={"description": "起（含）；不带时区按北京时间"})
    until = fields.AwareDateTime(data_key="to", default_timezone=CHINA, validate=TIME_RANGE,
                                 metadata={"description": "止（不含）；不带时区按北京时间"})
    sort = Sort("at", "id", "action", "object_type", "user_id", default="-at")
