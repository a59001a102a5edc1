"""REST: ``GET /api/v1/error-codes``, the catalogue of codes (``server.domain.catalogue``).

Every code an answer, a rule, a submission's problem or an import report can carry, with its
HTTP status, category and Chinese message template, so a client can show or translate them
and tell them apart by code. It holds no personal data and answers without authentication
(a client may load it before its user logs in).
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server.domain.catalogue import Category, entries
from server.rest import PREFIX

bp = Blueprint("error_codes", __name__, url_prefix=f"{PREFIX}/error-codes",
               description="错误、规则和问题代码表（无需登录）")


class ErrorCodeSchema(Schema):
    code = fields.String(required=True, metadata={"description": "代码（稳定）"})
    status = fields.Integer(required=True, metadata={
        "description": "以该代码拒绝请求时的 HTTP 状态码"})
    category = fields.String(required=True, metadata={
        "enum": [c.value for c in Category],
        "description": "access 访问权限；request 请求本身；rule 业务规则拒绝；problem 提交或导入"
                       "行中的问题（随提交保存）；reason 无效的原因（在其他代码的说明中，details "
                       "给出其代码）；server 服务器错误"})
    message = fields.String(required=True, metadata={
        "description": "中文说明模板：{名称} 处填入该错误 details 中同名的值"})
    placeholders = fields.List(fields.String(), required=True, metadata={
        "description": "模板中的名称"})


class ErrorCodeQueryArgsSchema(Schema):
    category = fields.String(validate=validate.OneOf([c.value for c in Category]))


@bp.route("")
class ErrorCodes(MethodView):
    @bp.arguments(ErrorCodeQueryArgsSchema, location="query")
    @bp.response(200, ErrorCodeSchema(many=True))
    @bp.doc(security=[])
    def get(self, args):
        """代码表：每个代码的 HTTP 状态码、类别和中文说明模板（按类别可筛选）"""
        chosen = Category(args["category"]) if "category" in args else None
        return [{"code": code, "status": kind.status, "category": kind.category.value,
                 "message": kind.message, "placeholders": sorted(kind.placeholders)}
                for code, kind in entries(chosen)]
