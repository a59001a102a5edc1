from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.domain import codes
from server.domain.fields import (
    BASIC_MEDICAL_INSURANCE,
    BY_NAME,
    ID_NUMBER,
    INCOME_REFERENCE,
    INCOME_REFERENCE_PER_CAPITA,
    MEMBER_UNINSURED,
    MONITORING_TYPE,
    NAME,
    NET_INCOME,
    NET_INCOME_PER_CAPITA,
    RELATION,
    SEX,
    Kind,
)
from server.rest import (
    AREA_CODE,
    HOUSEHOLD_ID,
    ShownIdNumber,
    ShownPhone,
    Sort,
    Text,
    shown_id_number,
    shown_phone,
)


class FormValues(fields.Dict):
    """A survey's values by field name (strings as the form has them); ID numbers and phone
    numbers among them masked by role, each by its kind in ``server.domain.fields``."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        # the household's area as the survey gave it: its village sees its phones in full
        area = value.get("addr_group") or value.get("addr_village") or getattr(
            obj, "area_code", None)
        return {name: _shown(name, text, area) for name, text in value.items()}


def _shown(name: str, text: str, area: str | None) -> str:
    spec = BY_NAME.get(name)
    if spec is not None and spec.kind is Kind.ID_NUMBER:
        return shown_id_number(text)
    if spec is not None and spec.kind is Kind.PHONE:
        return shown_phone(text, area)
    return text


def Money(description: str) -> fields.Decimal:  # noqa: N802 - a field factory
    """Yuan as a decimal string with two places ("15500.00"): exact, never a float (SPEC §3)."""
    return fields.Decimal(as_string=True, allow_none=True, places=2, metadata={
        "type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "5166.67",
        "description": f"{description}（元，精确到分；服务器计算）"})


class HouseholdSchema(Schema):
    id = fields.String()
    area_code = fields.String()
    size = fields.Integer()
    head_name = fields.String(allow_none=True)
    head_id_number = ShownIdNumber(allow_none=True,
                                   metadata={"description": "县级以外角色看到的是脱敏号码"})
    phone = ShownPhone(allow_none=True, metadata={"description": "县级以外角色脱敏"})
    monitoring_type = fields.String(allow_none=True, metadata={
        "description": f"{MONITORING_TYPE.caption}（表上所填）"})
    survey_number = fields.Integer(allow_none=True, metadata={"description": "最新调查的序号"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PhoneDifferenceSchema(Schema):
    field = fields.String(metadata={"description": f"字段名，如 {NET_INCOME_PER_CAPITA.name}"})
    code = fields.String(metadata={"description": "A 编码（家庭人口为空）"})
    phone = fields.String(metadata={"description": "手机端计算的值"})
    server = fields.String(metadata={"description": "服务器计算的值（以此为准）"})


class SurveyProblemSchema(Schema):
    severity = fields.String(metadata={"description": "warning"})
    code = fields.String()
    field = fields.String(metadata={"description": "A 编码或字段名"})
    message = fields.String()
    member = fields.Integer(allow_none=True, metadata={"description": "第几名成员（从1起）"})


class SurveyMemberSchema(Schema):
    index = fields.Integer(metadata={"description": "成员序号（从1起，按表上顺序）"})
    name = fields.String(metadata={"description": NAME.caption})
    id_number = ShownIdNumber(allow_none=True, metadata={
        "description": f"{ID_NUMBER.code} 身份证号码（或20位残疾人证号码），县级以外角色脱敏"})
    sex = fields.String(allow_none=True, metadata={
        "description": f"{SEX.caption}：1 男，2 女（由身份证号码得出，不是手填的）"})
    relation = fields.String(allow_none=True, metadata={"description": RELATION.caption})
    deceased = fields.Boolean()
    values = FormValues(metadata={"description": "该成员在此次调查中的各项取值（按字段名）"})


class SurveyVersionSchema(Schema):
    household_id = fields.String()
    number = fields.Integer(metadata={"description": "本户第几次调查（1, 2, …）"})
    submission_id = fields.Integer()
    form_id = fields.String()
    visit_date = fields.Date(metadata={"description": "入户日期"})
    created_at = fields.DateTime()
    size = fields.Integer(metadata={"description": "家庭人口（服务器按成员计算）"})
    a26_member_uninsured = fields.Boolean(metadata={
        "description": f"{MEMBER_UNINSURED.caption}"
                       f"（服务器由各成员 {BASIC_MEDICAL_INSURANCE.code} 得出）"})
    a33_net_income = Money(NET_INCOME.caption)
    a34_net_income_per_capita = Money(NET_INCOME_PER_CAPITA.caption)
    a37_income_reference = Money(INCOME_REFERENCE.caption)
    a38_income_reference_per_capita = Money(INCOME_REFERENCE_PER_CAPITA.caption)
    proposed_type = fields.String(allow_none=True, metadata={
        "description": f"服务器建议的 {MONITORING_TYPE.caption}（供参考，由人决定）"})
    phone_differs = fields.List(fields.Nested(PhoneDifferenceSchema), metadata={
        "description": "手机端计算值与服务器不一致之处（两者都保留，以服务器为准）"})
    warnings = fields.List(fields.Nested(SurveyProblemSchema), metadata={
        "description": "服务器核验提示（不阻止入库）"})
    values = FormValues(metadata={"description": "户的各项取值（按字段名）"})
    members = fields.List(fields.Nested(SurveyMemberSchema))


class HouseholdMemberSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    sex = fields.String(metadata={"description": f"{SEX.caption}：1 男，2 女（由身份证号码得出）"})
    birth_date = fields.Date()
    id_number = ShownIdNumber(metadata={"description": "县级以外角色看到的是脱敏号码"})
    disability_card = ShownIdNumber(allow_none=True)
    relation = fields.String(allow_none=True, metadata={"description": RELATION.caption})
    deceased = fields.Boolean()
    death_date = fields.Date(allow_none=True)


class HouseholdDetailSchema(HouseholdSchema):
    monitored = fields.Boolean(metadata={
        "description": "今天是否为监测对象（最近办结的程序为县级审定的识别程序）"})
    monitored_since = fields.Date(allow_none=True, metadata={
        "description": "识别认定为监测对象的日期（北京时间）；非监测对象为空"})
    members = fields.List(fields.Nested(HouseholdMemberSchema),
                          metadata={"description": "现有家庭成员（含已故）"})
    latest_survey = fields.Nested(SurveyVersionSchema, allow_none=True, metadata={
        "description": "最新一次调查及服务器计算值；历次调查见 /households/<id>/surveys"})


class HouseholdQueryArgsSchema(Schema):
    area_code = fields.String(validate=AREA_CODE,
                              metadata={"description": "只看此区划（须在本人辖区内）"})
    monitoring_type = fields.String(validate=validate.OneOf(
        codes.MONITORING_TYPE.codes_list()))
    sort = Sort("area_code", "updated_at", "created_at", "size", "monitoring_type",
                "survey_number", default="area_code")


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    sex = fields.String(metadata={"description": "1 男，2 女（由身份证号码得出）"})
    birth_date = fields.Date()
    id_number = ShownIdNumber(metadata={"description": "县级以外角色看到的是脱敏号码"})
    disability_card = ShownIdNumber(allow_none=True,
                                    metadata={"description": "残疾人证号码（20位），同样脱敏"})
    household_id = fields.String()
    area_code = fields.String(metadata={"description": "所在户的区划"})
    relation = fields.String(allow_none=True, metadata={"description": RELATION.caption})
    deceased = fields.Boolean()
    death_date = fields.Date(allow_none=True)


class PersonQueryArgsSchema(Schema):
    household_id = fields.String(validate=HOUSEHOLD_ID)
    name = Text(validate=validate.Length(min=1, max=50), metadata={"description": "姓名（精确）"})
    area_code = fields.String(validate=AREA_CODE,
                              metadata={"description": "只看此区划（须在本人辖区内）"})
    deceased = fields.Boolean()
    sort = Sort("area_code", "household_id", "name", "birth_date", "id",
                default="area_code,household_id")


class PersonSearchSchema(Schema):
    """The exact-ID search, in a POST body: an ID number in a URL would be written in every
    access log on its way (issue 15)."""

    id_number = Text(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "按完整身份证号码（或20位残疾人证号码）精确查找；任何角色都可查，"
                       "返回结果仍按角色脱敏"})
