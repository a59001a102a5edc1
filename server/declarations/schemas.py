from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.domain.declarations import STATE_LABELS, DeclarationState
from server.domain.fields import BY_NAME, Kind
from server.rest import (
    AREA_CODE,
    HOUSEHOLD_ID,
    ShownIdNumber,
    Sort,
    shown_id_number,
    shown_phone,
)

STATES = [state.value for state in DeclarationState]


class DeclarationValues(fields.Dict):
    """The declaration form's values by field name; ID numbers and phone numbers among them
    masked by role at dump time, each by its kind in ``server.domain.fields`` (a declared
    phone is no registered household's: in full for county and admin only)."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return {name: _shown(name, text) for name, text in value.items()}


def _shown(name: str, value: str) -> str:
    field = BY_NAME.get(name)
    if field is None or not value:
        return value
    if field.kind == Kind.ID_NUMBER:
        return shown_id_number(value)
    return shown_phone(value) if field.kind == Kind.PHONE else value


class DeclarationSchema(Schema):
    id = fields.Integer()
    submission_id = fields.Integer()
    state = fields.String(metadata={"enum": STATES, "description": "处理状态"})
    state_label = fields.String(metadata={"description": "处理状态（中文）"})
    state_changed_at = fields.DateTime(allow_none=True)
    case_id = fields.Integer(allow_none=True, metadata={"description": "启动或并入的识别案件"})
    case_status = fields.String(allow_none=True)
    case_step = fields.String(allow_none=True)
    household_id = fields.String(allow_none=True,
                                 metadata={"description": "申报户在登记册中的农户（未登记为空）"})
    area_code = fields.String(metadata={"description": "申报的住址（区划代码）"})
    head_name = fields.String()
    head_id_number = ShownIdNumber(metadata={"description": "县级以外角色看到的是脱敏号码"})
    on_behalf = fields.Boolean(metadata={"description": "他人代为申报"})
    values = DeclarationValues(metadata={
        "description": "申报表的内容（按字段名；身份证号码、电话按角色脱敏）"})
    created_at = fields.DateTime()


class DeclarationQueryArgsSchema(Schema):
    state = fields.String(validate=validate.OneOf(STATES), metadata={
        "description": "、".join(f"{state.value}：{label}" for state, label in
                                STATE_LABELS.items())})
    area_code = fields.String(validate=AREA_CODE, metadata={
        "description": "只看此区划及其下级（农户所在地，未登记的按申报住址）"})
    household_id = fields.String(validate=HOUSEHOLD_ID)
    case_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    sort = Sort("id", "created_at", "state_changed_at", default="-id")
