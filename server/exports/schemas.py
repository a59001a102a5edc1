"""The arguments of an export (REST query string, console link, command line): one schema.

Loaded by ``server.exports.services.prepare`` itself, not by flask-smorest, so that a bad value
is refused alike everywhere with a catalogue code (``EXPORT_ARGUMENT_INVALID``, naming the
argument); ``ExportArgsSchema`` also documents the REST endpoint's query string.
"""

from __future__ import annotations

from datetime import date

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from server.domain import codes
from server.domain.datasets import (
    PROCEDURE_VALUES,
    STATUS_VALUES,
    STEP_VALUES,
    Format,
    Profile,
)
from server.rest import AREA_CODE


def _one_of(values) -> validate.OneOf:
    return validate.OneOf(list(values), error="应为以下之一：{choices}")


_DATE = {"invalid": "应为日期，如 2026-12-05"}
# Dates a filter may name: the registry's years, and far from the calendar's ends (a day is
# turned into a moment in Beijing and back to UTC, which 0001-01-01 cannot survive).
_YEARS = validate.Range(min=date(2000, 1, 1), max=date(2099, 12, 31),
                        error="应在 2000-01-01 至 2099-12-31 之间")
_FLAG = {"invalid": "应为 0 或 1"}


class FilterSchema(Schema):
    """Which rows: the filters of ``server.exports.queries``."""

    class Meta:
        unknown = RAISE

    area_code = fields.String(validate=AREA_CODE, metadata={
        "description": "区划代码（任一级，须在本辖区内）"})
    monitoring_type = fields.String(validate=_one_of(codes.MONITORING_TYPE.codes_list()),
                                    metadata={"description": "监测对象类型代码"})
    risk = fields.String(validate=_one_of(codes.NUMBERED_RISKS.codes_list()), metadata={
        "description": "返贫致贫风险编号 1–14（①–⑭，最新调查）"})
    procedure = fields.String(validate=_one_of(PROCEDURE_VALUES), metadata={
        "description": "程序：identification 识别，elimination 风险消除"})
    step = fields.String(validate=_one_of(STEP_VALUES), metadata={"description": "环节"})
    status = fields.String(validate=_one_of(STATUS_VALUES), metadata={
        "description": "状态：open 办理中，done 已办结，rejected 已驳回"})
    visit_from = fields.Date(error_messages=_DATE, validate=_YEARS, metadata={
        "description": "入户核实日期（或数据集自身日期：措施录入、评估）起，含"})
    visit_to = fields.Date(error_messages=_DATE, validate=_YEARS,
                         metadata={"description": "同上，止，含"})
    approved_from = fields.Date(error_messages=_DATE, validate=_YEARS, metadata={
        "description": "县级审定（办结）日期起，北京时间，含"})
    approved_to = fields.Date(error_messages=_DATE, validate=_YEARS,
                         metadata={"description": "同上，止，含"})
    objects = fields.Boolean(error_messages=_FLAG, metadata={
        "description": "1：仅当前监测对象；0 或不填：全部农户"})

    @validates_schema
    def _ranges(self, data, **kwargs):
        for start, end in (("visit_from", "visit_to"), ("approved_from", "approved_to")):
            if start in data and end in data and data[start] > data[end]:
                raise ValidationError("起始日期晚于截止日期", start)


class ExportArgsSchema(FilterSchema):
    """The filters and how to write the file."""

    format = fields.String(load_default=Format.CSV.value,
                           validate=_one_of(f.value for f in Format),
                           metadata={"description": "csv（UTF-8 带 BOM）或 xlsx"})
    labels = fields.Boolean(load_default=False, error_messages=_FLAG, metadata={
        "description": "1：代码写成中文名称；0：写代码（国家系统）"})
    profile = fields.String(load_default=Profile.FULL.value,
                            validate=_one_of(p.value for p in Profile), metadata={
                                "description": "full 完整；national 国家系统（无仅纸质归档字段）"})
    full = fields.Boolean(load_default=False, error_messages=_FLAG, metadata={
        "description": "1：完整身份证号码和电话（仅县级、管理员；记入审计日志）"})


FILTER_KEYS = tuple(FilterSchema().fields)
