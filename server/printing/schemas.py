"""Query arguments of the printed forms."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validates_schema

from server.rest import AREA_CODE


class PrintArgsSchema(Schema):
    full = fields.Boolean(load_default=False, metadata={
        "description": "打印完整身份证号码和电话（仅县级、管理员；记入审计日志）；默认隐藏中间位"})


class AreaPrintArgsSchema(PrintArgsSchema):
    from_ = fields.Date(data_key="from", load_default=None, metadata={
        "description": "期间起（含）：附件4 为公示期间，附件3/附件5 为案件办理期间"})
    to = fields.Date(load_default=None, metadata={"description": "期间止（含）"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data["from_"] and data["to"] and data["from_"] > data["to"]:
            raise ValidationError("期间起不能晚于期间止", "from")


class BlankPrintArgsSchema(Schema):
    area = fields.String(load_default=None, validate=AREA_CODE, metadata={
        "description": "填入表头的区划（村或村民小组），可不填"})
